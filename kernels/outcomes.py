"""One demonstration's checker in Numba: interned rule rows in, value ids and outcome ids out.

The Python side (``metarlm.exec.incremental``) owns and grows these arrays; the kernels only
read them or write into room already there, and say through ``cnt[C_NEED]`` which array ran
out when they stop early (the caller grows it and resumes at the returned item)::

    pool, rmeta       every interned rule's ints (layout's rule format), ``kernels.rules``
    touch, cost       per rule and example: binds some span? fuel of all its bindings
    toff, tlist       the examples each rule touches: tlist[toff[r]:toff[r + 1]]
    cmax              per rule, its largest cost over the examples
    vals, vtok        distinct values per example: (hash, example, offset or integer, length)
    subs, skey        cached values, an open-addressing table of rows (hash, value id,
                      example * 2**24 + key length or -1 if empty, the key's first
                      KEY_INLINE rule ids, offset of the rest in skey): a probe that hits
                      reads one cache line
    outs, ohash       distinct outcomes: a value id per example, and their hashes
    vtab, otab        open-addressing tables of vals and outs entries, rows (hash, entry);
                      -1 empty, sizes powers of 2, at most half full

Value id 0 is "no value" (any failure). An example's value is cached under the rules that
touch it, in order (the key): exact wherever the program's fuel bound fits the limit (see
``kernels.rules``); a program whose bound does not fit runs whole on that example, uncached.
"""

from __future__ import annotations

import numpy as np
from metarlm.kernels.layout import (
    HOT,
    HOT_INLINE,
    NO_ARENA,
    OK,
    RM_LEN,
    RM_LHS,
    RM_OFF,
    ROW_BODY,
    ROW_HOLES,
    ROW_MAX_LHS,
    ROW_RULES,
    SAT,
    STAMP,
)
from metarlm.kernels.machine import evaluate, same_span
from numba import njit

V_HASH, V_EX, V_A, V_LEN = 0, 1, 2, 3  # vals columns
S_HASH, S_VID, S_META, S_KEY, S_REST = 0, 1, 2, 3, 7  # subs columns (S_KEY..S_REST-1: key)
KEY_INLINE = S_REST - S_KEY
C_VALS, C_TOK, C_SUBS, C_KEYS, C_OUTS, C_NEED = 0, 1, 2, 3, 4, 5  # cnt fields
# what ran out (cnt[C_NEED]); the caller grows it and resumes
N_ARENA, N_VALS, N_TOK, N_SUBS, N_KEYS, N_OUTS, N_PROG, N_KEY = 1, 2, 3, 4, 5, 6, 7, 8
MULT, SEED = 0x100000001B3, -3750763034362895579  # FNV-1a 64 (int64 arithmetic wraps)


@njit(**HOT_INLINE)
def mix(h: int, x: int) -> int:
    """Fold x into the hash h."""
    return (h ^ x) * MULT


@njit(**HOT_INLINE)
def key_hash(e: int, key: np.ndarray, n: int) -> int:
    """The hash of example e's key[:n] (as the fast paths fold it, rule by rule)."""
    h = mix(SEED, e)
    for k in range(n):
        h = mix(h, key[k])
    return mix(h, n)


@njit(**HOT_INLINE)
def bound(cost: np.ndarray, e: int, spans: int, bg: np.ndarray, ids: np.ndarray, a: int,
          b: int) -> int:
    """The fuel bound on example e of the background followed by ids[a:b]."""
    total = spans
    for k in range(bg.shape[0]):
        total += cost[bg[k], e]
    for k in range(a, b):
        total += cost[ids[k], e]
    return total


@njit(**HOT_INLINE)
def fill_key(touch: np.ndarray, e: int, only_touching: bool, bg: np.ndarray, ids: np.ndarray,
             a: int, b: int, ins: int, new: int, key: np.ndarray) -> int:
    """Write into key the rules of bg + ids[a:b] (with ``new`` inserted before ids[a + ins]
    when ins >= 0), only those touching e if asked; how many (the caller made room)."""
    n = 0
    for k in range(bg.shape[0]):
        if not only_touching or touch[bg[k], e]:
            key[n] = bg[k]
            n += 1
    for k in range(a, b + 1):
        if k - a == ins and (not only_touching or touch[new, e]):
            key[n] = new
            n += 1
        if k < b and (not only_touching or touch[ids[k], e]):
            key[n] = ids[k]
            n += 1
    return n


@njit(**HOT_INLINE)
def assemble(pool: np.ndarray, rmeta: np.ndarray, key: np.ndarray, n: int,
             prog: np.ndarray) -> bool:
    """Write the row of rules key[:n] into prog; False if prog is too short."""
    size, max_lhs = ROW_BODY, 0
    for k in range(n):
        size += rmeta[key[k], RM_LEN]
        max_lhs = max(max_lhs, rmeta[key[k], RM_LHS])
    if size > prog.shape[0]:
        return False
    prog[ROW_RULES], prog[ROW_MAX_LHS], prog[ROW_HOLES] = n, max_lhs, 0
    top = ROW_BODY
    for k in range(n):
        off, length = rmeta[key[k], RM_OFF], rmeta[key[k], RM_LEN]
        for t in range(length):  # loops, not slices: copying slices may allocate
            prog[top + t] = pool[off + t]
        top += length
    return True


@njit(**HOT_INLINE)
def intern_value(e: int, a: int, length: int, is_int: bool, arena: np.ndarray,
                 vals: np.ndarray, vtok: np.ndarray, vtab: np.ndarray, cnt: np.ndarray) -> int:
    """The id of example e's value (an integer a, or tokens arena[a:a+length]); -1: no room."""
    h = mix(SEED, e)
    if is_int:
        h = mix(h, a)
    else:
        for t in range(length):
            h = mix(h, arena[a + t])
        h = mix(h, length)
    mask = vtab.shape[0] - 1
    slot = h & mask
    while vtab[slot, 1] >= 0:
        v = vtab[slot, 1]
        if vtab[slot, 0] == h and vals[v, V_EX] == e:
            if is_int:
                if vals[v, V_A] == a:
                    return v
            elif vals[v, V_LEN] == length and same_span(vtok, vals[v, V_A], arena, a, length):
                return v
        slot = (slot + 1) & mask
    v = cnt[C_VALS]
    if v >= vals.shape[0]:
        cnt[C_NEED] = N_VALS
        return -1
    if is_int:
        vals[v, V_A], vals[v, V_LEN] = a, 0
    else:
        top = cnt[C_TOK]
        if top + length > vtok.shape[0]:
            cnt[C_NEED] = N_TOK
            return -1
        for t in range(length):
            vtok[top + t] = arena[a + t]
        vals[v, V_A], vals[v, V_LEN] = top, length
        cnt[C_TOK] = top + length
    vals[v, V_HASH], vals[v, V_EX] = h, e
    vtab[slot, 0], vtab[slot, 1] = h, v
    cnt[C_VALS] = v + 1
    return v


@njit(**HOT)
def run_key(e: int, key: np.ndarray, n: int, fuel: int, max_output: int, is_int: bool,
            pool: np.ndarray, rmeta: np.ndarray, ex_words: np.ndarray, ex_lens: np.ndarray,
            vals: np.ndarray, vtok: np.ndarray, vtab: np.ndarray, cnt: np.ndarray,
            prog: np.ndarray, memo: np.ndarray, frames: np.ndarray, bind: np.ndarray,
            arena: np.ndarray) -> int:
    """Evaluate the rules key[:n] on example e: its value id, or -1 (cnt[C_NEED] says why)."""
    if not assemble(pool, rmeta, key, n, prog):
        cnt[C_NEED] = N_PROG
        return -1
    st, a, length = evaluate(prog, ex_words[e, : ex_lens[e]], fuel, max_output, is_int, memo,
                             frames, bind, arena)
    if st == NO_ARENA:
        cnt[C_NEED] = N_ARENA
        return -1
    if st != OK:
        return 0
    return intern_value(e, a, length, is_int, arena, vals, vtok, vtab, cnt)


@njit(**HOT_INLINE)
def find_sub(h: int, meta: int, key: np.ndarray, n: int, subs: np.ndarray,
             skey: np.ndarray) -> tuple[int, int]:
    """(the cached value id of key[:n] under meta, or -1; the row where it is or would go)."""
    mask = subs.shape[0] - 1
    slot = h & mask
    while subs[slot, S_META] >= 0:
        if subs[slot, S_HASH] == h and subs[slot, S_META] == meta:
            same = True
            for k in range(n):
                got = subs[slot, S_KEY + k] if k < KEY_INLINE else \
                    skey[subs[slot, S_REST] + k - KEY_INLINE]
                if got != key[k]:
                    same = False
                    break
            if same:
                return subs[slot, S_VID], slot
        slot = (slot + 1) & mask
    return -1, slot


@njit(**HOT_INLINE)
def key_value(h: int, e: int, key: np.ndarray, n: int, fuel: int, max_output: int,
              is_int: bool, pool: np.ndarray, rmeta: np.ndarray, ex_words: np.ndarray,
              ex_lens: np.ndarray, vals: np.ndarray, vtok: np.ndarray, vtab: np.ndarray,
              subs: np.ndarray, skey: np.ndarray, cnt: np.ndarray, prog: np.ndarray,
              memo: np.ndarray, frames: np.ndarray, bind: np.ndarray, arena: np.ndarray) -> int:
    """The value id of the touching rules key[:n] (hash h) on example e, cached or run."""
    meta = e * 16777216 + n
    v, slot = find_sub(h, meta, key, n, subs, skey)
    if v >= 0:
        return v
    rest = max(n - KEY_INLINE, 0)
    if 2 * (cnt[C_SUBS] + 1) > subs.shape[0]:
        cnt[C_NEED] = N_SUBS
        return -1
    if cnt[C_KEYS] + rest > skey.shape[0]:
        cnt[C_NEED] = N_KEYS
        return -1
    v = run_key(e, key, n, fuel, max_output, is_int, pool, rmeta, ex_words, ex_lens, vals, vtok,
                vtab, cnt, prog, memo, frames, bind, arena)
    if v < 0:
        return -1
    top = cnt[C_KEYS]
    for k in range(n):
        if k < KEY_INLINE:
            subs[slot, S_KEY + k] = key[k]
        else:
            skey[top + k - KEY_INLINE] = key[k]
    subs[slot, S_HASH], subs[slot, S_VID], subs[slot, S_META], subs[slot, S_REST] = (
        h, v, meta, top)
    cnt[C_SUBS], cnt[C_KEYS] = cnt[C_SUBS] + 1, top + rest
    return v


@njit(**HOT_INLINE)
def intern_outcome(vids: np.ndarray, outs: np.ndarray, ohash: np.ndarray, otab: np.ndarray,
                   cnt: np.ndarray) -> int:
    """The id of the outcome whose value ids are vids; -1 when there is no room."""
    n_ex = vids.shape[0]
    h = SEED
    for e in range(n_ex):
        h = mix(h, vids[e])
    mask = otab.shape[0] - 1
    slot = h & mask
    while otab[slot, 1] >= 0:
        if otab[slot, 0] == h:
            o = otab[slot, 1]
            same = True
            for e in range(n_ex):
                if outs[o, e] != vids[e]:
                    same = False
                    break
            if same:
                return o
        slot = (slot + 1) & mask
    o = cnt[C_OUTS]
    if o >= outs.shape[0]:
        cnt[C_NEED] = N_OUTS
        return -1
    for e in range(n_ex):
        outs[o, e] = vids[e]
    ohash[o] = h
    otab[slot, 0], otab[slot, 1] = h, o
    cnt[C_OUTS] = o + 1
    return o


@njit(**HOT)
def rehash_pairs(tab: np.ndarray, hashes: np.ndarray, n: int) -> None:
    """Fill an empty (hash, entry) table with entries 0..n-1 of these hashes."""
    mask = tab.shape[0] - 1
    for k in range(n):
        slot = hashes[k] & mask
        while tab[slot, 1] >= 0:
            slot = (slot + 1) & mask
        tab[slot, 0], tab[slot, 1] = hashes[k], k


@njit(**HOT)
def rehash_rows(old: np.ndarray, new: np.ndarray) -> None:
    """Move the used rows of a subs table into an empty larger one."""
    mask = new.shape[0] - 1
    for row in range(old.shape[0]):
        if old[row, S_META] >= 0:
            slot = old[row, S_HASH] & mask
            while new[slot, S_META] >= 0:
                slot = (slot + 1) & mask
            for c in range(old.shape[1]):
                new[slot, c] = old[row, c]


@njit(**HOT_INLINE)
def push_rule(r: int, where: int, toff: np.ndarray, tlist: np.ndarray, keys2d: np.ndarray,
              kpos: np.ndarray, klen: np.ndarray, khash: np.ndarray) -> None:
    """Append rule r (at list position where) to the key of every example it touches."""
    for t in range(toff[r], toff[r + 1]):
        e = tlist[t]
        keys2d[e, klen[e]], kpos[e, klen[e]] = r, where
        klen[e] += 1
        khash[e] = mix(khash[e], r)


@njit(**HOT_INLINE)
def start_keys(bg: np.ndarray, toff: np.ndarray, tlist: np.ndarray, keys2d: np.ndarray,
               kpos: np.ndarray, klen: np.ndarray, khash: np.ndarray) -> None:
    """Every example's key: the background rules that touch it."""
    for e in range(klen.shape[0]):
        klen[e], khash[e] = 0, mix(SEED, e)
    for k in range(bg.shape[0]):
        push_rule(bg[k], -1, toff, tlist, keys2d, kpos, klen, khash)


@njit(**HOT_INLINE)
def child_key(e: int, r: int, at: int, keys2d: np.ndarray, kpos: np.ndarray,
              klen: np.ndarray, key: np.ndarray) -> int:
    """Into key: example e's key with rule r inserted before list position at; its length."""
    n = 0
    for j in range(klen[e]):
        if kpos[e, j] >= at and n == j:  # r not yet placed
            key[n] = r
            n += 1
        key[n] = keys2d[e, j]
        n += 1
    if n == klen[e]:
        key[n] = r
        n += 1
    return n


@njit(**HOT)
def whole_value(e: int, bg: np.ndarray, ids: np.ndarray, a: int, b: int, ins: int, new: int,
                limit: int, fuel: int, max_output: int, is_int: bool, pool: np.ndarray,
                rmeta: np.ndarray, touch: np.ndarray, cost: np.ndarray, spans: np.ndarray,
                ex_words: np.ndarray, ex_lens: np.ndarray, vals: np.ndarray, vtok: np.ndarray,
                vtab: np.ndarray, subs: np.ndarray, skey: np.ndarray,
                cnt: np.ndarray, prog: np.ndarray, key: np.ndarray, memo: np.ndarray,
                frames: np.ndarray, bind: np.ndarray, arena: np.ndarray) -> int:
    """Example e's value id under bg + ids[a:b] (``new`` inserted at ins if ins >= 0), the
    bound worked out for e alone: from the cache if it fits the limit, else run whole."""
    total = bound(cost, e, spans[e], bg, ids, a, b) + (cost[new, e] if ins >= 0 else 0)
    fits = total <= limit
    n = fill_key(touch, e, fits, bg, ids, a, b, ins, new, key)
    if fits:
        return key_value(key_hash(e, key, n), e, key, n, fuel, max_output, is_int, pool, rmeta,
                         ex_words, ex_lens, vals, vtok, vtab, subs, skey, cnt, prog, memo,
                         frames, bind, arena)
    return run_key(e, key, n, fuel, max_output, is_int, pool, rmeta, ex_words, ex_lens, vals,
                   vtok, vtab, cnt, prog, memo, frames, bind, arena)


@njit(**HOT)
def check_range(bg: np.ndarray, ids: np.ndarray, starts: np.ndarray, lo: int, hi: int,
                fuel: int, max_output: int, is_int: bool, pool: np.ndarray, rmeta: np.ndarray,
                touch: np.ndarray, cost: np.ndarray, toff: np.ndarray, tlist: np.ndarray,
                cmax: np.ndarray, spans: np.ndarray, ex_words: np.ndarray, ex_lens: np.ndarray,
                vals: np.ndarray, vtok: np.ndarray, vtab: np.ndarray, subs: np.ndarray,
                skey: np.ndarray, outs: np.ndarray, ohash: np.ndarray,
                otab: np.ndarray, cnt: np.ndarray, prog: np.ndarray, key: np.ndarray,
                keys2d: np.ndarray, kpos: np.ndarray, klen: np.ndarray, khash: np.ndarray,
                klen0: np.ndarray, khash0: np.ndarray, memo: np.ndarray, frames: np.ndarray,
                bind: np.ndarray, arena: np.ndarray, vids: np.ndarray, oid: np.ndarray) -> int:
    """oid[p] for programs p in [lo, hi): bg followed by ids[starts[p]:starts[p+1]].

    Where the bound with every rule's largest cost fits, each example's key is built rule
    by rule from the examples each rule touches; otherwise example by example.
    Returns hi, or the program to resume at once cnt[C_NEED]'s array has grown.
    """
    limit, width, nbg = min(fuel, SAT), min(keys2d.shape[1], key.shape[0]), bg.shape[0]
    if nbg > width:
        cnt[C_NEED] = N_KEY
        return lo
    start_keys(bg, toff, tlist, keys2d, kpos, klen, khash)
    base = 0
    for e in range(klen.shape[0]):
        klen0[e], khash0[e] = klen[e], khash[e]
        base = max(base, spans[e])
    for k in range(nbg):
        base += cmax[bg[k]]
    for p in range(lo, hi):
        a, b = starts[p], starts[p + 1]
        if nbg + b - a > width:
            cnt[C_NEED] = N_KEY
            return p
        quick = base
        for k in range(a, b):
            quick += cmax[ids[k]]
        if quick <= limit:
            for e in range(klen.shape[0]):
                klen[e], khash[e] = klen0[e], khash0[e]
            for k in range(a, b):
                push_rule(ids[k], k - a, toff, tlist, keys2d, kpos, klen, khash)
        if quick <= limit:  # load every example's first row at once: the misses overlap
            mask = subs.shape[0] - 1
            for e in range(ex_lens.shape[0]):
                khash[e] = mix(khash[e], klen[e])
                vids[e] = subs[khash[e] & mask, S_HASH]
        for e in range(ex_lens.shape[0]):
            if quick <= limit:
                v = key_value(khash[e], e, keys2d[e], klen[e], fuel, max_output,
                              is_int, pool, rmeta, ex_words, ex_lens, vals, vtok, vtab, subs,
                              skey, cnt, prog, memo, frames, bind, arena)
            else:
                v = whole_value(e, bg, ids, a, b, -1, 0, limit, fuel, max_output, is_int, pool,
                                rmeta, touch, cost, spans, ex_words, ex_lens, vals, vtok, vtab,
                                subs, skey, cnt, prog, key, memo, frames, bind, arena)
            if v < 0:
                return p
            vids[e] = v
        o = intern_outcome(vids, outs, ohash, otab, cnt)
        if o < 0:
            return p
        oid[p] = o
    return hi


@njit(**HOT)
def extend_range(bg: np.ndarray, parent: np.ndarray, pvids: np.ndarray, pos: np.ndarray,
                 new: np.ndarray, lo: int, hi: int, fuel: int, max_output: int, is_int: bool,
                 pool: np.ndarray, rmeta: np.ndarray, touch: np.ndarray, cost: np.ndarray,
                 toff: np.ndarray, tlist: np.ndarray, cmax: np.ndarray, spans: np.ndarray,
                 ex_words: np.ndarray, ex_lens: np.ndarray, vals: np.ndarray, vtok: np.ndarray,
                 vtab: np.ndarray, subs: np.ndarray, skey: np.ndarray,
                 outs: np.ndarray, ohash: np.ndarray, otab: np.ndarray, cnt: np.ndarray,
                 prog: np.ndarray, key: np.ndarray, keys2d: np.ndarray, kpos: np.ndarray,
                 klen: np.ndarray, khash: np.ndarray, klen0: np.ndarray, khash0: np.ndarray,
                 memo: np.ndarray, frames: np.ndarray, bind: np.ndarray, arena: np.ndarray,
                 vids: np.ndarray, pbound: np.ndarray, oid: np.ndarray) -> int:
    """oid[c] for children c in [lo, hi): bg + parent with rule new[c] inserted at pos[c]
    as ``parent[:pos] + (rule,) + parent[pos:]`` reads it; pvids are the parent's value ids.

    An example the new rule does not touch keeps the parent's value without a run: no value
    stays none (the child repeats the parent's evaluation, spending more fuel), and a value
    stays when the child's bound fits the fuel. The examples it touches run from the cache
    under the parent's key with the new rule inserted (or whole, where the bound does not
    fit). Returns hi, or the child to resume at once cnt[C_NEED]'s array has grown.
    """
    limit, width = min(fuel, SAT), min(keys2d.shape[1], key.shape[0])
    nbg, m = bg.shape[0], parent.shape[0]
    if nbg + m + 1 > width:
        cnt[C_NEED] = N_KEY
        return lo
    start_keys(bg, toff, tlist, keys2d, kpos, klen, khash)
    for k in range(m):
        push_rule(parent[k], k, toff, tlist, keys2d, kpos, klen, khash)
    worst = 0
    for e in range(ex_lens.shape[0]):
        pbound[e] = bound(cost, e, spans[e], bg, parent, 0, m)
        worst = max(worst, pbound[e])
    for c in range(lo, hi):
        r, at = new[c], pos[c]
        at = min(max(at + m if at < 0 else at, 0), m)  # as slicing reads it
        for e in range(ex_lens.shape[0]):
            vids[e] = pvids[e]
        if worst + cmax[r] <= limit:
            for t in range(toff[r], toff[r + 1]):
                e = tlist[t]
                n = child_key(e, r, at, keys2d, kpos, klen, key)
                v = key_value(key_hash(e, key, n), e, key, n, fuel, max_output, is_int, pool,
                              rmeta, ex_words, ex_lens, vals, vtok, vtab, subs, skey, cnt,
                              prog, memo, frames, bind, arena)
                if v < 0:
                    return c
                vids[e] = v
        else:
            for e in range(ex_lens.shape[0]):
                if touch[r, e] == 0 and (pbound[e] + cost[r, e] <= limit or pvids[e] == 0):
                    continue
                v = whole_value(e, bg, parent, 0, m, at, r, limit, fuel, max_output, is_int,
                                pool, rmeta, touch, cost, spans, ex_words, ex_lens, vals, vtok,
                                vtab, subs, skey, cnt, prog, key, memo, frames, bind,
                                arena)
                if v < 0:
                    return c
                vids[e] = v
        o = intern_outcome(vids, outs, ohash, otab, cnt)
        if o < 0:
            return c
        oid[c] = o
    return hi


@njit(cache=True)
def compiled_stamp() -> int:
    """The source stamp this file's cached code was compiled under."""
    return STAMP
