"""Running one program on many inputs in the kernels: ``run_many`` and its parts.

``kernel_run`` lowers the program once, packs the inputs flat and runs them in one kernel
call (in parallel chunks when there are many), then makes one ``Ok`` per distinct output;
``run_many`` falls back to the reference interpreter for what the kernels do not take
(integer holes, malformed programs). Sequence holes come back as ``Hole`` items in the
output, as the reference gives them, which is what hole filling reads.
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from itertools import repeat

import numpy as np

from metarlm.exec.compile import VALID, SymbolTable, kernels, lower_programs
from metarlm.exec.pack import kernel_limits, pack_flat, parallel_chunks
from metarlm.kernels import layout
from metarlm.lang import interp
from metarlm.lang.dsl import Hole, Program
from metarlm.lang.interp import DEFAULT_FUEL, MAX_OUTPUT, NO_RULE, Fail, Ok, Result, evaluate

_REASONS = {layout.NO_RULE: NO_RULE, layout.FUEL: interp.FUEL, layout.TOO_LONG: interp.TOO_LONG,
            layout.OVERFLOW: interp.OVERFLOW, layout.EMPTY: interp.EMPTY}


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
