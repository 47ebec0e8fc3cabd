"""Evaluate one lowered program on one input: the reference interpreter's semantics in Numba.

An explicit stack of span frames replaces the reference's recursion. Each frame walks the
rules in order, enumerates bindings exactly as ``interp._Evaluator.bindings`` (earlier
variables longest first, one unit of fuel per length tried), evaluates the called spans left
to right (pushing a frame per span not yet memoized) and assembles the value. Fuel, the
output limit and integer overflow are checked at the reference's points, so statuses and
values agree with it on every program and input.
"""

from __future__ import annotations

import numpy as np
from metarlm.kernels.layout import (
    EMPTY,
    FUEL,
    HOT_INLINE,
    INT_LIMIT,
    ITEM,
    L_U,
    L_WORD,
    L_X,
    L_Y,
    NO_ARENA,
    NO_RULE,
    OK,
    OVERFLOW,
    R_CONST,
    R_COPY,
    R_HOLE,
    R_TOKEN,
    ROW_BODY,
    ROW_RULES,
    RULE_CALLS,
    RULE_HEAD,
    RULE_LHS,
    RULE_RHS,
    STAMP,
    TOO_LONG,
)
from numba import njit

# frame fields
F_I, F_J, F_RULE, F_AT, F_CALL, F_PHASE, F_FIELDS = 0, 1, 2, 3, 4, 5, 6
# frame phases: start the rule at F_AT, resume its bindings, or go on with its calls
PH_RULE, PH_NEXT, PH_CALL = 0, 1, 2
# memo fields: state, then arena offset (or the integer) and length
M_STATE, M_A, M_B = 0, 1, 2
# memo states; FAILED also marks a span being evaluated, which is the cycle guard
UNSEEN, FAILED, DONE = 0, 1, 2


@njit(**HOT_INLINE)
def same_span(x: np.ndarray, a: int, y: np.ndarray, b: int, length: int) -> bool:
    """Whether x[a:a + length] equals y[b:b + length] (outputs, token runs, word bytes)."""
    for t in range(length):
        if x[a + t] != y[b + t]:
            return False
    return True


@njit(**HOT_INLINE)
def rule_size(prog: np.ndarray, at: int) -> int:
    """Number of ints taken by the rule starting at ``at``."""
    return RULE_HEAD + ITEM * (prog[at + RULE_LHS] + prog[at + RULE_RHS]) + prog[at + RULE_CALLS]


@njit(**HOT_INLINE)
def next_binding(prog: np.ndarray, at: int, words: np.ndarray, i: int, j: int, resume: bool,
                 pos: np.ndarray, end: np.ndarray, low: np.ndarray,
                 fuel: int) -> tuple[int, int]:
    """Advance to the rule's next binding on [i, j): (1 found | 0 none | -1 out of fuel, fuel)."""
    m = prog[at + RULE_LHS]
    base = at + RULE_HEAD
    descend = not resume
    k = 0 if descend else m - 1
    p = i
    while True:
        if not descend:  # backtrack: shorten the deepest x/y variable that can still shrink
            if k < 0:
                return 0, fuel
            kind = prog[base + ITEM * k]
            if (kind == L_X or kind == L_Y) and end[k] - 1 >= low[k]:
                end[k] -= 1
                fuel -= 1
                if fuel < 0:
                    return -1, fuel
                p = end[k]
                k += 1
                descend = True
            else:
                k -= 1
            continue
        if k == m:
            if p == j:
                return 1, fuel
            k -= 1
            descend = False
            continue
        kind = prog[base + ITEM * k]
        pos[k] = p
        if kind == L_WORD or kind == L_U:
            if p < j and (kind == L_U or words[p] == prog[base + ITEM * k + 1]):
                end[k] = p + 1
                p += 1
                k += 1
            else:
                k -= 1
                descend = False
            continue
        shortest = p + 1 if kind == L_X else p
        longest = j - prog[base + ITEM * k + 2]
        if k == m - 1 and shortest < j:  # the last item must end the span
            shortest = j
        low[k] = shortest
        if longest < shortest:
            k -= 1
            descend = False
            continue
        fuel -= 1
        if fuel < 0:
            return -1, fuel
        end[k] = longest
        p = longest
        k += 1


@njit(**HOT_INLINE)
def add_checked(a: int, b: int) -> tuple[int, bool]:
    """a + b and whether it overflows; |a| < INT_LIMIT, |b| < 2**63 (no int64 wrap)."""
    if (a >= 0) == (b >= 0) and (b >= INT_LIMIT or b <= -INT_LIMIT):
        return 0, True
    total = a + b
    return total, total >= INT_LIMIT or total <= -INT_LIMIT


@njit(**HOT_INLINE)
def mul_checked(a: int, b: int) -> tuple[int, bool]:
    """a * b and whether it overflows; |a| < INT_LIMIT, |b| < 2**63 (no int64 wrap)."""
    if a == 0 or b == 0:
        return 0, False
    if abs(a) > (INT_LIMIT - 1) // abs(b):
        return 0, True
    return a * b, False


@njit(**HOT_INLINE)
def total_int(prog: np.ndarray, at: int, pos: np.ndarray, end: np.ndarray, memo: np.ndarray,
              side: int) -> tuple[int, bool]:
    """The integer value of the rule's right-hand side and whether it overflows."""
    n_lhs, n_rhs = prog[at + RULE_LHS], prog[at + RULE_RHS]
    acc = 0
    for t in range(n_rhs):
        it = at + RULE_HEAD + ITEM * (n_lhs + t)
        kind, arg = prog[it], prog[it + 1]
        if kind == R_CONST:
            term = arg
        else:  # a call; an empty span is 0
            value = 0 if pos[arg] == end[arg] else memo[pos[arg] * side + end[arg], M_A]
            term, over = mul_checked(value, prog[it + 2])
            if over:
                return 0, True
        acc, over = add_checked(acc, term)
        if over:
            return 0, True
    return acc, False


@njit(**HOT_INLINE)
def seq_length(prog: np.ndarray, at: int, pos: np.ndarray, end: np.ndarray, memo: np.ndarray,
               side: int) -> int:
    """The length of the rule's right-hand side value under the binding."""
    n_lhs, n_rhs = prog[at + RULE_LHS], prog[at + RULE_RHS]
    total = 0
    for t in range(n_rhs):
        it = at + RULE_HEAD + ITEM * (n_lhs + t)
        kind, arg = prog[it], prog[it + 1]
        if kind == R_TOKEN or kind == R_HOLE:
            total += 1
        elif kind == R_COPY:
            total += end[arg] - pos[arg]
        elif pos[arg] < end[arg]:
            total += memo[pos[arg] * side + end[arg], M_B]
    return total


@njit(**HOT_INLINE)
def seq_write(prog: np.ndarray, at: int, pos: np.ndarray, end: np.ndarray, memo: np.ndarray,
              side: int, words: np.ndarray, arena: np.ndarray, top: int) -> int:
    """Write the rule's value at arena[top:]; the new top."""
    n_lhs, n_rhs = prog[at + RULE_LHS], prog[at + RULE_RHS]
    for t in range(n_rhs):
        it = at + RULE_HEAD + ITEM * (n_lhs + t)
        kind, arg = prog[it], prog[it + 1]
        if kind == R_TOKEN:
            arena[top] = arg
            top += 1
        elif kind == R_HOLE:
            arena[top] = -1 - arg
            top += 1
        elif kind == R_COPY:
            for q in range(pos[arg], end[arg]):
                arena[top] = words[q]
                top += 1
        elif pos[arg] < end[arg]:
            key = pos[arg] * side + end[arg]
            src = memo[key, M_A]
            for q in range(memo[key, M_B]):
                arena[top] = arena[src + q]
                top += 1
    return top


@njit(**HOT_INLINE)
def call_at(prog: np.ndarray, at: int, c: int) -> int:
    """The left-hand item index of the rule's call number c."""
    return prog[at + RULE_HEAD + ITEM * (prog[at + RULE_LHS] + prog[at + RULE_RHS]) + c]


@njit(**HOT_INLINE)
def next_call(prog: np.ndarray, at: int, c: int, pos: np.ndarray, end: np.ndarray,
              memo: np.ndarray, side: int) -> int:
    """From call c on, skip calls already known: the next call to push, -1 if one failed,
    or n_calls when all succeeded."""
    n_calls = prog[at + RULE_CALLS]
    while c < n_calls:
        k = call_at(prog, at, c)
        if pos[k] < end[k]:
            state = memo[pos[k] * side + end[k], M_STATE]
            if state == FAILED:
                return -1
            if state == UNSEEN:
                return c
        c += 1
    return n_calls


@njit(**HOT_INLINE)
def find_binding(prog: np.ndarray, frames: np.ndarray, f: int, words: np.ndarray,
                 bind: np.ndarray, fuel: int) -> tuple[int, int]:
    """Move frame f to its next binding, trying later rules in order (codes of next_binding)."""
    i, j = frames[f, F_I], frames[f, F_J]
    resume = frames[f, F_PHASE] == PH_NEXT
    while frames[f, F_RULE] < prog[ROW_RULES]:
        at = frames[f, F_AT]
        found, fuel = next_binding(prog, at, words, i, j, resume, bind[0, f], bind[1, f],
                                   bind[2, f], fuel)
        if found != 0:
            return found, fuel
        frames[f, F_RULE] += 1
        frames[f, F_AT] = at + rule_size(prog, at)
        resume = False
    return 0, fuel


@njit(**HOT_INLINE)
def push(frames: np.ndarray, depth: int, i: int, j: int) -> int:
    """Push a frame for span [i, j); the new depth."""
    frames[depth, F_I], frames[depth, F_J] = i, j
    frames[depth, F_RULE], frames[depth, F_AT] = 0, ROW_BODY
    frames[depth, F_CALL], frames[depth, F_PHASE] = 0, PH_RULE
    return depth + 1


@njit(**HOT_INLINE)
def finish(prog: np.ndarray, at: int, pos: np.ndarray, end: np.ndarray, memo: np.ndarray,
           side: int, key: int, words: np.ndarray, is_int: bool, max_output: int,
           arena: np.ndarray, top: int) -> tuple[int, int]:
    """Assemble a span's value into the memo: (status, new arena top)."""
    if is_int:
        value, over = total_int(prog, at, pos, end, memo, side)
        if over:
            return OVERFLOW, top
        memo[key, M_STATE], memo[key, M_A] = DONE, value
        return OK, top
    length = seq_length(prog, at, pos, end, memo, side)
    if length > max_output:
        return TOO_LONG, top
    if top + length > arena.shape[0]:
        return NO_ARENA, top
    memo[key, M_STATE], memo[key, M_A], memo[key, M_B] = DONE, top, length
    return OK, seq_write(prog, at, pos, end, memo, side, words, arena, top)


@njit(**HOT_INLINE)
def pop_failed(frames: np.ndarray, depth: int) -> int:
    """Pop a span no rule covers (it stays FAILED in the memo); its caller's binding fails."""
    depth -= 1
    if depth > 0:
        frames[depth - 1, F_PHASE] = PH_NEXT
    return depth


@njit(**HOT_INLINE)
def evaluate(prog: np.ndarray, words: np.ndarray, fuel: int, max_output: int, is_int: bool,
             memo: np.ndarray, frames: np.ndarray, bind: np.ndarray,
             arena: np.ndarray) -> tuple[int, int, int]:
    """Run a program row on words: (status, integer or arena offset, length).

    Scratch: memo (>= (n+1)**2 rows of 3), frames (>= n+2 rows), bind (3, >= n+2, max_lhs)
    and the arena for sequence values (NO_ARENA when it is too small: rerun with more).
    """
    n = words.shape[0]
    if n == 0:
        return EMPTY, 0, 0
    side = n + 1
    memo[: side * side, M_STATE] = UNSEEN
    fuel -= 1
    if fuel < 0:
        return FUEL, 0, 0
    memo[n, M_STATE] = FAILED  # span [0, n) is under evaluation
    depth, top = push(frames, 0, 0, n), 0
    while depth > 0:
        f = depth - 1
        if frames[f, F_PHASE] != PH_CALL:
            found, fuel = find_binding(prog, frames, f, words, bind, fuel)
            if found <= 0:
                if found < 0:
                    return FUEL, 0, 0
                depth = pop_failed(frames, depth)
                continue
            frames[f, F_CALL], frames[f, F_PHASE] = 0, PH_CALL
        at, pos, end = frames[f, F_AT], bind[0, f], bind[1, f]
        c = next_call(prog, at, frames[f, F_CALL], pos, end, memo, side)
        if c < 0:  # a called span failed: try the next binding
            frames[f, F_PHASE] = PH_NEXT
        elif c < prog[at + RULE_CALLS]:  # evaluate a fresh span first, then come back
            fuel -= 1
            if fuel < 0:
                return FUEL, 0, 0
            k = call_at(prog, at, c)
            memo[pos[k] * side + end[k], M_STATE] = FAILED
            frames[f, F_CALL] = c + 1
            depth = push(frames, depth, pos[k], end[k])
        else:  # every call succeeded: the binding gives the span's value
            key = frames[f, F_I] * side + frames[f, F_J]
            status, top = finish(prog, at, pos, end, memo, side, key, words, is_int,
                                 max_output, arena, top)
            if status != OK:
                return status, 0, 0
            depth -= 1
    if memo[n, M_STATE] != DONE:
        return NO_RULE, 0, 0
    return OK, memo[n, M_A], memo[n, M_B]


@njit(cache=True)
def compiled_stamp() -> int:
    """The source stamp this file's cached code was compiled under."""
    return STAMP
