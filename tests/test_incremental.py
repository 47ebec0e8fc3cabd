"""DemoChecker agrees with the reference interpreter on every verdict and value.

Random backgrounds, parents and children (rules inserted anywhere), examples whose outputs
some program reproduces, and fuel that runs out: ``check`` and ``extend`` (from the parent's
own outcome, from an outcome made elsewhere, and from a child's outcome in turn) against
``interp.evaluate``.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import fuels, inputs, max_outputs, programs, rules

from metarlm.exec.incremental import NONE, RIGHT, WRONG, DemoChecker, Outcome, outcome
from metarlm.lang.demo import Example
from metarlm.lang.domain import parse_program
from metarlm.lang.dsl import Program, Rule, Word
from metarlm.lang.interp import FUEL, Ok, evaluate

NEVER = "never"  # a word no input has
SETTINGS = settings(max_examples=250, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def reference(program: Program, examples: tuple[Example, ...], fuel: int,
              max_output: int) -> Outcome:
    """The outcome as the reference interpreter gives it."""
    results = [evaluate(program, e.input, fuel, max_output) for e in examples]
    return outcome([r.value if isinstance(r, Ok) else None for r in results], examples)


def child(parent: tuple[Rule, ...], pos: int, rule: Rule) -> tuple[Rule, ...]:
    return parent[:pos] + (rule,) + parent[pos:]


@st.composite
def families(draw: st.DrawFn) -> tuple:
    """(background, parent, children, examples, fuel, max_output)."""
    alg = draw(st.sampled_from(("seq", "int")))
    holes = draw(st.integers(0, 9)) == 0  # the reference's road, now and then
    background = draw(st.one_of(st.just(Program((), alg)), programs(alg, holes, max_rules=3)))
    parent = draw(programs(alg, holes, max_rules=4)).rules[: draw(st.integers(0, 4))]
    kids = draw(st.lists(st.tuples(st.integers(-2, len(parent) + 2), rules(alg, holes)),
                         min_size=1, max_size=6))
    whole = Program(background.rules + parent + tuple(r for _, r in kids), alg)
    words = draw(st.lists(inputs(whole), min_size=1, max_size=4))
    sources = [background.rules + child(parent, p, r) for p, r in kids] + [background.rules
                                                                          + parent]
    max_output = draw(max_outputs())
    if draw(st.booleans()):  # about the fuel some program needs: runs out near there
        needs = fuel_need(Program(draw(st.sampled_from(sources)), alg),
                          draw(st.sampled_from(words)), max_output)
        fuel = max(0, needs + draw(st.integers(-2, 2)))
    else:
        fuel = draw(fuels())
    examples = []
    for ws in words:  # an output some program gives, else one no program gives
        program = Program(draw(st.sampled_from(sources)), alg)
        got = evaluate(program, ws, fuel, max_output)
        fallback = 7 if alg == "int" else ("B", "A")
        good = isinstance(got, Ok) and not program.holes() and draw(st.booleans())
        examples.append(Example(ws, got.value if good else fallback))
    return background, parent, kids, tuple(examples), fuel, max_output


def fuel_need(program: Program, words: tuple[str, ...], max_output: int) -> int:
    """The least fuel with which the reference does not run out on words (at most 200,000)."""
    lo, hi = 0, 200_000
    while lo < hi:
        mid = (lo + hi) // 2
        result = evaluate(program, words, mid, max_output)
        if getattr(result, "reason", None) == FUEL:
            lo = mid + 1
        else:
            hi = mid
    return lo


def expected(background: Program, learned: tuple[Rule, ...], examples: tuple[Example, ...],
             fuel: int, max_output: int) -> Outcome:
    return reference(Program(background.rules + learned, background.algebra), examples, fuel,
                     max_output)


@SETTINGS
@given(families())
def test_check_and_extend_equal_the_reference(family: tuple) -> None:
    background, parent, kids, examples, fuel, max_output = family
    checker = DemoChecker(examples, background, fuel, max_output)
    lists = [parent] + [child(parent, p, r) for p, r in kids]
    want = [expected(background, learned, examples, fuel, max_output) for learned in lists]
    assert checker.check(lists) == want
    known = checker.check([parent])[0]
    assert checker.extend(parent, known, kids) == want[1:]
    assert checker.extend(parent, outcome(known.values, examples), kids) == want[1:]
    fresh = DemoChecker(examples, background, fuel, max_output)  # extend before any check
    assert fresh.extend(parent, want[0], kids) == want[1:]


@SETTINGS
@given(families(), st.data())
def test_grandchildren_from_a_childs_outcome(family: tuple, data: st.DataObject) -> None:
    background, parent, kids, examples, fuel, max_output = family
    checker = DemoChecker(examples, background, fuel, max_output)
    first = checker.extend(parent, checker.check([parent])[0], kids)
    k = data.draw(st.integers(0, len(kids) - 1))
    middle = child(parent, *kids[k])
    grandkids = [(p, r) for p, r in kids]
    got = checker.extend(middle, first[k], grandkids)
    assert got == [expected(background, child(middle, p, r), examples, fuel, max_output)
                   for p, r in grandkids]


@st.composite
def idle_families(draw: st.DrawFn) -> tuple:
    """Children whose new rules bind nowhere (a word no input has) but spend fuel trying,
    under fuel just above what the parent needs: the shortcut's edge."""
    alg = draw(st.sampled_from(("seq", "int")))
    parent = draw(programs(alg, holes=False, max_rules=4)).rules
    kids = []
    for _ in range(draw(st.integers(1, 5))):
        rule = draw(rules(alg, holes=False))
        at = draw(st.integers(0, len(rule.lhs)))
        idle = Rule(rule.lhs[:at] + (Word(NEVER),) + rule.lhs[at:], rule.rhs)
        kids.append((draw(st.integers(0, len(parent))), idle))
    words = draw(st.lists(inputs(Program(parent, alg)), min_size=1, max_size=3))
    program = Program(parent, alg)
    fuel = fuel_need(program, draw(st.sampled_from(words)), 10_000) + draw(st.integers(0, 8))
    examples = []
    for ws in words:
        got = evaluate(program, ws, fuel)
        examples.append(Example(ws, got.value if isinstance(got, Ok) else 7 if alg == "int"
                                else ("A",)))
    return Program((), alg), parent, kids, tuple(examples), fuel, 10_000


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(idle_families())
def test_rules_that_bind_nowhere_keep_values_only_within_the_fuel(family: tuple) -> None:
    background, parent, kids, examples, fuel, max_output = family
    checker = DemoChecker(examples, background, fuel, max_output)
    want = [expected(background, child(parent, p, r), examples, fuel, max_output)
            for p, r in kids]
    assert checker.extend(parent, checker.check([parent])[0], kids) == want
    assert checker.check([child(parent, p, r) for p, r in kids]) == want


def random_rules(rng: random.Random, n: int) -> list[Rule]:
    """n rules over the words a, b, and, twice and u/x variables (many bind, many do not)."""
    texts = []
    for _ in range(n):
        lhs = rng.choice(["a", "b", "x1 twice", "u1 and x2", "x1 and x2", "u1 x1", "x1 b",
                          "a x1", "x1 y1 twice"])
        names = [w for w in lhs.split() if w[0] in "uxy"]
        rhs = " ".join(rng.choice([f"[{v}]" for v in names] + ["A", "B"])
                       for _ in range(rng.randint(0, 3)))
        texts.append(f"{lhs} -> {rhs}")
    return list(parse_program("\n".join(texts), "rules").rules)


@pytest.mark.parametrize("cache_limit", [1 << 20, 1])
def test_many_programs_grow_every_table_and_still_equal_the_reference(
        cache_limit: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from metarlm.exec import incremental

    monkeypatch.setattr(incremental, "CACHE_LIMIT", cache_limit)  # 1: forget at every fill
    rng = random.Random(3)  # small first tables: values, outcomes, cache, arena all grow
    pool = random_rules(rng, 60) + list(parse_program("a -> A A A A A A A A\n"
                                                      "x1 twice -> [x1] [x1]", "rules").rules)
    words = [tuple(rng.choice(["a", "b", "and", "twice"]) for _ in range(rng.randint(1, 6)))
             for _ in range(10)] + [("a",) + ("twice",) * 7]
    examples = tuple(Example(ws, ("A",) * (k % 3)) for k, ws in enumerate(words))
    checker = DemoChecker(examples, Program((), "seq"))
    lists = [tuple(rng.sample(pool, rng.randint(1, 5))) for _ in range(400)] + [tuple(pool[-2:])]
    got = checker.check(lists)
    assert got == [expected(Program((), "seq"), rules, examples, 200_000, 10_000)
                   for rules in lists]
    kids = [(rng.randint(0, 5), rng.choice(pool)) for _ in range(300)]
    assert checker.extend(lists[0], got[0], kids) == [
        expected(Program((), "seq"), child(lists[0], p, r), examples, 200_000, 10_000)
        for p, r in kids]


def test_outcomes_are_canonical_and_verdicts_follow_the_outputs() -> None:
    program = parse_program("a -> A\nb -> B\nx1 and x2 -> [x1] [x2]", "rules")
    examples = (Example(("a",), ("A",)), Example(("a", "and", "b"), ("B",)),
                Example(("c",), ("C",)))
    checker = DemoChecker(examples, Program((), "seq"))
    one, two = checker.check([program.rules, program.rules[::-1]])
    assert one is two  # the same values: the same object
    assert one.values == (("A",), ("A", "B"), None)
    assert one.verdicts == (RIGHT, WRONG, NONE)
    assert (one.right, one.wrong, one.complete) == (1, 1, False)


def test_a_rule_that_never_binds_still_spends_the_fuel_its_enumeration_costs() -> None:
    parent = parse_program("a -> A", "rules").rules
    idle = parse_program("x1 y1 zz -> A", "rules").rules[0]  # zz is in no input
    words = ("a", "a", "a")
    parent3 = parent + parse_program("x1 x2 -> [x1] [x2]", "rules").rules
    need = next(f for f in range(1000) if evaluate(Program(parent3), words, f).ok)
    examples = (Example(words, ("A", "A", "A")),)
    checker = DemoChecker(examples, Program((), "seq"), fuel=need)
    known = checker.check([parent3])[0]
    assert known.complete
    out = checker.extend(parent3, known, [(0, idle), (2, idle)])
    assert out[0].values == (None,)  # tried first on every span: out of fuel
    assert out[1].complete  # tried last: never reached, no fuel spent
    assert out == [reference(Program(child(parent3, p, idle)), examples, need, 10_000)
                   for p in (0, 2)]
    roomy = DemoChecker(examples, Program((), "seq"), fuel=need + 200)
    assert roomy.extend(parent3, roomy.check([parent3])[0], [(0, idle)])[0].complete


def test_integer_algebra_and_empty_inputs() -> None:
    program = parse_program("one -> 1\ntwo -> 2\nx1 hundred y1 -> [x1] * 100 + [y1]",
                            "numbers")
    examples = (Example(("two", "hundred", "one"), 201), Example((), 0),
                Example(("one",), 2))
    checker = DemoChecker(examples, Program(program.rules[:2], "int"))
    got = checker.extend((), checker.check([()])[0], [(0, program.rules[2])])
    assert got[0].values == (201, None, 1)
    assert got[0].verdicts == (RIGHT, NONE, WRONG)
