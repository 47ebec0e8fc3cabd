"""Lower programs to the kernels' flat rows (layout in ``metarlm.kernels.layout``).

Two roads lead to the same rows: ``lower_programs`` walks Program ASTs in Python, and
``lower_token_ids`` lowers decoder id sequences inside Numba given the episode's slot maps.
A ``SymbolTable`` gives words and output tokens one id space, so a copied word equals the
output token of the same text.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from metarlm.kernels.layout import (
    INT_CLAMP,
    INVALID,
    L_U,
    L_WORD,
    L_X,
    L_Y,
    NEEDS_REFERENCE,
    R_CALL,
    R_CONST,
    R_COPY,
    R_HOLE,
    R_TOKEN,
    VALID,
)
from metarlm.lang.dsl import Call, Const, Copy, Hole, Program, Rule, Token, Var, Word

_VAR_KIND = {"u": L_U, "x": L_X, "y": L_Y}


class SymbolTable:
    """Interns strings as consecutive ids from 0 (words and tokens share the space)."""

    def __init__(self, texts: Iterable[str] = ()) -> None:
        self._ids: dict[str, int] = {}
        self.texts: list[str] = []
        for text in texts:
            self.intern(text)

    def __len__(self) -> int:
        return len(self.texts)

    def intern(self, text: str) -> int:
        """The id of text, adding it if new."""
        sid = self._ids.get(text)
        if sid is None:
            sid = self._ids[text] = len(self.texts)
            self.texts.append(text)
        return sid

    def ids(self, texts: Iterable[str]) -> list[int]:
        """The ids of several strings, adding the new ones."""
        ids = self._ids
        return [ids[t] if t in ids else self.intern(t) for t in texts]


@dataclass(frozen=True)
class Lowered:
    """A batch of lowered programs: ``code`` rows and one status per row."""

    code: np.ndarray  # (n, width) int64
    status: np.ndarray  # (n,) int64: VALID, INVALID or NEEDS_REFERENCE


class _Malformed(Exception):
    """Internal: the AST is not a program of its algebra (never escapes this module)."""


def _clamp(value: int) -> int:
    return max(-INT_CLAMP, min(INT_CLAMP, value))


def _integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Malformed
    return value


def _lhs(rule: Rule, symbols: SymbolTable) -> tuple[list[int], dict[Var, int]]:
    items: list[int] = []
    where: dict[Var, int] = {}
    for k, item in enumerate(rule.lhs):
        if isinstance(item, Word):
            items += [L_WORD, symbols.intern(item.text), 0]
        elif isinstance(item, Var) and item.kind in _VAR_KIND and item not in where:
            where[item] = k
            items += [_VAR_KIND[item.kind], 0, 0]
        else:  # an unknown item or a variable met twice
            raise _Malformed
    need = 0
    for k in range(len(rule.lhs) - 1, -1, -1):
        items[3 * k + 2] = need
        need += 0 if items[3 * k] == L_Y else 1
    return items, where


def _rhs_item(item: object, algebra: str, where: dict[Var, int],
              symbols: SymbolTable) -> tuple[int, int, int, bool]:
    """(kind, arg, scale, is an integer hole) of one right-hand item."""
    var = getattr(item, "var", None)
    if var is not None and var not in where:
        raise _Malformed
    if isinstance(item, Hole):
        if item.index < 0:  # its marker would read as a symbol
            raise _Malformed
        return R_HOLE, item.index, 1, algebra == "int"
    if isinstance(item, Call):
        if algebra == "seq" and item.scale != 1:
            raise _Malformed
        if isinstance(item.scale, Hole):  # the row of an integer sketch is never run
            return R_CALL, where[item.var], 1, True
        return R_CALL, where[item.var], _clamp(_integer(item.scale)), False
    if algebra == "int" and isinstance(item, Const):
        return R_CONST, _clamp(_integer(item.value)), 1, False
    if algebra == "seq" and isinstance(item, Token):
        return R_TOKEN, symbols.intern(item.text), 1, False
    if algebra == "seq" and isinstance(item, Copy):
        return R_COPY, where[item.var], 1, False
    raise _Malformed


def _rule(rule: Rule, algebra: str, symbols: SymbolTable) -> tuple[list[int], bool]:
    """A rule's ints and whether it has an integer hole."""
    if not rule.lhs:
        raise _Malformed
    lhs, where = _lhs(rule, symbols)
    rhs: list[int] = []
    calls: list[int] = []
    int_hole = False
    for item in rule.rhs:
        kind, arg, scale, hole = _rhs_item(item, algebra, where, symbols)
        int_hole |= hole
        if kind == R_CALL and not hole and arg not in calls:
            calls.append(arg)
        rhs += [kind, arg, scale]
    return [len(rule.lhs), len(rule.rhs), len(calls), 0, *lhs, *rhs, *calls], int_hole


def lower_program(program: Program, symbols: SymbolTable) -> tuple[list[int], int]:
    """One program's row (unpadded) and status; words and tokens are interned in symbols."""
    try:
        if program.algebra not in ("seq", "int"):
            raise _Malformed
        parts = [_rule(rule, program.algebra, symbols) for rule in program.rules]
    except _Malformed:
        return [0, 0, 0], INVALID
    holes = [h.index for r in program.rules for it in r.rhs
             for h in (it, getattr(it, "scale", None)) if isinstance(h, Hole)]
    max_lhs = max((len(r.lhs) for r in program.rules), default=0)
    row = [len(program.rules), max_lhs, max(holes, default=-1) + 1]
    for ints, _ in parts:
        row += ints
    status = NEEDS_REFERENCE if any(h for _, h in parts) else VALID
    return row, status


def lower_programs(programs: Sequence[Program], symbols: SymbolTable,
                   width: int = 0) -> Lowered:
    """Rows for many programs, zero padded to at least ``width``."""
    rows = [lower_program(p, symbols) for p in programs]
    width = max([width, 3] + [len(r) for r, _ in rows])
    code = np.zeros((len(rows), width), dtype=np.int64)
    for k, (row, _) in enumerate(rows):
        code[k, : len(row)] = row
    return Lowered(code, np.array([s for _, s in rows], dtype=np.int64))


def slot_map(slots: Sequence[str], symbols: SymbolTable) -> np.ndarray:
    """Slot index -> symbol id, interning each slot's string; an empty string (an unused
    slot) maps to -1, which makes a program that uses the slot INVALID."""
    return np.array([symbols.intern(s) if s else -1 for s in slots], dtype=np.int64).reshape(-1)


COMPILE_NOTICE = "compiling the interpreter kernels (first run only, about 20 s)…"
_ENTRY_POINTS = ("run_chunk", "check_chunk")  # the batch kernels every command calls first


@functools.cache
def kernels() -> tuple[ModuleType, ModuleType]:
    """The kernel modules (lower, batch), first dropping cached code compiled from older
    sources (Numba does not notice a change in another file); says on stderr when the code
    is about to be compiled, since that takes a while and prints nothing itself."""
    from metarlm.kernels import batch, lower, machine

    cold = cold_cache(batch)
    if cold:
        print(COMPILE_NOTICE, file=sys.stderr, flush=True)
    stale = stale_kernels((machine, lower, batch))
    if stale and not cold:
        print(COMPILE_NOTICE, file=sys.stderr, flush=True)
    for module in stale:
        _drop_cache(module)
    return lower, batch


def cold_cache(batch: ModuleType) -> bool:
    """Whether Numba has no up-to-date cache index for any batch entry point: the first run
    after an install (an index older than its source file is one Numba will not use)."""
    try:
        source = Path(batch.__file__).stat().st_mtime
        indexes = [Path(getattr(batch, name)._cache._cache_file._index_path)
                   for name in _ENTRY_POINTS]
        return not any(p.is_file() and p.stat().st_mtime >= source for p in indexes)
    except (AttributeError, OSError, TypeError):  # another Numba's internals: stay quiet
        return False


def stale_kernels(modules: Iterable[ModuleType]) -> list[ModuleType]:
    """The kernel modules whose cached code was compiled under another source stamp."""
    from metarlm.kernels.layout import STAMP

    return [m for m in modules if m.compiled_stamp() != STAMP]


def _drop_cache(module: ModuleType) -> None:
    from numba.core.dispatcher import Dispatcher

    for obj in vars(module).values():
        if isinstance(obj, Dispatcher):
            obj._cache.flush()  # the next call compiles afresh and caches the new code
    module.compiled_stamp.recompile()


def lower_token_ids(ids: np.ndarray, word_map: np.ndarray, token_map: np.ndarray,
                    algebra: str, chunks: int = 0) -> Lowered:
    """Rows for a (batch, length) array of decoder ids; INVALID rows are malformed.

    Only the ints a row uses are written (compare rows by their used prefix); ``chunks`` > 0
    lowers in that many parallel chunks.
    """
    lower = kernels()[0]
    ids = np.ascontiguousarray(np.atleast_2d(ids), dtype=np.int64)
    code = np.empty((ids.shape[0], lower.row_width(ids)), dtype=np.int64)
    status = np.empty(ids.shape[0], dtype=np.int64)
    args = (ids, np.ascontiguousarray(word_map, dtype=np.int64),
            np.ascontiguousarray(token_map, dtype=np.int64), algebra == "int", code, status)
    if chunks:
        lower.lower_parallel(*args, chunks)
    else:
        lower.lower_chunk(*args, 0, ids.shape[0])
    return Lowered(code, status)


__all__ = ["INVALID", "NEEDS_REFERENCE", "VALID", "Lowered", "SymbolTable", "kernels",
           "lower_program", "lower_programs", "lower_token_ids", "slot_map", "stale_kernels"]
