"""Rules interned once per demonstration for the incremental checker (``RulePool``).

Each distinct rule gets an id, its lowered ints in one pool array, and its profile on the
demonstration's examples (which examples it can touch, at what fuel cost), so that the
checking kernels (``metarlm.kernels.outcomes``) cache values under the rules that touch each
example. Rule objects are found by identity in a Numba table first, by value second.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from metarlm.exec.compile import SymbolTable, kernels, lower_rule
from metarlm.kernels.layout import SAT
from metarlm.lang.dsl import Rule


class RulePool:
    """Rules interned once per demonstration: an id per distinct rule (equal rules, one id),
    its ints in ``pool`` at ``rmeta[id]``, and its profile on the demonstration's examples
    (``touch``, ``cost``; ``tlist[toff[id]:toff[id + 1]]`` the examples it touches, ``cmax``
    its largest cost; see ``metarlm.kernels.rules``). Rules with holes, and malformed ones,
    are ``slow``: programs with them go to the reference interpreter."""

    OBJECTS = 1 << 18  # rule objects found by identity before that table starts afresh

    def __init__(self, algebra: str, symbols: SymbolTable, ex_words: np.ndarray,
                 ex_lens: np.ndarray, budget: int) -> None:
        self.algebra, self.symbols, self.budget = algebra, symbols, budget
        self.ex_words, self.ex_lens = ex_words, ex_lens
        self.rules: list[Rule] = []  # one object per id
        self.slow: set[int] = set()
        self.pool = np.zeros(4096, dtype=np.int64)
        self.rmeta = np.zeros((256, 3), dtype=np.int64)
        self.touch = np.zeros((256, len(ex_lens)), dtype=np.uint8)
        self.cost = np.zeros((256, len(ex_lens)), dtype=np.int64)
        self.cmax = np.zeros(256, dtype=np.int64)
        self.toff = np.zeros(257, dtype=np.int64)
        self.tlist = np.zeros(1024, dtype=np.int64)
        self.top = self.profiled = 0
        self.max_lhs = 1
        self._by_value: dict[Rule, int] = {}
        # CPython ids -> rule ids: hashing a rule walks its dataclasses in Python (about
        # 1 us); the objects are kept alive so that their ids stay theirs
        self._objects: list[Rule] = []
        self._object_ids: list[int] = []  # the rule id of each object
        self._okeys = np.zeros(1 << 12, dtype=np.int64)
        self._ovals = np.zeros(1 << 12, dtype=np.int64)

    def ids(self, rules: Sequence[Rule]) -> np.ndarray:
        """The id of each rule, interning (lowering and profiling) the new ones."""
        keys = np.fromiter(map(id, rules), dtype=np.int64, count=len(rules))
        out = np.empty(len(rules), dtype=np.int64)
        if kernels()[3].find_objects(self._okeys, self._ovals, keys, out):
            self._add_objects(rules, keys, out)
        return out

    def _add_objects(self, rules: Sequence[Rule], keys: np.ndarray, out: np.ndarray) -> None:
        """Intern the rules whose objects the table lacks (out < 0), then profile them."""
        missing = np.flatnonzero(out < 0).tolist()
        if len(self._objects) + len(missing) > self.OBJECTS:  # forget the objects met so far
            self._objects, self._object_ids = [], []
            self._okeys.fill(0)
        fresh: dict[int, int] = {}  # id(object) -> rule id, of the objects new here
        for k in missing:
            rid = fresh.get(int(keys[k]))
            if rid is None:
                rule = rules[k]
                rid = self._by_value.setdefault(rule, len(self.rules))  # hashed once
                if rid == len(self.rules):
                    self._add(rule)
                fresh[id(rule)] = rid
                self._objects.append(rule)
                self._object_ids.append(rid)
            out[k] = rid
        if 2 * len(self._objects) > len(self._okeys):  # a larger table, every object in it
            self._okeys = np.zeros(1 << (4 * len(self._objects)).bit_length(), dtype=np.int64)
            self._ovals = np.zeros(len(self._okeys), dtype=np.int64)
            keys = np.fromiter(map(id, self._objects), dtype=np.int64, count=len(self._objects))
            rids = np.array(self._object_ids, dtype=np.int64)
        else:
            keys = np.array(list(fresh), dtype=np.int64)
            rids = np.array(list(fresh.values()), dtype=np.int64)
        kernels()[3].add_objects(self._okeys, self._ovals, keys, rids)
        self._profile()

    def _add(self, rule: Rule) -> int:
        rid = len(self.rules)
        self.rules.append(rule)
        if rid == len(self.rmeta):
            self.rmeta, self.touch, self.cost, self.cmax = (
                _grown(a, 2 * rid) for a in (self.rmeta, self.touch, self.cost, self.cmax))
            self.toff = _grown(self.toff, 2 * rid + 1)
        ints = lower_rule(rule, self.algebra, self.symbols)
        if ints is None:
            self.slow.add(rid)
            return rid
        top = self.top
        if top + len(ints) > len(self.pool):
            self.pool = _grown(self.pool, 2 * (top + len(ints)))
        self.pool[top: top + len(ints)] = ints
        self.rmeta[rid] = (top, len(ints), ints[0])
        self.top += len(ints)
        self.max_lhs = max(self.max_lhs, ints[0])
        return rid

    def _profile(self) -> None:
        """Profile the rules interned since the last call (one kernel call for all)."""
        rules = kernels()[3]
        lo, hi = self.profiled, len(self.rules)
        scratch = [np.zeros(self.max_lhs, dtype=np.int64) for _ in range(3)]
        rules.profile_rules(self.pool, self.rmeta, lo, hi, self.ex_words, self.ex_lens,
                            self.budget, self.touch, self.cost, *scratch)
        for rid in self.slow:
            if rid >= lo:  # never run in the kernels; marked as touching everything
                self.touch[rid], self.cost[rid] = 1, SAT
        touch = self.touch[lo:hi]
        if touch.shape[1]:
            self.cmax[lo:hi] = self.cost[lo:hi].max(axis=1)
        listed = np.nonzero(touch)[1]  # examples touched, rule by rule
        start = self.toff[lo]
        np.cumsum(touch.sum(axis=1, dtype=np.int64), out=self.toff[lo + 1: hi + 1])
        self.toff[lo + 1: hi + 1] += start
        if start + len(listed) > len(self.tlist):
            self.tlist = _grown(self.tlist, 2 * (start + len(listed)))
        self.tlist[start: start + len(listed)] = listed
        self.profiled = hi


def _grown(array: np.ndarray, rows: int) -> np.ndarray:
    """A copy of array with ``rows`` rows (zeros after the old ones)."""
    out = np.zeros((rows, *array.shape[1:]), dtype=array.dtype)
    out[: len(array)] = array
    return out


__all__ = ["RulePool"]
