"""The reference interpreter: conformance cases, a naive evaluator, totality, real data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import inputs, programs

from metarlm.data import load_miniscan, load_scan
from metarlm.lang.domain import parse_program
from metarlm.lang.dsl import Call, Const, Copy, Program, Rule, Token, Var, Word
from metarlm.lang.interp import (
    FUEL,
    INT_LIMIT,
    NO_RULE,
    OVERFLOW,
    TOO_LONG,
    Fail,
    Ok,
    Result,
    derive,
    evaluate,
    render,
)

ROOT = Path(__file__).resolve().parent.parent
CASES = json.loads((ROOT / "tests" / "data" / "conformance.json").read_text())["cases"]
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Abort(Exception):
    """A resource limit in the naive evaluator."""


class TooSlow(Exception):
    """The naive evaluator gave up (exponential without a memo)."""


def naive(program: Program, words: tuple[str, ...], max_output: int = 10_000,
          budget: int = 50_000, fuel: int = 10**9) -> tuple[Result, int]:
    """Spec-by-definition evaluator: no memo, a set of active spans as the cycle guard.

    Returns the result and the fuel spent. Fuel is charged as the accounting is documented:
    a unit when a span is first evaluated and a unit per length tried for an x or y variable
    during that first evaluation; evaluating a span again (a memo would have answered) is free.
    """
    steps, spent, charged = [budget], [0], set()

    def spend() -> None:
        spent[0] += 1
        if spent[0] > fuel:
            raise Abort(FUEL)

    def bindings(lhs: tuple, k: int, pos: int, j: int, acc: tuple, first: bool) -> Iterator:
        steps[0] -= 1
        if steps[0] < 0:
            raise TooSlow
        if k == len(lhs):
            if pos == j:
                yield acc
            return
        item = lhs[k]
        if isinstance(item, Word) or item.kind == "u":
            if pos < j and (not isinstance(item, Word) or words[pos] == item.text):
                yield from bindings(lhs, k + 1, pos + 1, j, acc + ((pos, pos + 1),), first)
            return
        # longest first; a length is tried only if it leaves a word for each later non-y
        # item, and the last item takes what is left
        need = sum(not (isinstance(it, Var) and it.kind == "y") for it in lhs[k + 1:])
        shortest = pos + (item.kind == "x")
        if k == len(lhs) - 1:
            shortest = max(shortest, j)
        for end in range(j - need, shortest - 1, -1):
            if first:
                spend()
            yield from bindings(lhs, k + 1, end, j, acc + ((pos, end),), first)

    def span(i: int, j: int, active: frozenset) -> object:
        if (i, j) in active:
            return None
        first = (i, j) not in charged
        if first:
            charged.add((i, j))
            spend()
        for rule in program.rules:
            for binding in bindings(rule.lhs, 0, i, j, (), first):
                env = {it: b for it, b in zip(rule.lhs, binding) if isinstance(it, Var)}
                value = apply(rule, env, active | {(i, j)})
                if value is not None:
                    return value
        return None

    def apply(rule: Rule, env: dict, active: frozenset) -> object:
        values: dict = {}
        for item in rule.rhs:
            if isinstance(item, Call) and item.var not in values:
                s, e = env[item.var]
                value = (() if program.algebra == "seq" else 0) if s == e else span(s, e, active)
                if value is None:
                    return None
                values[item.var] = value
        if program.algebra == "seq":
            out: tuple = ()
            for item in rule.rhs:
                if isinstance(item, Token):
                    out += (item.text,)
                elif isinstance(item, Copy):
                    out += words[env[item.var][0]: env[item.var][1]]
                else:
                    out += values[item.var]
            if len(out) > max_output:
                raise Abort(TOO_LONG)
            return out
        total = 0
        for item in rule.rhs:
            if isinstance(item, Const):
                term = item.value  # a constant is checked only once added
            else:
                term = checked(values[item.var] * item.scale)
            total = checked(total + term)
        return total

    try:
        value = span(0, len(words), frozenset())
    except Abort as abort:
        return Fail(str(abort)), spent[0]
    return (Fail(NO_RULE) if value is None else Ok(value)), spent[0]  # type: ignore[arg-type]


def checked(value: int) -> int:
    """The value, or an overflow abort."""
    if abs(value) >= INT_LIMIT:
        raise Abort(OVERFLOW)
    return value


@st.composite
def small_runs(draw: st.DrawFn) -> tuple[Program, tuple[str, ...], int, int]:
    program = draw(programs(holes=False, max_rules=4))
    return (program, draw(inputs(program, max_words=5)), draw(st.sampled_from((3, 10_000))),
            draw(st.integers(0, 60)))


def same(got: Result, want: Result) -> bool:
    """Equal results; failures by reason (the naive evaluator gives no detail)."""
    if isinstance(want, Fail):
        return isinstance(got, Fail) and got.reason == want.reason
    return got == want


@SETTINGS
@given(small_runs())
def test_memoized_reference_equals_naive_evaluator(run: tuple) -> None:
    program, words, max_output, fuel = run
    try:
        unlimited, spent = naive(program, words, max_output)
        limited, _ = naive(program, words, max_output, fuel=fuel)
    except TooSlow:
        assume(False)
    assert same(evaluate(program, words, 10**7, max_output), unlimited)
    assert same(evaluate(program, words, fuel, max_output), limited)
    # exactly the fuel the accounting charges: that much suffices, one unit less does not
    assert same(evaluate(program, words, spent, max_output), unlimited)
    if isinstance(unlimited, Ok) or unlimited.reason == NO_RULE:  # type: ignore[union-attr]
        assert evaluate(program, words, spent - 1, max_output) == Fail(FUEL)


@settings(max_examples=200, deadline=None)
@given(programs(), st.data(), st.integers(-5, 500))
def test_evaluation_is_total_and_fuel_monotone(program: Program, data: st.DataObject,
                                              fuel: int) -> None:
    words = data.draw(inputs(program))
    small, large = evaluate(program, words, fuel), evaluate(program, words, fuel + 1000)
    assert isinstance(small, (Ok, Fail)) and isinstance(large, (Ok, Fail))
    if small.ok:
        assert large == small
    else:
        assert small.reason == FUEL or large == small  # type: ignore[union-attr]
    assert isinstance(render(small), str)


def test_conformance_cases_through_the_reference() -> None:
    for case in CASES:
        domain = "rules" if case["algebra"] == "seq" else "numbers"
        result = evaluate(parse_program(case["program"], domain), tuple(case["input"].split()))
        if "fail" in case["expect"]:
            assert not result.ok, case["name"]
        else:
            out = case["expect"]["output"]
            assert result == Ok(out if isinstance(out, int) else tuple(out.split())), case["name"]


def test_scan_program_reproduces_every_scan_command() -> None:
    program = parse_program((ROOT / "examples" / "scan" / "scan.rules").read_text(), "scan")
    pairs = load_scan("tasks")
    assert len(pairs) == 20_910
    for command, actions in pairs:
        assert evaluate(program, tuple(command.split())) == Ok(tuple(actions.split())), command


def test_miniscan_program_reproduces_all_items() -> None:
    path = ROOT / "examples" / "miniscan" / "miniscan.rules"
    program = parse_program(path.read_text(), "miniscan")
    data = load_miniscan()
    items = data["examples"] + data["queries"]
    assert len(items) == 22
    for item in items:
        assert evaluate(program, tuple(item["input"].split())) == Ok(tuple(item["output"].split()))


def test_derivation_tree_names_the_rules_used() -> None:
    program = parse_program("x1 and x2 -> [x1] [x2]\na -> A\nb -> B", "rules")
    result, tree = derive(program, ("a", "and", "b"))
    assert result == Ok(("A", "B")) and tree is not None
    assert (tree.start, tree.end, tree.rule) == (0, 3, 0)
    assert [(c.start, c.end, c.rule) for c in tree.children] == [(0, 1, 1), (2, 3, 2)]
    assert derive(program, ("c",)) == (Fail(NO_RULE, "no rule covers 'c'"), None)


def test_derivation_steps_carry_their_spans_values() -> None:
    from metarlm.lang.domain import parse_program
    from metarlm.lang.interp import Ok, derive, evaluate

    program = parse_program(open("examples/scan/scan.rules", encoding="utf-8").read(), "scan")
    words = "jump around left twice after walk opposite right".split()
    result, tree = derive(program, words)
    assert tree is not None and result == Ok(tree.value)
    stack = [tree]
    while stack:
        step = stack.pop()
        assert evaluate(program, words[step.start:step.end]) == Ok(step.value)
        stack.extend(step.children)
