"""Checking the search's candidates: a parent rule list plus one new rule, on one demonstration.

The search core asks two things of a checker (``DemoChecker``): the outcome of whole rule lists
(``check``) and the outcomes of children that insert one rule into a parent whose outcome is
known (``extend``). An ``Outcome`` is each example's value under the program (None where it
fails), from which the verdicts follow: right, wrong value, no value. Programs are the
background rules followed by the learned ones; candidates carry no holes (generators fill them).

The checker lowers each distinct rule once (``RulePool``), packs the examples once, and runs
every batch as one kernel call (``metarlm.kernels.outcomes``) that gives each program an
outcome id. Outcomes are canonical per checker: programs with the same values get the same
``Outcome`` object, so observational equivalence is identity. A child's example that its new
rule binds nowhere keeps the parent's value without a run (a failure always; a value when
the child's fuel bound fits the limit), and values are cached per example under the rules
that bind somewhere in it (where the bound fits); ``metarlm.kernels.rules`` says why both
are exact. Programs with holes or malformed rules run through the reference interpreter.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np

from metarlm.exec.compile import SymbolTable, kernels
from metarlm.exec.pack import pack_words
from metarlm.exec.pool import RulePool
from metarlm.exec.run import no_gc, run_many
from metarlm.kernels import layout
from metarlm.lang.demo import Example, Output
from metarlm.lang.dsl import Program, Rule
from metarlm.lang.interp import DEFAULT_FUEL, MAX_OUTPUT, Ok

RIGHT, WRONG, NONE = 1, -1, 0  # verdicts: the expected output, another value, no value
CACHE_LIMIT = 1 << 20  # cached values per checker before the cache starts afresh


@dataclass(frozen=True)
class Outcome:
    """Each example's value under a program (None where the program fails on it)."""

    values: tuple[Output | None, ...]
    verdicts: tuple[int, ...]  # RIGHT, WRONG or NONE per example

    # counted once per outcome (outcomes are shared by the states that have them, and the
    # search ranks states over and over); cached_property writes past the frozen __setattr__
    @functools.cached_property
    def right(self) -> int:
        """How many examples the program reproduces."""
        return self.verdicts.count(RIGHT)

    @functools.cached_property
    def wrong(self) -> int:
        """How many examples the program gives a value other than their output."""
        return self.verdicts.count(WRONG)

    @property
    def complete(self) -> bool:
        """Whether the program reproduces every example."""
        return all(v == RIGHT for v in self.verdicts)


def outcome(values: Sequence[Output | None], examples: Sequence[Example]) -> Outcome:
    """The outcome of these per-example values."""
    verdicts = tuple(NONE if v is None else RIGHT if v == e.output else WRONG
                     for v, e in zip(values, examples))
    return Outcome(tuple(values), verdicts)


def _clip(value: int) -> int:
    return max(-(2**63 - 1), min(2**63 - 1, value))


class _Store:
    """The kernels' arrays for one demonstration: values, cached values, outcomes, scratch."""

    def __init__(self, words: np.ndarray, lens: np.ndarray) -> None:
        n_ex = len(lens)
        self.words, self.lens = words, lens
        self.spans = lens * (lens + 1) // 2
        self.vals = np.zeros((64, 4), dtype=np.int64)
        self.vtok = np.zeros(256, dtype=np.int64)
        self.subs = np.full((256, 8), -1, dtype=np.int64)
        self.skey = np.zeros(256, dtype=np.int64)
        self.outs = np.zeros((64, n_ex), dtype=np.int64)
        self.ohash = np.zeros(64, dtype=np.int64)
        self.vtab = np.full((128, 2), -1, dtype=np.int64)
        self.otab = np.full((128, 2), -1, dtype=np.int64)
        self.cnt = np.zeros(6, dtype=np.int64)
        self.cnt[0] = 1  # value id 0 is "no value"
        self.prog = np.zeros(64, dtype=np.int64)
        self.key = np.zeros(4, dtype=np.int64)
        self.keys2d, self.kpos = (np.zeros((n_ex, 4), dtype=np.int64) for _ in range(2))
        self.klen, self.khash, self.klen0, self.khash0, self.vids, self.pbound = (
            np.zeros(n_ex, dtype=np.int64) for _ in range(6))
        self.arena = np.empty(256, dtype=np.int64)
        self.max_lhs = 0
        self.fit(1)

    def fit(self, max_lhs: int) -> None:
        """Evaluation scratch for rules of up to max_lhs left-hand items."""
        if max_lhs > self.max_lhs:
            self.max_lhs = max_lhs
            self.memo, self.frames, self.bind = kernels()[1].scratch(self.words.shape[1], max_lhs)

    def args(self, rules: RulePool) -> tuple:
        """The arguments every checking kernel takes after its own."""
        return (rules.pool, rules.rmeta, rules.touch, rules.cost, rules.toff, rules.tlist,
                rules.cmax, self.spans, self.words, self.lens, self.vals, self.vtok, self.vtab,
                self.subs, self.skey, self.outs, self.ohash, self.otab, self.cnt,
                self.prog, self.key, self.keys2d, self.kpos, self.klen, self.khash, self.klen0,
                self.khash0, self.memo, self.frames, self.bind, self.arena, self.vids)

    def grow(self, need: int) -> None:
        """Make room in the array a kernel ran out of (``cnt[C_NEED]``)."""
        k = kernels()[2]
        if need == k.N_ARENA:
            self.arena = np.empty(2 * len(self.arena), dtype=np.int64)
        elif need == k.N_VALS:
            self.vals = _double(self.vals)
            self.vtab = _table(self.vals[:, k.V_HASH], int(self.cnt[k.C_VALS]))
        elif need == k.N_TOK:
            self.vtok = _double(self.vtok)
        elif need in (k.N_SUBS, k.N_KEYS) and len(self.subs) >= 2 * CACHE_LIMIT:
            self.cnt[k.C_SUBS] = self.cnt[k.C_KEYS] = 0  # a cache: forgetting is safe
            self.subs.fill(-1)
        elif need == k.N_SUBS:
            old, self.subs = self.subs, np.full((2 * len(self.subs), 8), -1, dtype=np.int64)
            k.rehash_rows(old, self.subs)
        elif need == k.N_KEYS:
            self.skey = _double(self.skey)
        elif need == k.N_OUTS:
            self.outs, self.ohash = _double(self.outs), _double(self.ohash)
            self.otab = _table(self.ohash, int(self.cnt[k.C_OUTS]))
        elif need == k.N_PROG:
            self.prog = _double(self.prog)
        elif need == k.N_KEY:
            width = 2 * len(self.key)
            self.key = np.zeros(width, dtype=np.int64)
            self.keys2d, self.kpos = (np.zeros((len(self.lens), width), dtype=np.int64)
                                      for _ in range(2))
        else:
            raise AssertionError(f"unknown need {need}")


def _made(values: tuple, verdicts: tuple) -> Outcome:
    """An Outcome, made without the dataclass's __init__ (the same object in half the time;
    Outcome keeps its fields in __dict__)."""
    made = Outcome.__new__(Outcome)
    state = made.__dict__
    state["values"], state["verdicts"] = values, verdicts
    return made


def _grown_objects(array: np.ndarray, size: int) -> np.ndarray:
    """An object array of ``size`` entries starting with array's (None after)."""
    out = np.full(size, None, dtype=object)
    out[: len(array)] = array
    return out


def _double(array: np.ndarray) -> np.ndarray:
    out = np.zeros((2 * len(array), *array.shape[1:]), dtype=array.dtype)
    out[: len(array)] = array
    return out


def _table(hashes: np.ndarray, n: int) -> np.ndarray:
    """An open-addressing (hash, entry) table of entries 0..n-1, twice as many rows."""
    tab = np.full((2 * len(hashes), 2), -1, dtype=np.int64)
    kernels()[2].rehash_pairs(tab, hashes, n)
    return tab


class DemoChecker:
    """Outcomes of rule lists (after a fixed background) on one demonstration's examples."""

    def __init__(self, examples: Sequence[Example], background: Program, fuel: int = DEFAULT_FUEL,
                 max_output: int = MAX_OUTPUT) -> None:
        self.examples = tuple(examples)
        self.background = background
        self.fuel, self.max_output = fuel, max_output
        self.inputs = [e.input for e in self.examples]
        self._limits = (_clip(fuel), _clip(max_output), background.algebra == "int")
        self._symbols = SymbolTable()
        words, lens = pack_words(self.inputs, self._symbols)
        # a cost past the fuel is as good as none: profile no further
        budget = min(max(self._limits[0], layout.PROFILE_MIN), layout.PROFILE_MAX)
        self._rules = RulePool(background.algebra, self._symbols, words, lens, budget)
        self._store = _Store(words, lens)
        self._bg = self._rules.ids(background.rules)
        self._bg_slow = not self._rules.slow.isdisjoint(self._bg.tolist())
        self._values = _grown_objects(np.empty(0, dtype=object), 256)  # by value id
        self._verdicts = np.full(256, NONE, dtype=np.int64)
        self._n_values = 1  # value id 0 is "no value": None
        self._outcomes: list[Outcome] = []  # by outcome id
        self._oid: dict[int, int] = {}  # id(outcome) -> outcome id (the outcomes are kept)

    def intern(self, rules: Sequence[Rule]) -> None:
        """Lower these rules now (checks later find them lowered; optional)."""
        self._rules.ids(rules)

    def program(self, learned: Sequence[Rule]) -> Program:
        """The background followed by ``learned``."""
        return Program(self.background.rules + tuple(learned), self.background.algebra)

    def check(self, learned_lists: Sequence[tuple[Rule, ...]]) -> list[Outcome]:
        """The outcome of each rule list."""
        lists = list(learned_lists)
        if not lists or not self.examples or self._bg_slow:
            return [self._reference(learned) for learned in lists]
        ids = self._rules.ids(list(chain.from_iterable(lists)))
        starts = np.zeros(len(lists) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, lists), dtype=np.int64, count=len(lists)),
                  out=starts[1:])
        if self._rules.slow and not self._rules.slow.isdisjoint(ids.tolist()):
            return self._check_some_slow(lists, ids.tolist(), starts)
        oid = np.empty(len(lists), dtype=np.int64)
        self._drive(kernels()[2].check_range, (self._bg, ids, starts), len(lists), (oid,))
        return list(map(self._outcomes.__getitem__, oid.tolist()))

    def extend(self, parent: tuple[Rule, ...], known: Outcome,
               children: Sequence[tuple[int, Rule]]) -> list[Outcome]:
        """Outcomes of ``parent`` with each (position, rule) inserted into it, as
        ``parent[:pos] + (rule,) + parent[pos:]``; ``known`` is the parent's outcome."""
        if not children:
            return []
        positions, rules = zip(*children)
        pids = self._rules.ids(parent)
        rids = self._rules.ids(rules)
        slow = self._rules.slow
        if not self.examples or self._bg_slow or (
                slow and not slow.isdisjoint(pids.tolist() + rids.tolist())):
            return self.check([tuple(parent[:p]) + (r,) + tuple(parent[p:]) for p, r in children])
        oid = self._oid.get(id(known))
        if oid is None:  # not an outcome of this checker: find the parent's own
            oid = self._oid[id(self.check([tuple(parent)])[0])]
        pos = np.fromiter(positions, dtype=np.int64, count=len(positions))
        out = np.empty(len(rids), dtype=np.int64)
        head = (self._bg, pids, self._store.outs[oid].copy(), pos, rids)
        self._drive(kernels()[2].extend_range, head, len(rids), (self._store.pbound, out))
        return list(map(self._outcomes.__getitem__, out.tolist()))

    def _drive(self, kernel: Callable[..., int], head: tuple, n: int, tail: tuple) -> None:
        """Run a checking kernel over items [0, n), growing whatever it runs out of."""
        store, lo = self._store, 0
        store.fit(self._rules.max_lhs)
        while lo < n:
            lo = kernel(*head, lo, n, *self._limits, *store.args(self._rules), *tail)
            if lo < n:
                store.grow(int(store.cnt[kernels()[2].C_NEED]))
        self._sync()

    def _sync(self) -> None:
        """Python objects for the values and outcomes the kernels added."""
        k, store = kernels()[2], self._store
        first, last = self._n_values, int(store.cnt[k.C_VALS])
        if last > first:
            if last > len(self._values):
                self._values = _grown_objects(self._values, 2 * last)
                self._verdicts = np.resize(self._verdicts, 2 * last)
            rows = store.vals[first:last, k.V_EX:].tolist()
            if self._limits[2]:
                values: list[Output] = [a for _, a, _ in rows]
            else:  # every new value's tokens in one slice: vals are in vtok's order
                start = rows[0][1]
                names = list(map(self._symbols.texts.__getitem__,
                                 store.vtok[start: rows[-1][1] + rows[-1][2]].tolist()))
                values = [tuple(names[a - start: a - start + n]) for _, a, n in rows]
            self._values[first:last] = values
            self._verdicts[first:last] = [RIGHT if value == self.examples[e].output else WRONG
                                          for value, (e, _, _) in zip(values, rows)]
            self._n_values = last
        first, last = len(self._outcomes), int(store.cnt[k.C_OUTS])
        if last > first:
            with no_gc():
                self._new_outcomes(first, last)

    def _new_outcomes(self, first: int, last: int) -> None:
        """Outcome objects for outcome ids [first, last)."""
        rows = self._store.outs[first:last]
        new = list(map(_made, map(tuple, self._values[rows].tolist()),
                       map(tuple, self._verdicts[rows].tolist())))
        self._oid.update(zip(map(id, new), range(first, last)))
        self._outcomes += new

    def _check_some_slow(self, lists: list[tuple[Rule, ...]], ids: list[int],
                         starts: np.ndarray) -> list[Outcome]:
        """check when some lists have rules for the reference interpreter."""
        slow = self._rules.slow
        bounds = starts.tolist()
        is_slow = [not slow.isdisjoint(ids[a:b]) for a, b in zip(bounds, bounds[1:])]
        fast = iter(self.check([lst for lst, s in zip(lists, is_slow) if not s]))
        return [self._reference(lst) if s else next(fast) for lst, s in zip(lists, is_slow)]

    def _reference(self, learned: Sequence[Rule]) -> Outcome:
        """The outcome of the background + learned through ``run_many`` (the reference
        interpreter for programs the kernels do not take)."""
        results = run_many(self.program(learned), self.inputs, self.fuel, self.max_output)
        return outcome([r.value if isinstance(r, Ok) else None for r in results], self.examples)
