"""Checking the search's candidates: a parent rule list plus one new rule, on one demonstration.

The search core asks two things of a checker (``DemoChecker``): the outcome of whole rule lists
(``check``) and the outcomes of children that insert one rule into a parent whose outcome is
known (``extend``). An ``Outcome`` is each example's value under the program (None where it
fails), from which the verdicts follow: right, wrong value, no value. Programs are the
background rules followed by the learned ones; candidates carry no holes (generators fill them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from metarlm.lang.demo import Example, Output
from metarlm.lang.dsl import Program, Rule
from metarlm.lang.interp import DEFAULT_FUEL, MAX_OUTPUT, Ok

RIGHT, WRONG, NONE = 1, -1, 0  # verdicts: the expected output, another value, no value


@dataclass(frozen=True)
class Outcome:
    """Each example's value under a program (None where the program fails on it)."""

    values: tuple[Output | None, ...]
    verdicts: tuple[int, ...]  # RIGHT, WRONG or NONE per example

    @property
    def right(self) -> int:
        """How many examples the program reproduces."""
        return sum(v == RIGHT for v in self.verdicts)

    @property
    def wrong(self) -> int:
        """How many examples the program gives a value other than their output."""
        return sum(v == WRONG for v in self.verdicts)

    @property
    def complete(self) -> bool:
        """Whether the program reproduces every example."""
        return all(v == RIGHT for v in self.verdicts)


def outcome(values: Sequence[Output | None], examples: Sequence[Example]) -> Outcome:
    """The outcome of these per-example values."""
    verdicts = tuple(NONE if v is None else RIGHT if v == e.output else WRONG
                     for v, e in zip(values, examples))
    return Outcome(tuple(values), verdicts)


class DemoChecker:
    """Outcomes of rule lists (after a fixed background) on one demonstration's examples."""

    def __init__(self, examples: Sequence[Example], background: Program, fuel: int = DEFAULT_FUEL,
                 max_output: int = MAX_OUTPUT) -> None:
        self.examples = tuple(examples)
        self.background = background
        self.fuel, self.max_output = fuel, max_output
        self.inputs = [e.input for e in self.examples]

    def program(self, learned: Sequence[Rule]) -> Program:
        """The background followed by ``learned``."""
        return Program(self.background.rules + tuple(learned), self.background.algebra)

    def check(self, learned_lists: Sequence[tuple[Rule, ...]]) -> list[Outcome]:
        """The outcome of each rule list."""
        from metarlm.exec.check import run_many

        out = []
        for learned in learned_lists:
            results = run_many(self.program(learned), self.inputs, self.fuel, self.max_output)
            out.append(outcome([r.value if isinstance(r, Ok) else None for r in results],
                               self.examples))
        return out

    def extend(self, parent: tuple[Rule, ...], known: Outcome,
               children: Sequence[tuple[int, Rule]]) -> list[Outcome]:
        """Outcomes of ``parent`` with each (position, rule) inserted into it."""
        del known  # this checker reruns every example
        return self.check([parent[:pos] + (rule,) + parent[pos:] for pos, rule in children])
