"""Lower decoder id sequences (``metarlm.neural.tokens``) straight to program rows, in Numba.

A row of ids is read like ``tokens.decode_program`` (PAD and BOS skipped, stop at EOS, rules
split at ``;``, empty rules dropped) and checked like the grammar: right-hand variables
must be bound on the left, a left-hand variable appears once, integer terms are joined by
``+`` and integers have no leading zero. A malformed row gets INVALID; an integer-algebra
row with holes gets NEEDS_REFERENCE (those are solved symbolically). Only the ints a row
uses are written.
"""

from __future__ import annotations

import numpy as np
from metarlm.kernels.layout import (
    HOT,
    HOT_INLINE,
    INT_CLAMP,
    INVALID,
    ITEM,
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
    ROW_BODY,
    ROW_HOLES,
    ROW_MAX_LHS,
    ROW_RULES,
    RULE_CALLS,
    RULE_HEAD,
    RULE_LHS,
    RULE_RHS,
    STAMP,
    VALID,
)
from numba import njit, prange

from metarlm.neural.tokens import (
    ARROW,
    BOS,
    DIGIT0,
    EOS,
    HOLE,
    LBR,
    PAD,
    PLUS,
    RBR,
    SEP,
    STAR,
    TOKEN0,
    VAR0,
    VOCAB_SIZE,
    WORD0,
)

N_VARS = WORD0 - VAR0
MAX_VARS = N_VARS // 3


@njit(**HOT_INLINE)
def id_cost(i: int) -> int:
    """At most how many row ints an id leads to (a rule header, an item, a call entry)."""
    if i == ARROW:
        return RULE_HEAD
    if i == LBR:
        return 1
    return ITEM if i >= DIGIT0 or i == HOLE else 0


@njit(**HOT_INLINE)
def read_int(ids: np.ndarray, t: int, stop: int) -> tuple[int, int]:
    """The integer written at ids[t:] and the index after it; -1 if none or a leading zero."""
    if t >= stop or not DIGIT0 <= ids[t] < DIGIT0 + 10:
        return -1, t
    if ids[t] == DIGIT0 and t + 1 < stop and DIGIT0 <= ids[t + 1] < DIGIT0 + 10:
        return -1, t
    value = 0
    while t < stop and DIGIT0 <= ids[t] < DIGIT0 + 10:
        digit = ids[t] - DIGIT0
        value = INT_CLAMP if value > (INT_CLAMP - digit) // 10 else value * 10 + digit
        t += 1
    return value, t


@njit(**HOT_INLINE)
def lower_lhs(ids: np.ndarray, a: int, cut: int, word_map: np.ndarray, row: np.ndarray,
              w: int, var_item: np.ndarray) -> int:
    """Write ids[a:cut] as left-hand items at row[w:]; the item count, or -1 if malformed."""
    var_item[:] = -1
    for k in range(cut - a):
        i, it = ids[a + k], w + ITEM * k
        if WORD0 <= i < TOKEN0:
            slot = i - WORD0
            if slot >= word_map.shape[0] or word_map[slot] < 0:
                return -1
            row[it], row[it + 1] = L_WORD, word_map[slot]
        elif VAR0 <= i < WORD0:
            if var_item[i - VAR0] >= 0:
                return -1
            var_item[i - VAR0] = k
            row[it], row[it + 1] = (L_U, L_X, L_Y)[(i - VAR0) // MAX_VARS], 0
        else:
            return -1
    need = 0  # min_after: how many later items need at least one word
    for k in range(cut - a - 1, -1, -1):
        row[w + ITEM * k + 2] = need
        need += 0 if row[w + ITEM * k] == L_Y else 1
    return cut - a


@njit(**HOT_INLINE)
def add_call(row: np.ndarray, calls: np.ndarray, n_calls: int, k: int) -> int:
    """Record a call of left-hand item k unless already called; the new call count."""
    for c in range(n_calls):
        if calls[c] == k:
            return n_calls
    calls[n_calls] = k
    return n_calls + 1


@njit(**HOT_INLINE)
def lower_term(ids: np.ndarray, t: int, stop: int, is_int: bool, token_map: np.ndarray,
               var_item: np.ndarray) -> tuple[int, int, int, int, int]:
    """One right-hand item at ids[t:]: (kind, arg, scale, next t, flag); flag 0 fine,
    1 malformed, 2 an integer hole."""
    i = ids[t]
    if i == HOLE:
        return R_HOLE, 0, 1, t + 1, 2 if is_int else 0
    if i == LBR:
        if t + 2 >= stop or ids[t + 2] != RBR or not VAR0 <= ids[t + 1] < WORD0:
            return 0, 0, 0, t, 1
        k = var_item[ids[t + 1] - VAR0]
        t += 3
        if k < 0:
            return 0, 0, 0, t, 1
        if t < stop and ids[t] == STAR:
            if not is_int:
                return 0, 0, 0, t, 1
            if t + 1 < stop and ids[t + 1] == HOLE:
                return R_CALL, k, 1, t + 2, 2
            scale, t = read_int(ids, t + 1, stop)
            return R_CALL, k, scale, t, 1 if scale < 0 else 0
        return R_CALL, k, 1, t, 0
    if is_int:
        value, t = read_int(ids, t, stop)
        return R_CONST, value, 1, t, 1 if value < 0 else 0
    if VAR0 <= i < WORD0:
        k = var_item[i - VAR0]
        return R_COPY, k, 1, t + 1, 1 if k < 0 else 0
    if TOKEN0 <= i < VOCAB_SIZE and i - TOKEN0 < token_map.shape[0] and token_map[i - TOKEN0] >= 0:
        return R_TOKEN, token_map[i - TOKEN0], 1, t + 1, 0
    return 0, 0, 0, t, 1


@njit(**HOT_INLINE)
def lower_rule(ids: np.ndarray, a: int, b: int, word_map: np.ndarray, token_map: np.ndarray,
               is_int: bool, row: np.ndarray, w: int, holes: int, var_item: np.ndarray,
               calls: np.ndarray) -> tuple[int, int, int]:
    """Write the rule ids[a:b] at row[w:]: (next w, hole count, flag as in lower_term)."""
    cut, need = a, 0
    while cut < b and ids[cut] != ARROW:
        cut += 1
    for t in range(a, b):
        need += id_cost(ids[t])
    if cut == a or cut == b or w + need > row.shape[0]:
        return w, holes, 1
    n_lhs = lower_lhs(ids, a, cut, word_map, row, w + RULE_HEAD, var_item)
    if n_lhs < 0:
        return w, holes, 1
    n_rhs, n_calls, flag, t = 0, 0, 0, cut + 1
    while t < b:
        if is_int and n_rhs > 0:  # terms are joined by '+'
            if ids[t] != PLUS or t + 1 >= b:
                return w, holes, 1
            t += 1
        kind, arg, scale, t, f = lower_term(ids, t, b, is_int, token_map, var_item)
        if f == 1:
            return w, holes, 1
        flag = max(flag, f)
        if kind == R_HOLE:
            arg, holes = holes, holes + 1
        elif kind == R_CALL and f == 2:
            holes += 1
        elif kind == R_CALL:
            n_calls = add_call(row, calls, n_calls, arg)
        it = w + RULE_HEAD + ITEM * (n_lhs + n_rhs)
        row[it], row[it + 1], row[it + 2] = kind, arg, scale
        n_rhs += 1
    at = w + RULE_HEAD + ITEM * (n_lhs + n_rhs)
    for c in range(n_calls):
        row[at + c] = calls[c]
    row[w + RULE_LHS], row[w + RULE_RHS], row[w + RULE_CALLS] = n_lhs, n_rhs, n_calls
    row[w + RULE_CALLS + 1] = 0
    return at + n_calls, holes, flag


@njit(**HOT_INLINE)
def lower_row(ids: np.ndarray, word_map: np.ndarray, token_map: np.ndarray, is_int: bool,
              row: np.ndarray, body: np.ndarray, var_item: np.ndarray,
              calls: np.ndarray) -> int:
    """Lower one id row into row (body, var_item, calls: scratch); the program status."""
    m = 0
    for i in ids:  # the ids that matter: no PAD or BOS, up to EOS
        if i == EOS:
            break
        if i != PAD and i != BOS:
            if not 0 <= i < VOCAB_SIZE:
                return INVALID
            body[m] = i
            m += 1
    w, holes, n_rules, max_lhs, flag, a = ROW_BODY, 0, 0, 0, 0, 0
    while a < m:
        b = a
        while b < m and body[b] != SEP:
            b += 1
        if b > a:
            w_next, holes, f = lower_rule(body, a, b, word_map, token_map, is_int, row, w,
                                          holes, var_item, calls)
            if f == 1:
                return INVALID
            flag = max(flag, f)
            max_lhs = max(max_lhs, row[w + RULE_LHS])
            n_rules, w = n_rules + 1, w_next
        a = b + 1
    row[ROW_RULES], row[ROW_MAX_LHS], row[ROW_HOLES] = n_rules, max_lhs, holes
    return NEEDS_REFERENCE if flag == 2 else VALID


@njit(**HOT)
def row_width(ids: np.ndarray) -> int:
    """An upper bound on the ints any row of ids lowers to (ids up to each row's EOS)."""
    widest = ROW_BODY
    for p in range(ids.shape[0]):
        w = ROW_BODY
        for i in ids[p]:
            if i == EOS:
                break
            w += id_cost(i)
        widest = max(widest, w)
    return widest


@njit(**HOT)
def lower_range(ids: np.ndarray, word_map: np.ndarray, token_map: np.ndarray, is_int: bool,
                code: np.ndarray, status: np.ndarray, lo: int, hi: int, body: np.ndarray,
                var_item: np.ndarray, calls: np.ndarray) -> None:
    """Lower rows [lo, hi) of ids into code and status (only the rows' used ints are set)."""
    for p in range(lo, hi):
        status[p] = lower_row(ids[p], word_map, token_map, is_int, code[p], body, var_item,
                              calls)


@njit(cache=True)
def lower_chunk(ids: np.ndarray, word_map: np.ndarray, token_map: np.ndarray, is_int: bool,
                code: np.ndarray, status: np.ndarray, lo: int, hi: int) -> None:
    """lower_range on [lo, hi) with its own scratch."""
    body = np.empty(ids.shape[1], dtype=np.int64)
    var_item = np.empty(N_VARS, dtype=np.int64)
    calls = np.empty(ids.shape[1] + 1, dtype=np.int64)
    lower_range(ids, word_map, token_map, is_int, code, status, lo, hi, body, var_item, calls)


@njit(cache=True, parallel=True)
def lower_parallel(ids: np.ndarray, word_map: np.ndarray, token_map: np.ndarray,
                   is_int: bool, code: np.ndarray, status: np.ndarray, n_chunks: int) -> None:
    """lower_chunk over all rows, n_chunks chunks in parallel."""
    n = ids.shape[0]
    for c in prange(n_chunks):
        lower_chunk(ids, word_map, token_map, is_int, code, status, c * n // n_chunks,
                    (c + 1) * n // n_chunks)


@njit(cache=True)
def compiled_stamp() -> int:
    """The source stamp this file's cached code was compiled under."""
    return STAMP
