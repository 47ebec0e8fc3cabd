"""Revisions of a learned rule list: drop, move earlier, widen; precedence order."""

from __future__ import annotations

from metarlm.lang.demo import Example
from metarlm.lang.domain import parse_program
from metarlm.lang.dsl import Program, print_rule
from metarlm.lang.interp import Ok, evaluate
from metarlm.synth.generators.revisions import repairs, widened
from metarlm.synth.plugins.precedence import precedence_order

SCAN_RULES = open("examples/scan/scan.rules", encoding="utf-8").read()


def _rules(text: str):
    return parse_program(text, "scan").rules


def test_widened_makes_one_word_variable_a_span_at_a_time() -> None:
    rule = _rules("u1 and u2 -> [u1] [u2]")[0]
    got = {print_rule(r) for r in widened(rule)}
    assert got == {"x1 and u2 -> [x1] [u2]", "u1 and x1 -> [u1] [x1]"}
    assert list(widened(_rules("u1 u2 -> [u2] [u1]")[0])) == []  # no word: left alone
    assert list(widened(_rules("walk -> I_WALK")[0])) == []


def test_repairs_drop_move_earlier_and_widen() -> None:
    a, b, c = _rules("walk -> I_WALK\nthrice -> I_WALK I_WALK\nu1 thrice -> [u1] [u1] [u1]")
    got = repairs((a, b, c))
    assert (a, c) in got and (b, c) in got and (a, b) in got  # each rule dropped
    assert (c, a, b) in got and (a, c, b) in got  # moved earlier
    assert (a, b, _rules("x1 thrice -> [x1] [x1] [x1]")[0]) in got  # widened in place
    assert (b, a, c) in got and (c, b, a) not in got  # one move at a time


def test_precedence_puts_span_rules_before_word_rules_before_loose_ones() -> None:
    prims = _rules("\n".join(ln for ln in SCAN_RULES.splitlines()
                             if "->" in ln and "u1" not in ln and "x1" not in ln))
    opposite, twice, pair, after = _rules(
        "x1 opposite x2 -> [x2] [x2] [x1]\nx1 twice -> [x1] [x1]\nu1 u2 -> [u2] [u1]\n"
        "x2 after x1 -> [x1] [x2]")
    learned = prims + (pair, opposite, twice, after)
    program = Program(learned, "seq")
    examples = [Example(tuple(t.split()), evaluate(parse_program(SCAN_RULES, "scan"),
                                                    t.split()).value)  # type: ignore[union-attr]
                for t in ("walk opposite left", "jump left twice", "run twice after walk")]
    ordered = precedence_order(program, learned, examples)
    assert ordered == prims + (after, twice, opposite, pair)  # connectives, modifiers, ...
    # the order it chose reads a longer input the way the examples' rules mean it
    longer = ("walk", "opposite", "left", "twice")
    full = parse_program(SCAN_RULES, "scan")
    assert evaluate(Program(ordered, "seq"), longer) == evaluate(full, longer)
    assert isinstance(evaluate(full, longer), Ok)
