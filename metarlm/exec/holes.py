"""Hole filling: the values of a sketch's ``?`` that make it reproduce a demonstration.

Left-hand sides match input words only, so a sketch's derivation of an example does not
depend on what its holes hold. The reference interpreter evaluates the sketch once per
example with the holes symbolic, and the result is a set of constraints:

- sequence algebra: the output has the expected length and every position equals the
  expected token, so each hole that occurs in an output equals one token. Such equalities are
  solved exactly by unification; holes that no derivation uses take any candidate token (the
  domain vocabulary when given, else the tokens of the expected outputs).
- integer algebra: per example, a polynomial over the holes (``[v] * ?`` multiplies hole
  terms, so it may be nonlinear) equals the expected integer. Equations with one unknown,
  linear, are solved directly to a fixpoint (the common case: ``[x1] * ?`` with known
  digits); what remains goes to Z3 over integers in ``int_range`` with a time budget. Every
  filling is run again (in the kernels, which agree with the reference interpreter), since
  a concrete run can overflow where the polynomial does not.

``fill_all`` enumerates distinct solutions (blocking each one found) for the search to rank.
"""

from __future__ import annotations

import functools
import itertools
import operator
import time
from collections import OrderedDict
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Literal

from metarlm.exec.pack import reproduces
from metarlm.exec.run import run_many
from metarlm.lang.demo import Example
from metarlm.lang.dsl import Call, Const, Hole, Program, RhsItem, Rule, Token
from metarlm.lang.interp import DEFAULT_FUEL, MAX_OUTPUT, Fail, Monomial, Result, evaluate

DEFAULT_INT_RANGE = (0, 10**7)
SYMBOLIC_SKETCHES = 256
DEFAULT_TIMEOUT_MS = 2000
FrozenPoly = tuple[tuple[Monomial, int], ...]
HoleValue = str | int
Assignment = tuple[tuple[int, HoleValue], ...]  # (hole index, value), sorted by index
Status = Literal["sat", "unsat", "unknown"]
_SYMBOLIC: OrderedDict[tuple[Program, int, int], dict[tuple[str, ...], Result]] = OrderedDict()


@dataclass(frozen=True)
class HoleSystem:
    """The constraints a sketch's holes must meet to reproduce a list of examples."""

    algebra: Literal["seq", "int"]
    holes: tuple[int, ...]  # every hole index of the program, ascending
    tokens: tuple[tuple[int, str], ...] = ()  # sequence algebra: hole == token
    equations: tuple[tuple[FrozenPoly, int], ...] = ()  # integer algebra: poly == value
    seen: tuple[str, ...] = ()  # the expected outputs' tokens, sorted (default candidates)


@dataclass(frozen=True)
class Conflict:
    """No hole values can help: example ``example`` fails or mismatches for ``reason``."""

    example: int
    reason: str


@dataclass(frozen=True)
class Solutions:
    """Up to ``limit`` assignments; ``status`` is ``unknown`` when the time budget ran out."""

    status: Status
    assignments: tuple[Assignment, ...] = ()


def hole_indices(program: Program) -> tuple[int, ...]:
    """The distinct hole indices of a program, ascending (tokens, constants and scales)."""
    found: set[int] = set()
    for rule in program.rules:
        for item in rule.rhs:
            if isinstance(item, Hole):
                found.add(item.index)
            elif isinstance(item, Call) and isinstance(item.scale, Hole):
                found.add(item.scale.index)
    return tuple(sorted(found))


def substitute(program: Program, assignment: Mapping[int, HoleValue]) -> Program:
    """The program with each assigned hole replaced by a Token, a Const or an integer scale."""

    def item(it: RhsItem) -> RhsItem:
        if isinstance(it, Hole) and it.index in assignment:
            value = assignment[it.index]
            return Token(value) if isinstance(value, str) else Const(value)
        if isinstance(it, Call) and isinstance(it.scale, Hole) and it.scale.index in assignment:
            scale = assignment[it.scale.index]
            if not isinstance(scale, int):
                raise ValueError(f"hole {it.scale.index} is a scale and needs an integer")
            return Call(it.var, scale)
        return it

    rules = tuple(Rule(rule.lhs, tuple(item(it) for it in rule.rhs)) for rule in program.rules)
    return Program(rules, program.algebra)


def _symbolic(program: Program, fuel: int, max_output: int) -> dict[tuple[str, ...], Result]:
    """The sketch's symbolic results computed so far, by input (kept for the latest
    SYMBOLIC_SKETCHES sketches). For callers whose sketches recur: fitting sums poses one
    sketch on overlapping groups of examples and again from later states (on English number
    words two evaluations in three were repeats). Sketches that seldom recur stay out: the
    key is the whole program, and hashing a fresh one made the systematic lane's 200,000
    candidates on octal_prefix about 15% slower."""
    key = (program, fuel, max_output)
    found = _SYMBOLIC.get(key)
    if found is None:
        found = _SYMBOLIC[key] = {}
        if len(_SYMBOLIC) > SYMBOLIC_SKETCHES:
            _SYMBOLIC.popitem(last=False)
    else:
        _SYMBOLIC.move_to_end(key)
    return found


def hole_constraints(program: Program, examples: Sequence[Example], fuel: int = DEFAULT_FUEL,
                     max_output: int = MAX_OUTPUT, keep: bool = False) -> HoleSystem | Conflict:
    """Evaluate the sketch symbolically on each example and collect the hole constraints
    (``keep``: the results are kept for when the sketch comes again, ``_symbolic``)."""
    tokens: set[tuple[int, str]] = set()
    equations: set[tuple[FrozenPoly, int]] = set()
    seen: set[str] = set()
    known = _symbolic(program, fuel, max_output) if keep else {}
    if program.algebra == "seq":  # the kernels give sequence holes back as Hole items
        todo = list(dict.fromkeys(e.input for e in examples if e.input not in known))
        if todo:
            known.update(zip(todo, run_many(program, todo, fuel, max_output)))
    for k, example in enumerate(examples):
        result = known.get(example.input)
        if result is None:  # evaluation is pure: a result computed once holds
            result = known[example.input] = evaluate(program, example.input, fuel, max_output)
        if isinstance(result, Fail):
            return Conflict(k, f"{result.reason}: {result.detail}" if result.detail
                            else result.reason)
        if program.algebra == "seq":
            problem = _seq_constraints(result.value, example.output, tokens)
            if isinstance(example.output, tuple):
                seen.update(example.output)
        else:
            problem = _int_constraints(result.value, example.output, equations)
        if problem:
            return Conflict(k, problem)
    return HoleSystem(program.algebra, hole_indices(program), tuple(sorted(tokens)),
                      tuple(sorted(equations)), tuple(sorted(seen)))


def _seq_constraints(value: object, expected: object, out: set[tuple[int, str]]) -> str:
    """Add ``hole == token`` pairs for one example; a non-empty string names a mismatch."""
    if not isinstance(expected, tuple) or not isinstance(value, tuple):
        return "expected a token sequence"
    if len(value) != len(expected):
        return f"output length {len(value)}, expected {len(expected)}"
    for pos, (got, want) in enumerate(zip(value, expected)):
        if isinstance(got, Hole):
            out.add((got.index, want))
        elif got != want:
            return f"token {pos} is {got!r}, expected {want!r}"
    return ""


def _int_constraints(value: object, expected: object, out: set[tuple[FrozenPoly, int]]) -> str:
    """Add ``poly == value`` for one example; a non-empty string names a mismatch."""
    if not isinstance(expected, int) or isinstance(expected, bool):
        return "expected an integer"
    if isinstance(value, int):
        return "" if value == expected else f"value {value}, expected {expected}"
    if not isinstance(value, tuple):
        return "expected an integer value"
    # An empty tuple is the zero polynomial (every hole term multiplied away).
    constant = sum(c for mono, c in value if not mono)
    poly = tuple((mono, c) for mono, c in value if mono)
    if not poly:
        return "" if constant == expected else f"value {constant}, expected {expected}"
    out.add((poly, expected - constant))
    return ""


def solve(system: HoleSystem, limit: int = 1, vocabulary: Collection[str] | None = None,
          int_range: tuple[int, int] = DEFAULT_INT_RANGE,
          timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Solutions:
    """Up to ``limit`` (at least one) distinct assignments meeting the system, unchecked."""
    limit = max(limit, 1)
    if system.algebra == "seq":
        return _solve_tokens(system, limit, vocabulary)
    return Solutions(*_first(_int_models(system, int_range, timeout_ms), limit))


def _first(models: Iterator[Assignment | Status], limit: int) -> tuple[Status, tuple]:
    """Take up to ``limit`` assignments from a model stream that ends with its status."""
    found: list[Assignment] = []
    status: Status = "unsat"
    for model in models:
        if isinstance(model, str):
            status = model
            break
        found.append(model)
        if len(found) >= limit:
            break
    return ("sat" if found else status), tuple(found)


def _solve_tokens(system: HoleSystem, limit: int,
                  vocabulary: Collection[str] | None) -> Solutions:
    """Unify ``hole == token`` pairs; free holes range over the candidate tokens."""
    candidates = sorted(set(vocabulary)) if vocabulary is not None else list(system.seen)
    allowed = set(candidates)
    fixed: dict[int, str] = {}
    for hole, token in system.tokens:
        if fixed.setdefault(hole, token) != token or token not in allowed:
            return Solutions("unsat")
    free = [h for h in system.holes if h not in fixed]
    combos = itertools.islice(itertools.product(candidates, repeat=len(free)), limit)
    found = tuple(tuple(sorted({**fixed, **dict(zip(free, combo))}.items())) for combo in combos)
    return Solutions("sat" if found else "unsat", found)


def _int_models(system: HoleSystem, int_range: tuple[int, int],
                timeout_ms: int) -> Iterator[Assignment | Status]:
    """Yield models one by one, each blocked after it; end with ``unsat`` or ``unknown``."""
    low, high = int_range
    if low > high:
        raise ValueError(f"empty integer range {int_range}")
    forced = _propagate(system.equations, low, high)
    if forced is None:
        yield "unsat"
        return
    known, rest = forced
    free = [h for h in system.holes if h not in known]
    blocked: list[dict[int, int]] = []
    # Most sketches pin every used hole by a one-unknown linear equation: no Z3 needed.
    if not rest:
        first = {**known, **dict.fromkeys(free, low)}
        yield tuple(sorted(first.items()))
        if not free or low == high:
            yield "unsat"
            return
        blocked.append(first)
    yield from _z3_models(system, low, high, timeout_ms, blocked)


def _propagate(equations: Sequence[tuple[FrozenPoly, int]], low: int,
               high: int) -> tuple[dict[int, int], list[tuple[dict, int]]] | None:
    """Solve one-unknown linear equations to a fixpoint; None when they force no solution."""
    known: dict[int, int] = {}
    rest: list[tuple[dict[Monomial, int], int]] = [(dict(p), v) for p, v in equations]
    changed = True
    while changed:
        changed, pending = False, []
        for poly, value in rest:
            poly, value = _reduce(poly, value, known)
            if not poly:
                if value:
                    return None
                continue
            if len(poly) != 1 or len(next(iter(poly))) != 1:
                pending.append((poly, value))
                continue
            ((mono, coef),) = poly.items()
            if value % coef or not low <= value // coef <= high:
                return None
            known[mono[0]], changed = value // coef, True
        rest = pending
    return known, rest


def _reduce(poly: dict[Monomial, int], value: int,
            known: dict[int, int]) -> tuple[dict[Monomial, int], int]:
    """Substitute known holes; constant terms move to the right-hand side."""
    out: dict[Monomial, int] = {}
    for mono, coef in poly.items():
        rest = tuple(h for h in mono if h not in known)
        for h in mono:
            coef *= known.get(h, 1)
        if not rest:
            value -= coef
        elif coef:
            out[rest] = out.get(rest, 0) + coef
    return {m: c for m, c in out.items() if c}, value


def _z3_models(system: HoleSystem, low: int, high: int, timeout_ms: int,
               blocked: list[dict[int, int]]) -> Iterator[Assignment | Status]:
    """Yield Z3 models other than ``blocked``, each blocked after it, within the time budget."""
    import z3  # heavy: only sketches that propagation cannot settle pay for it

    ctx = _z3_context()
    var = {h: z3.Int(f"h{h}", ctx) for h in system.holes}
    solver = z3.Solver(ctx=ctx)
    for v in var.values():
        solver.add(v >= low, v <= high)
    for poly, value in system.equations:
        terms = [c * functools.reduce(operator.mul, (var[h] for h in mono)) for mono, c in poly]
        solver.add(z3.Sum(terms) == value)
    for values in blocked:
        solver.add(z3.Or([v != values[h] for h, v in var.items()]))
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        left_ms = int((deadline - time.monotonic()) * 1000)
        if left_ms <= 0:
            yield "unknown"
            return
        solver.set("timeout", left_ms)
        verdict = solver.check()
        if verdict != z3.sat:
            yield "unsat" if verdict == z3.unsat else "unknown"
            return
        model = solver.model()
        values = {h: model.eval(v, model_completion=True).as_long() for h, v in var.items()}
        yield tuple(sorted(values.items()))
        solver.add(z3.Or([v != values[h] for h, v in var.items()]))


FILLS_KEPT = 1 << 12  # fillings remembered before the memo starts afresh


@dataclass
class _Scope:
    """One search's solver state: its finished fillings and its own Z3 context.

    (program, examples, and the settings that decide the answer) -> its fillings. Only
    answers the solver finished are kept, so a time limit never decides a later call's answer;
    and none outlive the search, so no search runs faster for the one before it. Z3's models
    depend on what its context has seen (the same system posed twice in one context can give
    another model), so each search gets a context of its own: its answers then depend on its
    own calls alone, whatever ran before it or beside it.
    """

    fills: dict[tuple, list[Program]] = field(default_factory=dict)
    z3: object | None = None  # z3.Context, made at the scope's first solver call


_SCOPE: ContextVar[_Scope | None] = ContextVar("solver_scope", default=None)


@contextmanager
def remembering() -> Iterator[None]:
    """Within this block, ``fill_all`` remembers its finished answers and Z3 works in a
    context of the block's own (one search's scope)."""
    token = _SCOPE.set(_Scope())
    try:
        yield
    finally:
        _SCOPE.reset(token)


def open_scope() -> None:
    """Start a fresh scope in the current context, for the rest of it (a search that runs
    in a ``contextvars.Context`` of its own: ``metarlm.synth.lanes``)."""
    _SCOPE.set(_Scope())


def _z3_context() -> object | None:
    """The scope's Z3 context (None outside a scope: Z3's main one)."""
    scope = _SCOPE.get()
    if scope is None:
        return None
    if scope.z3 is None:
        import z3

        scope.z3 = z3.Context()
    return scope.z3


def fill_all(program: Program, examples: Sequence[Example], limit: int = 8,
             fuel: int = DEFAULT_FUEL, max_output: int = MAX_OUTPUT,
             vocabulary: Collection[str] | None = None,
             int_range: tuple[int, int] = DEFAULT_INT_RANGE,
             timeout_ms: int = DEFAULT_TIMEOUT_MS, keep: bool = False) -> list[Program]:
    """Up to ``limit`` distinct fillings of the holes that reproduce every example
    (``keep`` as ``hole_constraints`` takes it).

    A search poses the same sketch on the same examples again from other states (about half
    of the sketches on number words), so within ``remembering()`` finished answers are
    remembered."""
    if limit <= 0:
        return []
    scope = _SCOPE.get()
    if scope is None:
        return _fillings(program, examples, limit, fuel, max_output, vocabulary, int_range,
                         timeout_ms, keep)[0]
    key = (program, tuple(examples), limit, fuel, max_output,
           None if vocabulary is None else frozenset(vocabulary), int_range, keep)
    found = scope.fills.get(key)
    if found is None:
        found, finished = _fillings(program, examples, limit, fuel, max_output, vocabulary,
                                    int_range, timeout_ms, keep)
        if finished:
            if len(scope.fills) >= FILLS_KEPT:
                scope.fills.clear()
            scope.fills[key] = found
    return list(found)


def _fillings(program: Program, examples: Sequence[Example], limit: int, fuel: int,
              max_output: int, vocabulary: Collection[str] | None, int_range: tuple[int, int],
              timeout_ms: int, keep: bool) -> tuple[list[Program], bool]:
    """``fill_all``'s answer, and whether the solver finished (no time limit cut it short)."""
    system = hole_constraints(program, examples, fuel, max_output, keep)
    if isinstance(system, Conflict):
        return [], True
    if not system.holes:
        return [program], True
    if system.algebra == "seq":
        # Symbolic evaluation is exact in the sequence algebra: no check needed.
        solved = _solve_tokens(system, limit, vocabulary)
        return [substitute(program, dict(a)) for a in solved.assignments], True
    out: list[Program] = []
    for model in _int_models(system, int_range, timeout_ms):
        if isinstance(model, str):
            return out, model != "unknown"
        filled = substitute(program, dict(model))
        if reproduces(filled, examples, fuel, max_output):
            out.append(filled)
            if len(out) >= limit:
                break
    return out, True


def fill_holes(program: Program, examples: Sequence[Example], fuel: int = DEFAULT_FUEL,
               max_output: int = MAX_OUTPUT, vocabulary: Collection[str] | None = None,
               int_range: tuple[int, int] = DEFAULT_INT_RANGE,
               timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Program | None:
    """The program with its holes filled so it reproduces every example, or None."""
    found = fill_all(program, examples, 1, fuel, max_output, vocabulary, int_range, timeout_ms)
    return found[0] if found else None


__all__ = ["DEFAULT_INT_RANGE", "DEFAULT_TIMEOUT_MS", "Conflict", "HoleSystem", "Solutions",
           "fill_all", "fill_holes", "hole_constraints", "hole_indices", "open_scope",
           "remembering", "solve", "substitute"]
