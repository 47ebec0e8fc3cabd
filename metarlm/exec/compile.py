"""Lower programs to the kernels' flat rows (layout in ``metarlm.kernels.layout``).

Two roads lead to the same rows: ``lower_programs`` walks Program ASTs in Python, and
``lower_token_ids`` lowers decoder id sequences inside Numba given the episode's slot maps.
A ``SymbolTable`` gives words and output tokens one id space, so a copied word equals the
output token of the same text.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
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

    def flat(self, seqs: Sequence[Sequence[str]], count: int) -> np.ndarray:
        """The ids of the ``count`` strings of seqs, in order, as one array (interning new
        ones, in sorted order)."""
        try:
            return np.fromiter(map(self._ids.__getitem__, chain.from_iterable(seqs)),
                               dtype=np.int64, count=count)
        except KeyError:
            for text in sorted(set(chain.from_iterable(seqs)).difference(self._ids)):
                self.intern(text)
            return self.flat(seqs, count)


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


RuleEntry = tuple[list[int], int, int]  # a rule's ints, VALID or NEEDS_REFERENCE, holes


def _rule_entry(rule: Rule, algebra: str, symbols: SymbolTable) -> RuleEntry | None:
    """One rule's ints, status (NEEDS_REFERENCE for an integer hole) and hole count (its
    largest hole index + 1); None when it is not a rule of its algebra."""
    ints = _plain_rule(rule, algebra == "int", symbols)
    if ints is not None:
        return ints, VALID, 0
    try:
        ints, int_hole = _rule(rule, algebra, symbols)
    except _Malformed:
        return None
    holes = max((h.index for it in rule.rhs for h in (it, getattr(it, "scale", None))
                 if isinstance(h, Hole)), default=-1) + 1
    return ints, NEEDS_REFERENCE if int_hole else VALID, holes


def lower_program(program: Program, symbols: SymbolTable) -> tuple[list[int], int]:
    """One program's row (unpadded) and status; words and tokens are interned in symbols."""
    try:
        if program.algebra not in ("seq", "int"):
            raise _Malformed
        row, is_int, max_lhs = [len(program.rules), 0, 0], program.algebra == "int", 0
        for rule in program.rules:  # the lean road while rules are plain and hole-free
            ints = _plain_rule(rule, is_int, symbols)  # interning as _rule would, up to a
            if ints is None:  # rule it cannot take
                break
            max_lhs = max(max_lhs, ints[0])
            row += ints
        else:
            row[1] = max_lhs
            return row, VALID
    except _Malformed:
        return [0, 0, 0], INVALID
    return _lower_rules(program, symbols)


def _lower_rules(program: Program, symbols: SymbolTable) -> tuple[list[int], int]:
    """``lower_program`` rule by rule, holes and malformed rules included."""
    return _extended([0, 0, 0], VALID, program.rules,
                     lambda rule: _rule_entry(rule, program.algebra, symbols))


def _extended(row: list[int], status: int, rules: Sequence[Rule],
              entry: Callable[[Rule], RuleEntry | None]) -> tuple[list[int], int]:
    """A row extended in place by the rules' entries; INVALID where a rule has none."""
    for rule in rules:
        found = entry(rule)
        if found is None:
            return [0, 0, 0], INVALID
        ints, st, holes = found
        row[0] += 1
        row[1] = max(row[1], ints[0])  # the longest left-hand side
        row[2] = max(row[2], holes)
        row += ints
        if st != VALID:
            status = st
    return row, status


def lower_rule(rule: Rule, algebra: str, symbols: SymbolTable) -> list[int] | None:
    """One hole-free rule's ints (layout's rule format, as ``lower_program`` writes them), or
    None when the rule has holes or is not a rule of its algebra (those go to the reference)."""
    entry = _rule_entry(rule, algebra, symbols) if algebra in ("seq", "int") else None
    return entry[0] if entry is not None and entry[2] == 0 else None


def _plain_rule(rule: Rule, is_int: bool, symbols: SymbolTable) -> list[int] | None:
    """``_rule``'s ints for a plain hole-free rule, else None (then ``_rule`` decides); the
    search lowers every rule it meets, so this is kept lean."""
    intern = symbols.intern
    lhs, rhs = rule.lhs, rule.rhs
    n = len(lhs)
    row = [n, len(rhs), 0, 0]
    where: dict[tuple[str, int], int] = {}
    for k, item in enumerate(lhs):
        if type(item) is Word:
            row += (L_WORD, intern(item.text), 0)
        elif type(item) is Var and item.kind in _VAR_KIND and (item.kind, item.index) not in where:
            where[item.kind, item.index] = k
            row += (_VAR_KIND[item.kind], 0, 0)
        else:
            return None
    if not n:
        return None
    need = 0
    for at in range(3 * n + 1, 3, -3):  # each left item's min_after, from the right
        row[at + 2] = need
        need += row[at] != L_Y
    calls: list[int] = []
    for item in rhs:
        kind = type(item)
        if kind is Call and type(item.var) is Var:
            k = where.get((item.var.kind, item.var.index))
            scale = item.scale
            if k is None or type(scale) is not int or (not is_int and scale != 1):
                return None
            row += (R_CALL, k, _clamp(scale))
            if k not in calls:
                calls.append(k)
        elif kind is Token and not is_int:
            row += (R_TOKEN, intern(item.text), 1)
        elif kind is Copy and not is_int and type(item.var) is Var:
            k = where.get((item.var.kind, item.var.index))
            if k is None:
                return None
            row += (R_COPY, k, 1)
        elif kind is Const and is_int and type(item.value) is int:
            row += (R_CONST, _clamp(item.value), 1)
        else:
            return None
    row[2] = len(calls)
    row += calls
    return row


def lower_programs(programs: Sequence[Program], symbols: SymbolTable, width: int = 0) -> Lowered:
    """Rows for many programs, zero padded to at least ``width`` (``RowCache`` lowers
    programs that share rule objects, such as sketches of one parent, faster)."""
    return _padded([lower_program(p, symbols) for p in programs], width)


def _padded(rows: Sequence[tuple[list[int], int]], width: int = 0) -> Lowered:
    """(row, status) pairs as one zero-padded code array at least ``width`` wide."""
    code = np.zeros((len(rows), max([width, 3] + [len(r) for r, _ in rows])), dtype=np.int64)
    for k, (row, _) in enumerate(rows):
        code[k, : len(row)] = row
    return Lowered(code, np.array([s for _, s in rows], dtype=np.int64))


class RowCache:
    """Rows of programs of one algebra lowered under one symbol table across calls: each rule
    object is lowered once and each program's rules but its last (the parent a sketch
    extends) once, so a batch costs a lookup and one rule per program."""

    LIMIT = 1 << 16  # rule objects (kept alive: their ids stay theirs) or heads between resets

    def __init__(self, algebra: str, symbols: SymbolTable) -> None:
        self.algebra, self.symbols = algebra, symbols
        self._rules: dict[int, tuple[Rule, RuleEntry | None]] = {}
        self._heads: dict[tuple[int, ...], tuple[list[int], int, tuple[Rule, ...]]] = {}
        self._values: dict[Rule, RuleEntry | None] = {}

    def lower(self, programs: Sequence[Program]) -> Lowered:
        """The programs' rows and statuses, as ``lower_programs`` gives them."""
        if len(self._rules) > self.LIMIT or len(self._heads) > self.LIMIT:
            self._rules.clear()
            self._heads.clear()
            self._values.clear()
        return _padded([self._row(p) for p in programs])

    def _row(self, program: Program) -> tuple[list[int], int]:
        rules = program.rules
        if program.algebra != self.algebra or not rules:
            return lower_program(program, self.symbols)
        parent = rules[:-1]
        key = tuple(map(id, parent))
        head = self._heads.get(key)
        if head is None:  # the entry holds the parent's rules, so the ids in key stay theirs
            head = self._heads[key] = (*self._join([0, 0, 0], VALID, parent), parent)
        return self._join(head[0], head[1], rules[-1:])

    def _join(self, row: list[int], status: int, rules: Sequence[Rule]) -> tuple[list[int], int]:
        """row (a program's, or [0, 0, 0] for INVALID) extended by rules."""
        if status == INVALID:
            return row, status
        return _extended(row.copy(), status, rules, self._entry)

    def _entry(self, rule: Rule) -> RuleEntry | None:
        found = self._rules.get(id(rule))
        if found is None:  # a new object, often equal to one lowered before (hashing it
            # costs a tenth of lowering it)
            entry = self._values.get(rule, False)
            if entry is False:
                entry = self._values[rule] = _rule_entry(rule, self.algebra, self.symbols)
            found = self._rules[id(rule)] = (rule, entry)  # type: ignore[assignment]
        return found[1]


def slot_map(slots: Sequence[str], symbols: SymbolTable) -> np.ndarray:
    """Slot index -> symbol id, interning each slot's string; an empty string (an unused
    slot) maps to -1, which makes a program that uses the slot INVALID."""
    return np.array([symbols.intern(s) if s else -1 for s in slots], dtype=np.int64).reshape(-1)


COMPILE_NOTICE = "compiling the interpreter kernels (first run only, about a minute)…"
_ENTRY_POINTS = ("run_flat", "check_chunk")  # the batch kernels every command calls first


@functools.cache
def kernels() -> tuple[ModuleType, ModuleType, ModuleType, ModuleType]:
    """The kernel modules (lower, batch, outcomes, rules), first dropping cached code compiled
    from older sources (Numba does not notice a change in another file); says on stderr when
    the code is about to be compiled, since that takes a while and prints nothing itself."""
    from metarlm.kernels import batch, lower, machine, outcomes, rules

    cold = cold_cache(batch)
    if cold:
        print(COMPILE_NOTICE, file=sys.stderr, flush=True)
    stale = stale_kernels((machine, lower, batch, outcomes, rules))
    if stale and not cold:
        print(COMPILE_NOTICE, file=sys.stderr, flush=True)
    for module in stale:
        _drop_cache(module)
    return lower, batch, outcomes, rules


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


__all__ = ["INVALID", "NEEDS_REFERENCE", "VALID", "Lowered", "RowCache", "SymbolTable",
           "kernels", "lower_program", "lower_programs", "lower_rule", "lower_token_ids",
           "slot_map", "stale_kernels"]
