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

Each lane searches in a scope of its own: its own count of what it spends (``Budget``, with
the run's clock and candidate budget; the turns stop when the lanes together have spent the
budget) and its own solver scope (``metarlm.exec.holes.open_scope``: remembered fillings and
a Z3 context). So a lane's steps depend on nothing the other lane does, which is what lets
``metarlm.synth.parallel`` run the guided lane in a second process and replay the same turns.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from metarlm.exec.holes import open_scope
from metarlm.lang.dsl import Program, Rule
from metarlm.synth.core import Search
from metarlm.types import Budget, SearchSettings


@dataclass
class Lane:
    """One search taking turns: what it has spent, and whether it has ended."""

    name: str
    make: Callable[[Budget], Search | None]  # the search on the lane's budget, at its first turn
    search: Search | None = None
    steps: Iterator[Program | None] | None = None
    ended: bool = False
    candidates: int = 0  # of the budget's, this lane's (its systematic lane's included)
    model_calls: int = 0
    z3_calls: int = 0
    seconds: float = 0.0  # wall time of its turns (the first includes waiting for a load)
    head_start: int = 0  # what the lane counts as spent before its first turn (a late start)
    own: Budget | None = None  # the lane's own account, on the run's clock
    context: contextvars.Context = field(default_factory=contextvars.copy_context)

    def __post_init__(self) -> None:
        self.context.run(open_scope)

    @property
    def unchecked(self) -> int:
        """Rule lists the lane's search made and left unchecked."""
        return self.search.unchecked if self.search is not None else 0

    @property
    def started(self) -> bool:
        """Whether the lane's search was made (it is not, when the policy never loaded)."""
        return self.search is not None

    @property
    def stopped(self) -> str | None:
        """Why the lane's search ended, if it said."""
        return self.search.stopped if self.search is not None else None

    def origins(self, learned: tuple[Rule, ...]) -> dict[Rule, str]:
        """Where each of a found program's learned rules came from."""
        assert self.search is not None
        return self.search.origins(learned)

    def spent(self, model_call_cost: int) -> int:
        """Rule lists made, checked or not, plus ``model_call_cost`` per forward pass, plus
        the lane's head start."""
        return (self.head_start + self.candidates + self.unchecked
                + model_call_cost * self.model_calls)

    def step(self, budget: Budget) -> Program | None:
        """One expansion (or one program found); ``ended`` when the search has ended. What it
        spends is counted on the lane and added to ``budget``, the run's."""
        if self.own is None:
            self.own = budget.account()
        start = time.monotonic()
        try:
            return self.context.run(self._step)
        finally:
            self.seconds += time.monotonic() - start
            own = self.own
            self.settle(budget, own.candidates, own.model_calls, own.z3_calls)

    def _step(self) -> Program | None:
        assert self.own is not None
        try:
            if self.steps is None:
                self.search = self.make(self.own)
                if self.search is None:  # the policy did not load within the time limit
                    self.ended = True
                    return None
                self.steps = self.search.steps()
            return next(self.steps)
        except StopIteration:
            self.ended = True
            return None

    def settle(self, budget: Budget, candidates: int, model_calls: int, z3_calls: int) -> None:
        """The lane's counts are now these: what they grew by is added to ``budget``, the
        run's."""
        budget.candidates += candidates - self.candidates
        budget.model_calls += model_calls - self.model_calls
        budget.z3_calls += z3_calls - self.z3_calls
        self.candidates, self.model_calls, self.z3_calls = candidates, model_calls, z3_calls

    def report(self) -> dict[str, float]:
        """What the lane spent, for the result's ``costs``."""
        return {"candidates": self.candidates, "unchecked": self.unchecked,
                "model_calls": self.model_calls, "seconds": round(self.seconds, 4)}


def in_turns(lanes: list[Lane], budget: Budget,
             model_call_cost: int = SearchSettings.model_call_cost,
             between: Callable[[list[Lane], Budget], None] | None = None
             ) -> Iterator[tuple[Lane, Program]]:
    """Consistent programs from the lanes in turn, each with its lane, until one lane's search
    ends or the budget is spent; the lane that has spent least goes next (the first on ties).

    The first search to end decides, as it would alone: its beams spent after finding programs,
    or its space exhausted. A lane that never started (the policy did not load in time) leaves
    the others to go on. ``between``, if given, is called after every step and may replace
    lanes in the list by others that go on from the same step (``metarlm.synth.parallel``).
    """
    while not budget.exhausted():
        open_lanes = [lane for lane in lanes if not lane.ended]
        if not open_lanes:
            return
        lane = min(open_lanes, key=lambda la: la.spent(model_call_cost))
        program = lane.step(budget)
        if between is not None:
            between(lanes, budget)
        if program is not None:
            yield lane, program
        if lane.ended and lane.started:
            return
