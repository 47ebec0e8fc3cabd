"""The reference interpreter: small, pure Python, the executable spec of the rule language.

Semantics. A program is evaluated on a span of input words (at the top, the whole input):

1. Ordered choice. Rules are tried in order; the first rule that yields a value for the span
   wins. A span no rule covers fails with reason ``no rule``; there is no pass-through.
2. Bindings. A rule's left-hand side is matched against the span item by item: a word must
   equal the input word, ``u`` takes one word, ``x`` one or more, ``y`` zero or more. Earlier
   variables take longer spans first (``x1 and x2`` splits at the *last* ``and``). For each
   binding in that order the right-hand side is evaluated; the first binding whose calls all
   succeed is taken (backtracking; failure is a value, not an exception).
3. Right-hand sides. Calls ``[v]`` are evaluated left to right; a ``y`` bound to the empty
   span interprets to the empty sequence or 0 without trying rules. In the sequence algebra
   the value is the concatenation of tokens, call values and copied words (bare ``v``); in the
   integer algebra it is the sum of constants, call values and call values times constants.
4. Memoization. The value (or failure) of each span is computed once (packrat style). A call
   on a span that is still being evaluated fails; only a call on the same span (``x1 -> [x1]``)
   can meet that guard, since every other call is on a shorter span, so memoized values do
   not depend on the order of evaluation.
5. Resources. Each span evaluated and each length tried for an ``x``/``y`` variable costs one
   unit of fuel; a span taken from the memo costs nothing, so fuel counts the memoized
   evaluation's work (the kernels spend exactly the same). Running out of fuel, an output
   longer than ``max_output`` tokens (itself at most ``MAX_OUTPUT_LIMIT``), or an integer of
   magnitude ``INT_LIMIT`` or more ends the whole run with that reason.

Holes (``?``) evaluate symbolically: a sequence value holds ``Hole`` markers; an integer value
becomes a polynomial over the holes (``Poly``), which the checker equates to the expected output.
Symbolic work is bounded like concrete work: building a polynomial costs one unit of fuel per
term and per hole factor in it, and every coefficient obeys ``INT_LIMIT`` (so does a constant
value: a polynomial without hole terms is an integer again). Hole-free programs never build
polynomials, so their fuel use is the same whichever interpreter runs them.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from metarlm.lang.dsl import Call, Const, Copy, Hole, Program, Rule, Token, Var, Word
from metarlm.lang.limits import MAX_OUTPUT_LIMIT

DEFAULT_FUEL = 200_000
MAX_OUTPUT = 10_000
INT_LIMIT = 2**62

NO_RULE, FUEL, TOO_LONG, OVERFLOW, EMPTY = (
    "no rule", "out of fuel", "output too long", "integer overflow", "empty input")

Monomial = tuple[int, ...]
Poly = dict[Monomial, int]  # hole indices (sorted, with repetition) -> coefficient
SeqValue = tuple[str | Hole, ...]
Value = SeqValue | int


@dataclass(frozen=True, slots=True)  # slots: run_many makes thousands, twice as fast
class Ok:
    """A successful evaluation: ``value`` is a token tuple, an int or (with holes) a Poly."""

    value: SeqValue | int | tuple[tuple[Monomial, int], ...]

    @property
    def ok(self) -> bool:
        return True


@dataclass(frozen=True)
class Fail:
    """A failed evaluation with its reason (one of the module's reason strings)."""

    reason: str
    detail: str = ""

    @property
    def ok(self) -> bool:
        return False


Result = Ok | Fail


@dataclass(frozen=True)
class Step:
    """One node of a derivation: the rule that produced a span and its sub-derivations."""

    start: int
    end: int
    rule: int
    children: tuple[Step, ...] = field(default=())
    value: SeqValue | int | tuple = ()  # the span's value, as Ok.value gives it


class _Abort(Exception):
    """Internal: a resource limit ends the whole run (never escapes ``evaluate``)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


_FAIL = object()  # sentinel for a failed span inside the evaluator


class _Evaluator:
    """Evaluates one program on one input with a per-span memo and a fuel counter."""

    def __init__(self, program: Program, words: Sequence[str], fuel: int, max_output: int):
        self.rules, self.algebra = program.rules, program.algebra
        self.words, self.fuel = tuple(words), fuel
        self.max_output = min(max_output, MAX_OUTPUT_LIMIT)
        self.memo: dict[tuple[int, int], object] = {}
        self.chosen: dict[tuple[int, int], tuple[int, tuple[tuple[int, int], ...]]] = {}
        self.min_after = [_min_after(rule) for rule in self.rules]

    def spend(self, units: int = 1) -> None:
        self.fuel -= units
        if self.fuel < 0:
            raise _Abort(FUEL)

    def span(self, i: int, j: int) -> object:
        """The value of words[i:j], or _FAIL; the memo entry doubles as the cycle guard."""
        key = (i, j)
        if key in self.memo:
            return self.memo[key]
        self.spend()
        self.memo[key] = _FAIL
        for r, rule in enumerate(self.rules):
            for binding in self.bindings(r, i, j):
                value = self.apply(rule, binding)
                if value is not _FAIL:
                    self.memo[key], self.chosen[key] = value, (r, binding)
                    return value
        return _FAIL

    def bindings(self, r: int, i: int, j: int) -> Iterator[tuple[tuple[int, int], ...]]:
        """Bindings of rule r's variables to sub-spans of [i, j), earlier variables longest."""
        lhs, min_after, words = self.rules[r].lhs, self.min_after[r], self.words

        def go(k: int, pos: int, acc: tuple[tuple[int, int], ...]) -> Iterator:
            if k == len(lhs):
                if pos == j:
                    yield acc
                return
            item = lhs[k]
            if isinstance(item, Word):
                if pos < j and words[pos] == item.text:
                    yield from go(k + 1, pos + 1, acc)
            elif item.kind == "u":
                if pos < j:
                    yield from go(k + 1, pos + 1, acc + ((pos, pos + 1),))
            else:
                shortest = pos + (1 if item.kind == "x" else 0)
                longest = j - min_after[k]
                if k == len(lhs) - 1:  # the last item must end the span
                    shortest = max(shortest, j)
                for end in range(longest, shortest - 1, -1):
                    self.spend()
                    yield from go(k + 1, end, acc + ((pos, end),))

        return go(0, i, ())

    def apply(self, rule: Rule, binding: tuple[tuple[int, int], ...]) -> object:
        """The right-hand side's value under a binding, or _FAIL if a call fails."""
        env: dict[Var, tuple[int, int]] = dict(zip(rule.variables(), binding))
        values: dict[Var, object] = {}
        for item in rule.rhs:
            if isinstance(item, Call) and item.var not in values:
                s, e = env[item.var]
                value = (() if self.algebra == "seq" else 0) if s == e else self.span(s, e)
                if value is _FAIL:
                    return _FAIL
                values[item.var] = value
        if self.algebra == "seq":
            return self.concat(rule, env, values)
        return self.total(rule, values)

    def concat(self, rule: Rule, env: dict, values: dict) -> SeqValue:
        parts: list[Sequence] = []
        for item in rule.rhs:
            if isinstance(item, Token):
                parts.append((item.text,))
            elif isinstance(item, Hole):
                parts.append((item,))
            elif isinstance(item, Copy):
                s, e = env[item.var]
                parts.append(self.words[s:e])
            else:
                parts.append(values[item.var])  # type: ignore[arg-type]
        if sum(len(p) for p in parts) > self.max_output:
            raise _Abort(TOO_LONG)
        return tuple(tok for part in parts for tok in part)

    def total(self, rule: Rule, values: dict) -> int | Poly:
        acc: int | Poly = 0
        for item in rule.rhs:
            if isinstance(item, Const):
                term: int | Poly = item.value
            elif isinstance(item, Hole):
                term = {(item.index,): 1}
            else:
                assert isinstance(item, Call)
                term = self.scale(values[item.var], item.scale)  # type: ignore[arg-type]
            acc = self.add(acc, term)
        return acc

    def add(self, a: int | Poly, b: int | Poly) -> int | Poly:
        """a + b; a polynomial sum is paid for in fuel before it is built."""
        if isinstance(a, int) and isinstance(b, int):
            return _check(a + b)
        self.spend(_size(a) + _size(b))
        out = dict(_as_poly(a))
        for mono, coef in _as_poly(b).items():
            out[mono] = out.get(mono, 0) + coef
        return _normal(out)

    def scale(self, value: int | Poly, scale: int | Hole) -> int | Poly:
        """value * scale (an integer, or a hole: one more factor in every term), paid for."""
        if isinstance(scale, int) and isinstance(value, int):
            return _check(value * scale)
        poly = _as_poly(value)
        if isinstance(scale, int):
            self.spend(_size(poly))
            return _normal({m: c * scale for m, c in poly.items()})
        self.spend(_size(poly) + len(poly))
        return _normal({tuple(sorted(m + (scale.index,))): c for m, c in poly.items()})


@functools.lru_cache(maxsize=8192)
def _min_after(rule: Rule) -> tuple[int, ...]:
    """For each LHS position, how many later items need at least one word."""
    out, need = [0] * len(rule.lhs), 0
    for k in range(len(rule.lhs) - 1, -1, -1):
        out[k] = need
        item = rule.lhs[k]
        need += 0 if isinstance(item, Var) and item.kind == "y" else 1
    return tuple(out)


def _check(value: int) -> int:
    if abs(value) >= INT_LIMIT:
        raise _Abort(OVERFLOW)
    return value


def _as_poly(value: int | Poly) -> Poly:
    return {(): value} if isinstance(value, int) else value


def _size(value: int | Poly) -> int:
    """Fuel a polynomial's terms cost: one per term and one per hole factor."""
    return 1 if isinstance(value, int) else sum(len(m) + 1 for m in value)


def _normal(poly: Poly) -> int | Poly:
    """Zero terms dropped, coefficients checked against INT_LIMIT, and an integer when no
    hole term is left (so a sketch's constant parts overflow exactly as concrete values do)."""
    out = {m: _check(c) for m, c in poly.items() if c}
    if all(not m for m in out):
        return out.get((), 0)
    return out


def _freeze(value: object) -> SeqValue | int | tuple:
    if isinstance(value, dict):
        return tuple(sorted(value.items()))
    return value  # type: ignore[return-value]


def evaluate(program: Program, words: Sequence[str], fuel: int = DEFAULT_FUEL,
             max_output: int = MAX_OUTPUT) -> Result:
    """Evaluate a program on a tuple of words; never raises, returns Ok or Fail."""
    return _run(program, words, fuel, max_output)[0]


def derive(program: Program, words: Sequence[str], fuel: int = DEFAULT_FUEL,
           max_output: int = MAX_OUTPUT) -> tuple[Result, Step | None]:
    """Evaluate and also return the derivation tree (which rule produced which span)."""
    result, ev = _run(program, words, fuel, max_output)
    if not result.ok or ev is None:
        return result, None
    return result, _tree(program, ev, len(words))


def _tree(program: Program, ev: _Evaluator, n: int) -> Step:
    """The derivation of words[0:n] from the evaluator's choices, built bottom-up without
    recursion (a derivation is as deep as the input is long)."""

    def kids(i: int, j: int) -> list[tuple[int, int]]:
        r, binding = ev.chosen[(i, j)]
        rule = program.rules[r]
        called = {it.var for it in rule.rhs if isinstance(it, Call)}
        return [(s, e) for var, (s, e) in zip(rule.variables(), binding)
                if var in called and s < e and (s, e) != (i, j)]

    built: dict[tuple[int, int], Step] = {}
    stack = [(0, n)]
    while stack:
        span = stack[-1]
        todo = [k for k in kids(*span) if k not in built]
        if todo:
            stack.extend(todo)
            continue
        stack.pop()
        r = ev.chosen[span][0]
        built[span] = Step(span[0], span[1], r, tuple(built[k] for k in kids(*span)),
                           _freeze(ev.memo[span]))
    return built[(0, n)]


def _run(program: Program, words: Sequence[str], fuel: int,
         max_output: int) -> tuple[Result, _Evaluator | None]:
    if not words:
        return Fail(EMPTY), None
    ev = _Evaluator(program, words, fuel, max_output)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 4 * len(words) + 500))
    try:
        value = ev.span(0, len(words))
    except _Abort as abort:
        return Fail(abort.reason), None
    finally:
        sys.setrecursionlimit(limit)
    if value is _FAIL:
        return Fail(NO_RULE, f"no rule covers {' '.join(words)!r}"), None
    return Ok(_freeze(value)), ev


def reproduces(program: Program, examples: Iterable[Any], fuel: int = DEFAULT_FUEL,
               max_output: int = MAX_OUTPUT) -> bool:
    """Whether the program gives every example (``.input``, ``.output``) its output: the one
    place that says so, by the spec."""
    for example in examples:
        result = evaluate(program, example.input, fuel, max_output)
        if not isinstance(result, Ok) or result.value != example.output:
            return False
    return True


def run_text(program: Program, text: str, **limits: int) -> Result:
    """Evaluate on a whitespace-separated input string."""
    return evaluate(program, text.split(), **limits)


def render(result: Result) -> str:
    """The text of a result: output tokens joined by spaces, the integer, or ``!FAIL reason``."""
    if not result.ok:
        return f"!FAIL {result.reason}"  # type: ignore[union-attr]
    value = result.value  # type: ignore[union-attr]
    if isinstance(value, int):
        return str(value)
    return " ".join("?" if isinstance(t, Hole) else str(t) for t in value)
