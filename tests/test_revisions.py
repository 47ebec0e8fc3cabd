"""Revisions of a learned rule list: drop, move earlier, widen; precedence order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from metarlm.lang.demo import Example
from metarlm.lang.domain import parse_program
from metarlm.lang.dsl import Program, Var, print_rule
from metarlm.lang.interp import Ok, derive, evaluate
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


def _oracle(program: Program, learned: tuple, examples: list[Example]) -> tuple:
    """The precedence levels from every example's whole derivation."""
    offset, spanning = len(program.rules) - len(learned), set()
    for ex in examples:
        stack = [derive(program, ex.input)[1]]
        while stack:
            step = stack.pop()
            if step is not None:
                if any(k.end - k.start > 1 for k in step.children):
                    spanning.add(step.rule - offset)
                stack.extend(step.children)

    def level(i: int) -> tuple[int, int]:
        rule = learned[i]
        if not rule.variables():
            return 0, 0
        if all(isinstance(it, Var) for it in rule.lhs):
            return 3, 0
        return (1, -sum(v.kind != "u" for v in rule.variables())) if i in spanning else (2, 0)
    return tuple(learned[i] for i in sorted(range(len(learned)), key=level))


# the SCAN rules and some in y and mixed variables, which bind spans differently
EXTRA = ("y1 after y2 -> [y2] [y1]", "x1 twice y1 -> [x1] [x1] [y1]",
         "u1 thrice x1 -> [u1] [x1] [u1]", "y1 and u1 -> [u1] [y1]")
SCAN_PROGRAM = parse_program(SCAN_RULES + "\n" + "\n".join(EXTRA), "rules")
COMMANDS = ("walk opposite left", "jump left twice", "run twice after walk", "look and walk",
            "walk around right thrice", "jump opposite left after look twice", "walk twice",
            "and walk", "look thrice jump left", "after run left", "walk and run twice")


@settings(max_examples=150, deadline=None)
@given(st.permutations(range(len(SCAN_PROGRAM.rules))), st.integers(1, 8),
       st.lists(st.sampled_from(COMMANDS), min_size=1, max_size=4))
def test_precedence_order_equals_levels_from_every_derivation(
        order: list[int], n_learned: int, commands: list[str]) -> None:
    rules = tuple(SCAN_PROGRAM.rules[i] for i in order)
    program = Program(rules, "seq")
    learned = rules[-n_learned:]
    examples = [Example(tuple(c.split()), ()) for c in commands]  # outputs are not read
    assert precedence_order(program, learned, examples) == _oracle(program, learned, examples)


def test_precedence_derives_nothing_when_no_outcome_changes_the_order(monkeypatch) -> None:
    from metarlm.synth.plugins import precedence

    def refuse(*args: object) -> None:
        raise AssertionError("derived")
    monkeypatch.setattr(precedence, "derive", refuse)
    learned = _rules("jump -> I_JUMP\nx1 twice -> [x1] [x1]\nu1 u2 -> [u2] [u1]")
    program = Program(learned, "seq")
    examples = [Example(("jump", "twice"), ("I_JUMP", "I_JUMP"))]
    assert precedence_order(program, learned, examples) == learned
