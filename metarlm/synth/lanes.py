"""Two searches in turn over one budget: the guided search beside the unguided one.

The policy pays for itself only where its ordering finds a program in fewer checks than the
unguided search would; where it does not, the user should wait no longer than for the
unguided search. So both run, in turns taken at expansions: the lane that has spent less goes
next, where a lane's spending is the rule lists it made (checked or not: a guided expansion
checks its best few) plus ``model_call_cost`` for every forward pass of the policy (a pass
costs about as much time as making and checking that many lists on the 2-core reference
machine; ``benchmarks/lanes.py`` measures it). The
unguided lane starts at once, while the policy loads; the guided one waits for the load at
its first turn. Turns depend on counts, never on the clock, so the same seed gives the same
result. The turns end when either search ends, as it would have alone (its beams spent after
finding programs, or its space exhausted). The consistent programs of both lanes are pooled,
for the policy to rank.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from metarlm.lang.dsl import Program
from metarlm.synth.core import Search
from metarlm.types import Budget

MODEL_CALL_COST = 100  # candidates' worth of time one forward pass of the policy takes


@dataclass
class Lane:
    """One search taking turns: what it has spent, and whether it has ended."""

    name: str
    make: Callable[[], Search | None]  # the search, made at the lane's first turn
    search: Search | None = None
    steps: Iterator[Program | None] | None = None
    spent: int = 0  # candidates plus model_call_cost per forward pass
    ended: bool = False
    candidates: int = 0
    unchecked: int = 0  # rule lists it made and left unchecked
    model_calls: int = 0
    seconds: float = 0.0  # wall time of its turns (the first includes waiting for a load)

    def step(self, budget: Budget, model_call_cost: int) -> Program | None:
        """One expansion (or one program found); ``ended`` when the search has ended."""
        start, candidates, calls = time.monotonic(), budget.candidates, budget.model_calls
        unchecked = self.search.unchecked if self.search is not None else 0
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
            made = (self.search.unchecked if self.search is not None else 0) - unchecked
            self.unchecked += made
            self.spent += (budget.candidates - candidates + made
                           + model_call_cost * (budget.model_calls - calls))
            self.seconds += time.monotonic() - start

    def report(self) -> dict[str, float]:
        """What the lane spent, for the result's ``costs``."""
        return {"candidates": self.candidates, "unchecked": self.unchecked,
                "model_calls": self.model_calls, "seconds": round(self.seconds, 4)}


def in_turns(lanes: list[Lane], budget: Budget,
             model_call_cost: int = MODEL_CALL_COST) -> Iterator[tuple[Lane, Program]]:
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
        lane = min(open_lanes, key=lambda la: la.spent)
        program = lane.step(budget, model_call_cost)
        if program is not None:
            yield lane, program
        if lane.ended and lane.search is not None:
            return
