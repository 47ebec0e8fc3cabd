"""Checking programs against demonstrations (batched, in the kernels) and filling holes.

``check_demo`` is what ``metarlm check`` and the search call: it fills the holes of a
sketch (``metarlm.exec.holes``, Z3) and reports each example. ``run_many`` evaluates one
program on many inputs (``metarlm.exec.run``, re-exported here); ``check_batch`` gives one
verdict per candidate program and ``check_token_batch`` one per row of decoder ids (the
search's hot path). All three run in the Numba kernels, which agree with the reference
interpreter (``metarlm.lang.interp``) on every program and input; integer-algebra sketches go
through the reference's symbolic path, and a sketch's verdict says whether some filling of
its holes reproduces every example.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from metarlm.exec.compile import (
    NEEDS_REFERENCE,
    VALID,
    RowCache,
    SymbolTable,
    lower_programs,
    lower_token_ids,
    slot_map,
)
from metarlm.exec.pack import (
    PackedExamples,
    kernel_verdicts,
    lowered_verdicts,
    pack_examples,
    pack_flat,
    pack_words,
    parallel_chunks,
)
from metarlm.exec.run import kernel_run, no_gc, run_many
from metarlm.kernels import layout
from metarlm.lang.demo import Demo, Example, Output
from metarlm.lang.dsl import Program
from metarlm.lang.interp import (
    DEFAULT_FUEL,
    MAX_OUTPUT,
    Fail,
    Ok,
    Result,
    evaluate,
)


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


def _fills(program: Program, examples: Sequence[Example], fuel: int, max_output: int) -> bool:
    """Whether some filling of the sketch's holes reproduces every example."""
    from metarlm.exec.holes import fill_holes

    return fill_holes(program, examples, fuel=fuel, max_output=max_output) is not None


def check_batch(programs: Sequence[Program], examples: Sequence[Example],
                fuel: int = DEFAULT_FUEL, max_output: int = MAX_OUTPUT) -> list[bool]:
    """One verdict per program: does it (some filling of its holes) reproduce every example?"""
    verdicts = [False] * len(programs)
    for algebra in ("seq", "int"):
        where = [k for k, p in enumerate(programs) if p.algebra == algebra]
        if not where:
            continue
        lowered, packed, verdict = lowered_verdicts([programs[k] for k in where], examples,
                                                    algebra, fuel, max_output)
        for n, k in enumerate(where):
            sketch = lowered.status[n] == NEEDS_REFERENCE or (
                verdict[n] and lowered.code[n, layout.ROW_HOLES] > 0)
            verdicts[k] = bool(verdict[n])
            if sketch and packed.possible:
                verdicts[k] = _fills(programs[k], examples, fuel, max_output)
    return verdicts


class _SketchLane:
    """One example set's symbol table, packed examples and lowered rules, kept across the
    search's ``fillable`` calls: every sketch repeats the background and the state's rules."""

    def __init__(self, examples: Sequence[Example]) -> None:
        symbols = SymbolTable()
        self.packed = pack_examples(examples, "seq", symbols)
        self.rows = RowCache("seq", symbols)


_LANES: dict[tuple[Example, ...], _SketchLane] = {}
LANES_LIMIT = 16  # example sets whose lanes are kept (a search poses a few at a time)


def _lane(examples: Sequence[Example]) -> _SketchLane:
    key = tuple(examples)
    lane = _LANES.pop(key, None)
    if lane is None:
        lane = _SketchLane(key)
        if len(_LANES) >= LANES_LIMIT:
            del _LANES[next(iter(_LANES))]  # the least recently used
    _LANES[key] = lane
    return lane


def fillable(sketches: Sequence[Program], examples: Sequence[Example],
             fuel: int = DEFAULT_FUEL, max_output: int = MAX_OUTPUT) -> list[bool]:
    """Per sketch, False where no filling of its holes can reproduce every example, as the
    kernels show with each sequence hole one token bound alike on every example; True
    otherwise (a necessary condition for ``fill_all``; integer sketches always pass)."""
    out = [True] * len(sketches)
    where = [k for k, p in enumerate(sketches) if p.algebra == "seq"]
    if not where or not examples:
        return out
    lane = _lane(examples)
    lowered = lane.rows.lower([sketches[k] for k in where])
    verdict = kernel_verdicts(lowered.code, lowered.status, lane.packed, "seq", fuel,
                              max_output)
    for n, k in enumerate(where):
        if lowered.status[n] == VALID:  # malformed rows are the reference's to judge
            out[k] = bool(verdict[n])
    return out


def example_verdicts(programs: Sequence[Program], examples: Sequence[Example],
                     fuel: int = DEFAULT_FUEL, max_output: int = MAX_OUTPUT) -> np.ndarray:
    """A (programs, examples) boolean matrix: does program p reproduce example e?

    Hole-free programs of one algebra are lowered once and checked example by example in the
    kernels; others (sketches, mixed algebras) go through the reference interpreter.
    """
    out = np.zeros((len(programs), len(examples)), dtype=np.bool_)
    algebras = {p.algebra for p in programs}
    if not programs or not examples or len(algebras) != 1:
        return _reference_verdicts(programs, examples, fuel, max_output, out)
    algebra = algebras.pop()
    symbols = SymbolTable()
    packs = [pack_examples([e], algebra, symbols) for e in examples]
    lowered = lower_programs(programs, symbols)
    for k, packed in enumerate(packs):
        out[:, k] = kernel_verdicts(lowered.code, lowered.status, packed, algebra, fuel, max_output)
    odd = np.flatnonzero((lowered.status != VALID) | (lowered.code[:, layout.ROW_HOLES] > 0))
    for n in odd.tolist():
        out[n] = [matches(evaluate(programs[n], e.input, fuel, max_output), e.output)
                  for e in examples]
    return out


def _reference_verdicts(programs: Sequence[Program], examples: Sequence[Example], fuel: int,
                        max_output: int, out: np.ndarray) -> np.ndarray:
    for n, program in enumerate(programs):
        out[n] = [matches(evaluate(program, e.input, fuel, max_output), e.output)
                  for e in examples]
    return out


def check_token_batch(ids: np.ndarray, words: Sequence[str], tokens: Sequence[str],
                      examples: Sequence[Example], algebra: str = "seq",
                      fuel: int = DEFAULT_FUEL, max_output: int = MAX_OUTPUT) -> np.ndarray:
    """Verdicts for a (batch, length) array of decoder ids, slot i meaning words[i] or
    tokens[i]; malformed rows are False, sketches pass when some filling reproduces."""
    symbols = SymbolTable()
    packed = pack_examples(examples, algebra, symbols)
    ids = np.atleast_2d(np.asarray(ids, dtype=np.int64))
    lowered = lower_token_ids(ids, slot_map(words, symbols), slot_map(tokens, symbols), algebra,
                              parallel_chunks(len(ids)))
    verdict = kernel_verdicts(lowered.code, lowered.status, packed, algebra, fuel, max_output)
    if not packed.possible:
        return verdict
    sketches = np.flatnonzero((lowered.status == NEEDS_REFERENCE)
                              | (verdict & (lowered.code[:, layout.ROW_HOLES] > 0)))
    if len(sketches):
        from metarlm.neural.tokens import decode_program

        for k in sketches.tolist():
            program = decode_program(ids[k], words, tokens, algebra)
            verdict[k] = _fills(program, examples, fuel, max_output)
    return verdict


def check_demo(program: Program, demo: Demo, fuel: int = DEFAULT_FUEL,
               max_output: int = MAX_OUTPUT) -> CheckReport:
    """Check a program (background rules first) on every example, filling holes if any."""
    full = demo.background + program if demo.background is not None else program
    filled, note = False, ""
    if full.holes():
        from metarlm.exec.holes import fill_holes

        solved = fill_holes(full, demo.examples, fuel=fuel, max_output=max_output)
        if solved is None:
            note = "no assignment of the holes reproduces every example"
        else:
            full, filled = solved, True
    results = run_many(full, [e.input for e in demo.examples], fuel, max_output)
    checks = tuple(ExampleCheck(e, r, matches(r, e.output)) for e, r in zip(demo.examples, results))
    return CheckReport(full, checks, filled, note)


__all__ = ["CheckReport", "ExampleCheck", "Fail", "Ok", "PackedExamples", "check_batch",
           "check_demo", "check_token_batch", "example_verdicts", "fillable", "kernel_run",
           "matches", "no_gc", "pack_examples", "pack_flat", "pack_words", "run_many"]
