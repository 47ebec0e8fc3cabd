"""Checking programs against demonstrations (batched, in the kernels) and filling holes.

``check_demo`` is what ``metarlm check`` and the search call: it fills the holes of a
sketch (``metarlm.exec.holes``, Z3) and reports each example. ``run_many`` evaluates one program
on many inputs; ``check_batch`` gives one verdict per candidate program and
``check_token_batch`` one per row of decoder ids (the search's hot path). All three run in
the Numba kernels, which agree with the reference interpreter (``metarlm.lang.interp``) on every
program and input; integer-algebra sketches go through the reference's symbolic path, and a
sketch's verdict says whether some filling of its holes reproduces every example.
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from itertools import repeat

import numpy as np

from metarlm.exec.compile import (
    NEEDS_REFERENCE,
    VALID,
    SymbolTable,
    kernels,
    lower_programs,
    lower_token_ids,
    slot_map,
)
from metarlm.exec.pack import (
    PackedExamples,
    kernel_limits,
    kernel_verdicts,
    lowered_verdicts,
    pack_examples,
    pack_flat,
    pack_words,
    parallel_chunks,
)
from metarlm.kernels import layout
from metarlm.lang.demo import Demo, Example, Output
from metarlm.lang.dsl import Hole, Program
from metarlm.lang.interp import (
    DEFAULT_FUEL,
    EMPTY,
    FUEL,
    MAX_OUTPUT,
    NO_RULE,
    OVERFLOW,
    TOO_LONG,
    Fail,
    Ok,
    Result,
    evaluate,
)

_REASONS = {layout.NO_RULE: NO_RULE, layout.FUEL: FUEL, layout.TOO_LONG: TOO_LONG,
            layout.OVERFLOW: OVERFLOW, layout.EMPTY: EMPTY}


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


def _names(symbols: SymbolTable, program: Program) -> list[str | Hole]:
    """Symbol id -> output item; a hole marker -1-h indexes from the end to Hole(h)."""
    holes = [h.index for r in program.rules for h in r.rhs if isinstance(h, Hole)]
    return [*symbols.texts, *(Hole(h) for h in range(max(holes, default=-1), -1, -1))]


def _fail(status: int, words: Sequence[str]) -> Fail:
    if status == layout.NO_RULE:
        return Fail(NO_RULE, f"no rule covers {' '.join(words)!r}")
    return Fail(_REASONS[status])


_new_ok, _set = Ok.__new__, object.__setattr__


def _oks(values: Sequence[object]) -> list[Ok]:
    """Ok(v) for each value, made as the dataclass's __init__ makes them (object.__setattr__
    on a new instance) but without calling it, in a third of the time: ``run_many`` makes
    one per distinct output."""
    if not _PLAIN_OK:
        return list(map(Ok, values))
    made = list(map(_new_ok, repeat(Ok, len(values))))
    # Ok has slots (no dict per instance for the garbage collector to walk), and
    # deque(..., maxlen=0) runs the map without a loop
    deque(map(_set, made, repeat("value"), values), maxlen=0)
    return made


# the shortcut holds while Ok's __init__ only sets its one field
_PLAIN_OK = [f.name for f in fields(Ok)] == ["value"] and not hasattr(Ok, "__post_init__")


@contextmanager
def no_gc() -> Iterator[None]:
    """The cyclic garbage collector paused: making many acyclic objects (one Result per
    input) otherwise sets off collections that walk every live object, often more than
    the objects cost."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _run_flat(code: np.ndarray, words: np.ndarray, starts: np.ndarray, limits: tuple,
              out: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """Run row 0 of code on every input (status, value or length, where the output begins
    into out); the tokens the outputs lie in."""
    batch = kernels()[1]
    n = len(starts) - 1
    tokens = np.empty(max(4096, 4 * len(words)), dtype=np.int64)
    args = (code, words, starts, *limits, *out)
    chunks = parallel_chunks(n)
    todo, top = [(0, n)], 0
    if chunks:
        stops = np.empty(chunks, dtype=np.int64)
        batch.run_flat_parallel(*args, tokens, chunks, stops)
        todo = [(stop, (c + 1) * n // chunks) for c, stop in enumerate(stops.tolist())
                if stop < (c + 1) * n // chunks]
        top = len(tokens)
    for lo, hi in todo:
        while lo < hi:
            if top >= len(tokens):
                tokens = _grown(tokens, 2 * len(tokens))
            lo, top = batch.run_flat(*args, tokens, lo, hi, top, len(tokens))
            if lo < hi:  # out[1][lo] is the length that did not fit
                tokens = _grown(tokens, 2 * len(tokens) + int(out[1][lo]))
    return tokens


def _grown(array: np.ndarray, size: int) -> np.ndarray:
    out = np.empty(size, dtype=array.dtype)
    out[: len(array)] = array
    return out


def _values(tokens: np.ndarray, ok: np.ndarray, value: np.ndarray, begin: np.ndarray,
            names: list[str | Hole] | None) -> list[Ok]:
    """An Ok per finished input (ok), in order; equal outputs share one (they are frozen):
    SCAN's 20,910 commands have 9,228 distinct outputs."""
    if names is None:  # the integer algebra
        return _oks(value[ok].tolist())
    group = np.empty(len(ok), dtype=np.int64)
    packed = np.empty(len(tokens), dtype=np.int64)
    bounds = np.empty(len(ok) + 1, dtype=np.int64)
    m = kernels()[1].distinct_outputs(tokens, begin, value, ok, group, packed, bounds)
    edges = bounds[: m + 1].tolist()
    # every distinct output's items in one tuple, made in C; slices of it are the outputs
    items = tuple(np.array(names, dtype=object)[packed[: edges[-1]]].tolist())
    made = _oks([items[a:b] for a, b in zip(edges, edges[1:])])
    return list(map(made.__getitem__, group[ok].tolist()))


def kernel_run(program: Program, inputs: Sequence[Sequence[str]], fuel: int = DEFAULT_FUEL,
               max_output: int = MAX_OUTPUT) -> list[Result]:
    """Evaluate one program on many inputs in the kernels; ValueError if it has integer
    holes or is malformed (those need the reference interpreter)."""
    symbols = SymbolTable()
    lowered = lower_programs([program], symbols)
    if lowered.status[0] != VALID:
        raise ValueError("the kernels take no integer holes and no malformed programs")
    n = len(inputs)
    words, starts = pack_flat(inputs, symbols)
    is_int = program.algebra == "int"
    out = (np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64))
    tokens = _run_flat(lowered.code, words, starts, (*kernel_limits(fuel, max_output), is_int), out)
    status, value, begin = out
    ok = status == layout.OK
    with no_gc():
        oks = _values(tokens, ok, value, begin, None if is_int else _names(symbols, program))
        if len(oks) == n:
            return oks
        found = iter(oks)
        return [next(found) if s == layout.OK else _fail(s, ws)
                for s, ws in zip(status.tolist(), inputs)]


def run_many(program: Program, inputs: Sequence[Sequence[str]], fuel: int = DEFAULT_FUEL,
             max_output: int = MAX_OUTPUT) -> list[Result]:
    """Evaluate one program on many inputs (one Result per input, in order)."""
    if not inputs:
        return []
    try:
        return kernel_run(program, inputs, fuel, max_output)
    except ValueError:
        return [evaluate(program, words, fuel, max_output) for words in inputs]


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


def fillable(sketches: Sequence[Program], examples: Sequence[Example],
             fuel: int = DEFAULT_FUEL, max_output: int = MAX_OUTPUT) -> list[bool]:
    """Per sketch, False where no filling of its holes can reproduce every example, as the
    kernels show with each sequence hole one token bound alike on every example; True
    otherwise (a necessary condition for ``fill_all``; integer sketches always pass)."""
    out = [True] * len(sketches)
    where = [k for k, p in enumerate(sketches) if p.algebra == "seq"]
    if not where or not examples:
        return out
    lowered, _, verdict = lowered_verdicts([sketches[k] for k in where], examples, "seq",
                                           fuel, max_output, shared=True)
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
           "matches", "pack_examples", "pack_flat", "pack_words", "run_many"]
