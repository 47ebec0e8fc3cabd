"""Enumerative rule induction: decomposition, abduction, templates and segmentations."""

from __future__ import annotations

import pytest

from metarlm.check import run_many
from metarlm.data import load_miniscan, load_scan
from metarlm.demo import Example, parse_demo
from metarlm.dsl import parse_program
from metarlm.enumerator import Budget, Enumerator
from metarlm.interp import Ok, evaluate

SCAN_RULES = open("examples/scan/scan.rules", encoding="utf-8").read()


def _first(enum: Enumerator):
    return next(iter(enum.run()), None)


def test_miniscan_study_items_solved_and_generalise() -> None:
    demo = parse_demo(load_miniscan())
    program = _first(Enumerator(demo.examples, None, "seq", Budget(seconds=60)))
    assert program is not None
    for ex in demo.examples:  # every accepted program reproduces its demonstration
        assert evaluate(program, ex.input) == Ok(ex.output)
    for q in demo.queries:
        assert evaluate(program, q.input) == Ok(q.expected)


def test_one_shot_add_jump_by_abduction() -> None:
    background = "\n".join(line for line in SCAN_RULES.splitlines()
                           if not line.startswith("jump"))
    full = parse_program(SCAN_RULES, "scan")
    demo_input = "jump around left twice"
    output = " ".join(evaluate(full, demo_input.split()).value)  # type: ignore[union-attr]
    demo = parse_demo({"domain": "scan", "background": background,
                       "examples": [{"input": demo_input, "output": output}]})
    program = _first(Enumerator(demo.examples, demo.background, "seq", Budget(seconds=30)))
    assert program is not None
    assert program.rules[-1] == parse_program("jump -> I_JUMP", "scan").rules[0]
    test = load_scan("addprim_jump_test")
    results = run_many(program, [tuple(c.split()) for c, _ in test])
    assert all(r == Ok(tuple(a.split())) for r, (_, a) in zip(results, test))


def test_budget_is_respected() -> None:
    demo = parse_demo(load_miniscan())
    budget = Budget(max_candidates=10, seconds=60)
    assert _first(Enumerator(demo.examples, None, "seq", budget)) is None
    assert budget.candidates <= 10 + 256  # a started chunk is finished, then it stops


def test_integer_rules_found_with_z3() -> None:
    background = "\n".join(f"{w} -> {v}" for w, v in
                           [("one", 1), ("two", 2), ("three", 3), ("five", 5)])
    examples = [("two hundred", 200), ("three hundred five", 305), ("one hundred two", 102),
                ("five hundred three", 503)]
    demo = parse_demo({"domain": "numbers", "background": background,
                       "examples": [{"input": i, "output": o} for i, o in examples]})
    program = _first(Enumerator(demo.examples, demo.background, "int", Budget(seconds=30),
                                kinds=demo.domain.var_kinds))
    assert program is not None
    assert evaluate(program, ("two", "hundred", "three")) == Ok(203)
    assert evaluate(program, ("three", "hundred")) == Ok(300)


@pytest.mark.parametrize("seed", [0, 1])
def test_every_yielded_program_is_consistent(seed: int) -> None:
    import random

    rng = random.Random(seed)
    items = load_miniscan()["examples"]
    rng.shuffle(items)
    demo = parse_demo({"domain": "miniscan", "examples": items})
    for k, program in enumerate(Enumerator(demo.examples, None, "seq",
                                           Budget(seconds=30)).run()):
        assert all(evaluate(program, e.input) == Ok(e.output) for e in demo.examples)
        if k == 3:
            break


def test_example_order_does_not_matter_for_primitives() -> None:
    examples = [Example(("dax",), ("RED",)), Example(("dax", "fep"), ("RED", "RED"))]
    program = _first(Enumerator(examples, None, "seq", Budget(seconds=10)))
    assert program is not None and evaluate(program, ("dax", "fep")) == Ok(("RED", "RED"))
