"""Batch drivers: many programs on one demonstration, one program on many inputs.

Three layers per driver: a hot range function (no allocation, no reference counting) that
stops early when the arena is too small; a chunk function that allocates the scratch and
reruns with a doubled arena; and a parallel function that splits the work into chunks.
Small batches call the chunk function directly: waking the thread pool costs more.
"""

from __future__ import annotations

import numpy as np
from metarlm.kernels.layout import (
    HOT,
    HOT_INLINE,
    NO_ARENA,
    NO_SPACE,
    OK,
    ROW_HOLES,
    ROW_MAX_LHS,
    STAMP,
    VALID,
)
from metarlm.kernels.machine import F_FIELDS, evaluate, same_span
from numba import njit, prange

ARENA = 4096  # first arena size (ints) per chunk; doubled whenever a value does not fit


@njit(cache=True)
def scratch(max_words: int, max_lhs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Memo, frames and bindings for inputs of up to max_words words."""
    side = max(max_words, 1) + 1
    memo = np.zeros((side * side, 3), dtype=np.int64)
    frames = np.zeros((side + 1, F_FIELDS), dtype=np.int64)
    bind = np.zeros((3, side + 1, max(max_lhs, 1)), dtype=np.int64)
    return memo, frames, bind


@njit(**HOT_INLINE)
def matches(arena: np.ndarray, a: int, length: int, expected: np.ndarray, exp_len: int,
            holes: np.ndarray) -> bool:
    """Whether a sequence value equals the expected tokens, binding hole markers on the way."""
    if length != exp_len:
        return False
    for t in range(length):
        v, x = arena[a + t], expected[t]
        if v >= 0:
            if v != x:
                return False
        elif holes[-1 - v] < 0:
            holes[-1 - v] = x
        elif holes[-1 - v] != x:
            return False
    return True


@njit(**HOT)
def check_range(code: np.ndarray, status: np.ndarray, ex_words: np.ndarray,
                ex_lens: np.ndarray, exp_syms: np.ndarray, exp_lens: np.ndarray,
                exp_ints: np.ndarray, fuel: int, max_output: int, is_int: bool,
                verdict: np.ndarray, lo: int, hi: int, memo: np.ndarray, frames: np.ndarray,
                bind: np.ndarray, arena: np.ndarray, holes: np.ndarray) -> int:
    """verdict[p] for p in [lo, hi): does valid program p reproduce every example?

    Stops at a program's first failing example; sequence holes pass when one token per hole
    reproduces every example. Returns hi, or the program that needs a larger arena.
    """
    for p in range(lo, hi):
        verdict[p] = False
        if status[p] != VALID:
            continue
        holes[: code[p, ROW_HOLES]] = -1
        ok = True
        for e in range(ex_lens.shape[0]):
            st, a, length = evaluate(code[p], ex_words[e, : ex_lens[e]], fuel, max_output,
                                     is_int, memo, frames, bind, arena)
            if st == NO_ARENA:
                return p
            if st != OK:
                ok = False
            elif is_int:
                ok = a == exp_ints[e]
            else:
                ok = matches(arena, a, length, exp_syms[e], exp_lens[e], holes)
            if not ok:
                break
        verdict[p] = ok
    return hi


@njit(cache=True)
def check_chunk(code: np.ndarray, status: np.ndarray, ex_words: np.ndarray,
                ex_lens: np.ndarray, exp_syms: np.ndarray, exp_lens: np.ndarray,
                exp_ints: np.ndarray, fuel: int, max_output: int, is_int: bool,
                verdict: np.ndarray, lo: int, hi: int) -> None:
    """check_range on [lo, hi) with its own scratch, growing the arena as needed."""
    max_lhs, max_holes = 1, 1
    for p in range(lo, hi):
        if status[p] == VALID:
            max_lhs = max(max_lhs, code[p, ROW_MAX_LHS])
            max_holes = max(max_holes, code[p, ROW_HOLES])
    memo, frames, bind = scratch(ex_words.shape[1], max_lhs)
    holes = np.empty(max_holes, dtype=np.int64)
    arena = np.empty(ARENA, dtype=np.int64)
    while lo < hi:
        lo = check_range(code, status, ex_words, ex_lens, exp_syms, exp_lens, exp_ints, fuel,
                         max_output, is_int, verdict, lo, hi, memo, frames, bind, arena, holes)
        if lo < hi:
            arena = np.empty(2 * arena.shape[0], dtype=np.int64)


@njit(cache=True, parallel=True)
def check_parallel(code: np.ndarray, status: np.ndarray, ex_words: np.ndarray,
                   ex_lens: np.ndarray, exp_syms: np.ndarray, exp_lens: np.ndarray,
                   exp_ints: np.ndarray, fuel: int, max_output: int, is_int: bool,
                   verdict: np.ndarray, n_chunks: int) -> None:
    """check_chunk over all programs, n_chunks chunks in parallel."""
    n = code.shape[0]
    for c in prange(n_chunks):
        check_chunk(code, status, ex_words, ex_lens, exp_syms, exp_lens, exp_ints, fuel,
                    max_output, is_int, verdict, c * n // n_chunks, (c + 1) * n // n_chunks)


@njit(**HOT)
def run_range(code: np.ndarray, words: np.ndarray, lens: np.ndarray, fuel: int,
              max_output: int, is_int: bool, out_syms: np.ndarray, out_status: np.ndarray,
              out_value: np.ndarray, lo: int, hi: int, memo: np.ndarray, frames: np.ndarray,
              bind: np.ndarray, arena: np.ndarray) -> int:
    """Evaluate program row 0 on input rows [lo, hi); hi, or the input that needs more arena.

    out_value[k] is the integer, or the output's length with its tokens in out_syms[k]; an
    output wider than out_syms gets NO_SPACE (its length still recorded) so the caller can
    rerun it with room.
    """
    width = out_syms.shape[1]
    for k in range(lo, hi):
        st, a, length = evaluate(code[0], words[k, : lens[k]], fuel, max_output, is_int, memo,
                                 frames, bind, arena)
        if st == NO_ARENA:
            return k
        out_status[k], out_value[k] = st, a
        if st == OK and not is_int:
            out_value[k] = length
            if length > width:
                out_status[k] = NO_SPACE
            else:
                for t in range(length):
                    out_syms[k, t] = arena[a + t]
    return hi


@njit(cache=True)
def run_chunk(code: np.ndarray, words: np.ndarray, lens: np.ndarray, fuel: int,
              max_output: int, is_int: bool, out_syms: np.ndarray, out_status: np.ndarray,
              out_value: np.ndarray, lo: int, hi: int) -> None:
    """run_range on [lo, hi) with its own scratch, growing the arena as needed."""
    memo, frames, bind = scratch(words.shape[1], code[0, ROW_MAX_LHS])
    arena = np.empty(ARENA, dtype=np.int64)
    while lo < hi:
        lo = run_range(code, words, lens, fuel, max_output, is_int, out_syms, out_status,
                       out_value, lo, hi, memo, frames, bind, arena)
        if lo < hi:
            arena = np.empty(2 * arena.shape[0], dtype=np.int64)


@njit(cache=True, parallel=True)
def run_parallel(code: np.ndarray, words: np.ndarray, lens: np.ndarray, fuel: int,
                 max_output: int, is_int: bool, out_syms: np.ndarray, out_status: np.ndarray,
                 out_value: np.ndarray, n_chunks: int) -> None:
    """run_chunk over all inputs, n_chunks chunks in parallel."""
    n = lens.shape[0]
    for c in prange(n_chunks):
        run_chunk(code, words, lens, fuel, max_output, is_int, out_syms, out_status,
                  out_value, c * n // n_chunks, (c + 1) * n // n_chunks)


@njit(**HOT)
def run_flat_range(code: np.ndarray, words: np.ndarray, starts: np.ndarray, fuel: int,
                   max_output: int, is_int: bool, out_status: np.ndarray,
                   out_value: np.ndarray, out_start: np.ndarray, tokens: np.ndarray, lo: int,
                   hi: int, top: int, end: int, memo: np.ndarray, frames: np.ndarray,
                   bind: np.ndarray, arena: np.ndarray) -> tuple[int, int, int]:
    """Evaluate program row 0 on inputs [lo, hi), input k being words[starts[k]:starts[k+1]].

    out_value[k] is the integer, or the output's length with its tokens at
    tokens[out_start[k]:], written from top on and never past end. Returns (the input to
    resume at, the new top, what ran out: 0 nothing, NO_ARENA, or NO_SPACE for tokens).
    """
    for k in range(lo, hi):
        st, a, length = evaluate(code[0], words[starts[k]: starts[k + 1]], fuel, max_output,
                                 is_int, memo, frames, bind, arena)
        if st == NO_ARENA:
            return k, top, NO_ARENA
        out_status[k], out_value[k], out_start[k] = st, a, top
        if st == OK and not is_int:
            out_value[k] = length
            if top + length > end:  # out_value[k] tells the caller the room it needs
                return k, top, NO_SPACE
            for t in range(length):
                tokens[top + t] = arena[a + t]
            top += length
    return hi, top, 0


@njit(cache=True)
def run_flat(code: np.ndarray, words: np.ndarray, starts: np.ndarray, fuel: int,
             max_output: int, is_int: bool, out_status: np.ndarray, out_value: np.ndarray,
             out_start: np.ndarray, tokens: np.ndarray, lo: int, hi: int, top: int,
             end: int) -> tuple[int, int]:
    """run_flat_range with its own scratch, growing the arena as needed: (the input to
    resume at once tokens has more room, or hi; the new top)."""
    longest = 1
    for k in range(lo, hi):
        longest = max(longest, starts[k + 1] - starts[k])
    memo, frames, bind = scratch(longest, code[0, ROW_MAX_LHS])
    arena = np.empty(ARENA, dtype=np.int64)
    while lo < hi:
        lo, top, need = run_flat_range(code, words, starts, fuel, max_output, is_int,
                                       out_status, out_value, out_start, tokens, lo, hi, top,
                                       end, memo, frames, bind, arena)
        if need == NO_SPACE:
            break
        if need == NO_ARENA:
            arena = np.empty(2 * arena.shape[0], dtype=np.int64)
    return lo, top


@njit(cache=True, parallel=True)
def run_flat_parallel(code: np.ndarray, words: np.ndarray, starts: np.ndarray, fuel: int,
                      max_output: int, is_int: bool, out_status: np.ndarray,
                      out_value: np.ndarray, out_start: np.ndarray, tokens: np.ndarray,
                      n_chunks: int, stops: np.ndarray) -> None:
    """run_flat over all inputs in n_chunks parallel chunks, chunk c writing its tokens into
    its share of tokens; stops[c] is where chunk c stopped (its end when it finished)."""
    n = starts.shape[0] - 1
    share = tokens.shape[0] // n_chunks
    for c in prange(n_chunks):
        stops[c], _ = run_flat(code, words, starts, fuel, max_output, is_int, out_status,
                               out_value, out_start, tokens, c * n // n_chunks,
                               (c + 1) * n // n_chunks, c * share, (c + 1) * share)


@njit(cache=True)
def distinct_outputs(tokens: np.ndarray, begin: np.ndarray, length: np.ndarray,
                     ok: np.ndarray, group: np.ndarray, out_tokens: np.ndarray,
                     out_bounds: np.ndarray) -> int:
    """Number the distinct outputs tokens[begin[k]:begin[k] + length[k]] of the inputs with
    ok[k], in order of first appearance: group[k] is input k's number (-1 where ok[k] is
    False), output g is out_tokens[out_bounds[g]:out_bounds[g + 1]]. Returns how many."""
    n = ok.shape[0]
    size = 1
    while size < 2 * n:
        size *= 2
    table = np.full(size, -1, dtype=np.int64)  # output numbers, open addressing
    m = 0
    out_bounds[0] = 0
    for k in range(n):
        group[k] = -1
        if not ok[k]:
            continue
        a, count = begin[k], length[k]
        h = count
        for t in range(count):
            h = (h ^ tokens[a + t]) * 0x100000001B3
        slot = h & (size - 1)
        while table[slot] >= 0:
            g = table[slot]
            b = out_bounds[g]
            if out_bounds[g + 1] - b == count and same_span(out_tokens, b, tokens, a, count):
                group[k] = g
                break
            slot = (slot + 1) & (size - 1)
        if group[k] < 0:
            table[slot], group[k] = m, m
            b = out_bounds[m]
            out_tokens[b: b + count] = tokens[a: a + count]
            out_bounds[m + 1] = b + count
            m += 1
    return m


GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: the top bits of key * GOLDEN


@njit(cache=True, inline="always")
def _word_slot(key: np.uint64, bits: int) -> int:
    """The slot of a word key in a table of 2**bits slots."""
    return np.int64((key * GOLDEN) >> np.uint64(64 - bits))


@njit(cache=True)
def word_ids(text: np.ndarray, vocab: np.ndarray, vocab_starts: np.ndarray,
             starts: np.ndarray, ids: np.ndarray) -> bool:
    """ids[w]: the vocabulary index of word w of the inputs, -1 if absent; False when text
    does not split into the inputs' words (then ids mean nothing).

    text is the UTF-8 of the inputs joined by NUL, each input its words joined by NUL:
    input k is starts[k+1] - starts[k] pieces, or one empty piece when it has no words, so
    a word holding a NUL makes more pieces than that. Vocabulary entry v is
    vocab[vocab_starts[v]:vocab_starts[v+1]]. A word's key, its last 8 bytes packed into
    an integer while its end is sought, tells words of up to 8 bytes apart with their
    length (no hashing of every byte, no comparing); longer ones are compared byte by byte.
    """
    bits = 1
    while (1 << bits) < 2 * (vocab_starts.shape[0] - 1):
        bits += 1
    mask = (1 << bits) - 1
    keys = np.zeros(mask + 1, dtype=np.uint64)
    entry = np.full(mask + 1, -1, dtype=np.int64)  # open addressing, never full
    for v in range(vocab_starts.shape[0] - 1):
        key = np.uint64(0)
        for t in range(vocab_starts[v], vocab_starts[v + 1]):
            key = (key << np.uint64(8)) | np.uint64(vocab[t])
        slot = _word_slot(key, bits)
        while entry[slot] >= 0:
            slot = (slot + 1) & mask
        keys[slot], entry[slot] = key, v
    pos, w, end = 0, 0, text.shape[0]
    for k in range(starts.shape[0] - 1):
        count = starts[k + 1] - starts[k]
        for _ in range(max(count, 1)):
            if pos > end:  # fewer pieces than words
                return False
            stop, key = pos, np.uint64(0)
            while stop < end and text[stop] != 0:
                key = (key << np.uint64(8)) | np.uint64(text[stop])
                stop += 1
            if count:
                ids[w] = -1
                slot = _word_slot(key, bits)
                while entry[slot] >= 0:
                    v = entry[slot]
                    a, length = vocab_starts[v], stop - pos
                    if (keys[slot] == key and vocab_starts[v + 1] - a == length
                            and (length <= 8 or same_span(vocab, a, text, pos, length))):
                        ids[w] = v
                        break
                    slot = (slot + 1) & mask
                w += 1
            pos = stop + 1
    return pos == end + 1


@njit(cache=True)
def compiled_stamp() -> int:
    """The source stamp this file's cached code was compiled under."""
    return STAMP
