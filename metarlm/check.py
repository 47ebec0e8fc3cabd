"""Checking programs against demonstrations (batched, in the kernels) and filling holes.

``check_demo`` is what ``metarlm check`` and the search call: it fills the holes of a
sketch (``metarlm.holes``, Z3) and reports each example. ``run_many`` evaluates one program
on many inputs; ``check_batch`` gives one verdict per candidate program.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from metarlm.demo import Demo, Example, Output
from metarlm.dsl import Program
from metarlm.interp import DEFAULT_FUEL, MAX_OUTPUT, Fail, Ok, Result, evaluate


@dataclass(frozen=True)
class ExampleCheck:
    """One example's verdict: what the program produced and whether it matches."""

    example: Example
    result: Result
    ok: bool


@dataclass(frozen=True)
class CheckReport:
    """The verdict of a program on a demonstration (after hole filling, if any)."""

    program: Program
    examples: tuple[ExampleCheck, ...]
    filled: bool = False
    note: str = ""

    @property
    def ok(self) -> bool:
        return all(e.ok for e in self.examples) and not self.note


def matches(result: Result, expected: Output) -> bool:
    """Whether an evaluation result equals an expected output."""
    return isinstance(result, Ok) and result.value == expected


def run_many(program: Program, inputs: Sequence[Sequence[str]], fuel: int = DEFAULT_FUEL,
             max_output: int = MAX_OUTPUT) -> list[Result]:
    """Evaluate one program on many inputs (one Result per input, in order)."""
    return [evaluate(program, words, fuel, max_output) for words in inputs]


def check_batch(programs: Sequence[Program], examples: Sequence[Example],
                fuel: int = DEFAULT_FUEL, max_output: int = MAX_OUTPUT) -> list[bool]:
    """One verdict per program: does it reproduce every example?"""
    return [all(matches(evaluate(p, e.input, fuel, max_output), e.output) for e in examples)
            for p in programs]


def check_demo(program: Program, demo: Demo, fuel: int = DEFAULT_FUEL,
               max_output: int = MAX_OUTPUT) -> CheckReport:
    """Check a program (background rules first) on every example, filling holes if any."""
    full = demo.background + program if demo.background is not None else program
    filled, note = False, ""
    if full.holes():
        from metarlm.holes import fill_holes

        solved = fill_holes(full, demo.examples, fuel=fuel, max_output=max_output)
        if solved is None:
            note = "no assignment of the holes reproduces every example"
        else:
            full, filled = solved, True
    results = run_many(full, [e.input for e in demo.examples], fuel, max_output)
    checks = tuple(ExampleCheck(e, r, matches(r, e.output)) for e, r in zip(demo.examples, results))
    return CheckReport(full, checks, filled, note)


__all__ = ["CheckReport", "ExampleCheck", "Fail", "Ok", "check_batch", "check_demo",
           "matches", "run_many"]
