"""Two searches in turn over one budget: the guided search beside the unguided one.

The policy pays for itself only where its ordering finds a program in fewer checks than the
unguided search would; where it does not, the user should wait no longer than for the
unguided search. So both run, in turns taken at expansions: the lane that has spent less goes
next, where a lane's spending is the rule lists it made (checked or not: a guided expansion
checks its best few) plus ``model_call_cost`` for every forward pass of the policy (a pass
costs about as much time as making and checking that many lists on the 2-core reference
machine; ``benchmarks/lanes.py`` measures it). The unguided lane starts at once, while the
policy loads; the guided one waits for the load at its first turn (and, given a head start
``SearchSettings.guided_delay``, counts it as spent, so the unguided lane goes alone that
far; off by default: RESULTS.md says what it costs). Turns depend on counts,
never on the clock, so the same seed gives the same result. The turns end when either search
ends, as it would have alone (its beams spent after finding programs, or its space
exhausted). The consistent programs of both lanes are pooled, for the policy to rank.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from metarlm.lang.dsl import Program
from metarlm.synth.core import Search
from metarlm.types import Budget, SearchSettings


@dataclass
class Lane:
    """One search taking turns: what it has spent, and whether it has ended."""

    name: str
    make: Callable[[], Search | None]  # the search, made at the lane's first turn
    search: Search | None = None
    steps: Iterator[Program | None] | None = None
    ended: bool = False
    candidates: int = 0  # of the budget's, this lane's (its systematic lane's included)
    model_calls: int = 0
    seconds: float = 0.0  # wall time of its turns (the first includes waiting for a load)
    head_start: int = 0  # what the lane counts as spent before its first turn (a late start)

    @property
    def unchecked(self) -> int:
        """Rule lists the lane's search made and left unchecked."""
        return self.search.unchecked if self.search is not None else 0

    def spent(self, model_call_cost: int) -> int:
        """Rule lists made, checked or not, plus ``model_call_cost`` per forward pass, plus
        the lane's head start."""
        return (self.head_start + self.candidates + self.unchecked
                + model_call_cost * self.model_calls)

    def step(self, budget: Budget) -> Program | None:
        """One expansion (or one program found); ``ended`` when the search has ended."""
        start, candidates, calls = time.monotonic(), budget.candidates, budget.model_calls
        try:
            if self.steps is None:
                self.search = self.make()
                if self.search is None:  # the policy did not load within the time limit
                    self.ended = True
                    return None
                self.steps = self.search.steps()
            return next(self.steps)
        except StopIteration:
            self.ended = True
            return None
        finally:
            self.candidates += budget.candidates - candidates
            self.model_calls += budget.model_calls - calls
            self.seconds += time.monotonic() - start

    def report(self) -> dict[str, float]:
        """What the lane spent, for the result's ``costs``."""
        return {"candidates": self.candidates, "unchecked": self.unchecked,
                "model_calls": self.model_calls, "seconds": round(self.seconds, 4)}


def in_turns(lanes: list[Lane], budget: Budget,
             model_call_cost: int = SearchSettings.model_call_cost
             ) -> Iterator[tuple[Lane, Program]]:
    """Consistent programs from the lanes in turn, each with its lane, until one lane's search
    ends or the budget is spent; the lane that has spent least goes next (the first on ties).

    The first search to end decides, as it would alone: its beams spent after finding programs,
    or its space exhausted. A lane that never started (the policy did not load in time) leaves
    the others to go on.
    """
    while not budget.exhausted():
        open_lanes = [lane for lane in lanes if not lane.ended]
        if not open_lanes:
            return
        lane = min(open_lanes, key=lambda la: la.spent(model_call_cost))
        program = lane.step(budget)
        if program is not None:
            yield lane, program
        if lane.ended and lane.search is not None:
            return
