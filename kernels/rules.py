"""Interned rules of one demonstration: their profile on its examples, and rule ids by object.

``profile_rules`` gives each rule, on each example, ``touch`` (does the rule bind some span of
the input?) and ``cost`` (the fuel of enumerating all its bindings on all spans). A rule
that binds no span never yields a value there; all it can do is spend fuel, at most ``cost``
(each span is evaluated at most once and each rule tried at most once per span). So where a
program's bound (one unit per span plus its rules' costs) fits the fuel, its value on the
example is that of the rules that touch it (``metarlm.kernels.outcomes`` relies on this).

``find_objects`` and ``add_objects`` keep an open-addressing table from object identities
(CPython ids, which the caller keeps alive) to rule ids: looking a rule up by its identity
costs no Python-level hashing of its dataclasses.
"""

from __future__ import annotations

import numpy as np
from metarlm.kernels.layout import HOT, HOT_INLINE, RM_OFF, SAT, STAMP
from metarlm.kernels.machine import next_binding
from numba import njit

MULT = 0x100000001B3


@njit(**HOT)
def profile_rules(pool: np.ndarray, rmeta: np.ndarray, lo: int, hi: int, ex_words: np.ndarray,
                  ex_lens: np.ndarray, budget: int, touch: np.ndarray, cost: np.ndarray,
                  pos: np.ndarray, end: np.ndarray, low: np.ndarray) -> None:
    """touch and cost of rules [lo, hi) on every example, enumerating every binding of every
    non-empty span; past ``budget`` units a rule gets touch 1 and cost SAT (no bound)."""
    for r in range(lo, hi):
        at = rmeta[r, RM_OFF]
        for e in range(ex_lens.shape[0]):
            n = ex_lens[e]
            words = ex_words[e, :n]
            spent, found = 0, False
            for i in range(n):
                for j in range(i + 1, n + 1):
                    resume = False
                    while spent <= budget:
                        left = budget - spent
                        got, rest = next_binding(pool, at, words, i, j, resume, pos, end, low,
                                                 left)
                        spent += left - rest
                        if got != 1:
                            if got < 0:
                                spent = budget + 1
                            break
                        found, resume = True, True
            touch[r, e] = 1 if found or spent > budget else 0
            cost[r, e] = SAT if spent > budget else spent


@njit(**HOT_INLINE)
def _slot(key: int, mask: int) -> int:
    h = (key >> 4) * MULT  # ids are 16-byte aligned addresses
    return (h ^ (h >> 29)) & mask


@njit(**HOT)
def find_objects(okeys: np.ndarray, ovals: np.ndarray, keys: np.ndarray,
                 out: np.ndarray) -> int:
    """out[k] = the rule id of object keys[k], or -1; the number of -1s."""
    mask = okeys.shape[0] - 1
    missing = 0
    for k in range(keys.shape[0]):
        x = keys[k]
        slot = _slot(x, mask)
        while okeys[slot] != 0 and okeys[slot] != x:
            slot = (slot + 1) & mask
        if okeys[slot] == x:
            out[k] = ovals[slot]
        else:
            out[k] = -1
            missing += 1
    return missing


@njit(**HOT)
def add_objects(okeys: np.ndarray, ovals: np.ndarray, keys: np.ndarray,
                vals: np.ndarray) -> None:
    """Map each object keys[k] to rule id vals[k] (the table has room for all)."""
    mask = okeys.shape[0] - 1
    for k in range(keys.shape[0]):
        x = keys[k]
        slot = _slot(x, mask)
        while okeys[slot] != 0 and okeys[slot] != x:
            slot = (slot + 1) & mask
        okeys[slot], ovals[slot] = x, vals[k]


@njit(cache=True)
def compiled_stamp() -> int:
    """The source stamp this file's cached code was compiled under."""
    return STAMP
