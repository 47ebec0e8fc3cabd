"""Sub-demonstrations: cutting an example at learned rules whose other parts are understood."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from metarlm.data import load_scan
from metarlm.lang.demo import Example
from metarlm.lang.domain import parse_program
from metarlm.lang.interp import Ok, evaluate
from metarlm.synth.generators.cuts import invert, span_values, span_values_many, sub_demos

SCAN_RULES = open("examples/scan/scan.rules", encoding="utf-8").read()
FULL = parse_program(SCAN_RULES, "scan")


def _without(*prefixes: str):
    lines = [ln for ln in SCAN_RULES.splitlines() if not ln.startswith(prefixes)]
    return parse_program("\n".join(lines), "scan")


def _example(text: str) -> Example:
    result = evaluate(FULL, text.split())
    assert isinstance(result, Ok)
    return Example(tuple(text.split()), result.value)  # type: ignore[arg-type]


def test_cut_through_two_rules_to_a_span_no_example_shows() -> None:
    program = _without("u1 u2")
    subs = sub_demos(program, _example("jump left twice after walk"))
    assert Example(("jump", "left", "twice"), ("I_TURN_LEFT", "I_JUMP") * 2) in subs
    assert Example(("jump", "left"), ("I_TURN_LEFT", "I_JUMP")) in subs


def test_cut_gives_a_word_its_empty_meaning() -> None:
    program = _without("turn")
    assert Example(("turn",), ()) in sub_demos(program, _example("turn opposite left"))


def test_invert_rejects_repeats_that_differ_or_do_not_divide() -> None:
    rule = parse_program("x1 twice -> [x1] [x1]", "scan").rules[0]
    binding = {rule.variables()[0]: (0, 2)}
    words = ("jump", "left", "twice")
    values = span_values(_without("u1 u2"), words)
    assert invert(rule, binding, values, words, ("A", "B", "A", "B")) == ((0, 2), ("A", "B"))
    assert invert(rule, binding, values, words, ("A", "B", "A")) is None
    assert invert(rule, binding, values, words, ("A", "B", "B", "A")) is None


def test_understood_parts_must_match_the_output() -> None:
    rule = parse_program("x2 after x1 -> [x1] [x2]", "scan").rules[0]
    words = ("jump", "left", "after", "walk")
    x1, x2 = sorted(rule.variables(), key=lambda v: v.index)
    values = span_values(_without("u1 u2"), words)
    binding = {x2: (0, 2), x1: (3, 4)}
    assert invert(rule, binding, values, words, ("I_WALK", "P", "Q")) == ((0, 2), ("P", "Q"))
    assert invert(rule, binding, values, words, ("I_RUN", "P", "Q")) is None


def test_nothing_to_cut_when_every_part_is_understood_or_two_are_not() -> None:
    assert sub_demos(FULL, _example("jump left twice after walk")) == []
    program = _without("u1 u2", "walk")  # "jump left" and "walk": two unknown parts of after
    assert Example(("walk",), ("I_WALK",)) not in sub_demos(
        program, _example("jump left after walk"))


COMMANDS = sorted({c for c, _ in load_scan("simple_test")})[:400]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(COMMANDS), st.sampled_from(
    ["u1 u2", "turn", "jump", "x1 twice", "x1 and", "u1 around"]))
def test_cuts_are_spans_of_the_input_and_slices_of_the_output(command: str, rule: str) -> None:
    example = _example(command)
    for sub in sub_demos(_without(rule), example):
        n, m = len(sub.input), len(sub.output)
        assert any(example.input[i:i + n] == sub.input for i in range(len(example.input)))
        assert n < len(example.input)
        assert any(example.output[i:i + m] == sub.output  # type: ignore[index]
                   for i in range(len(example.output) + 1))


def test_integer_cut_leaves_what_the_rest_does_not_explain() -> None:
    # "cinq cent quatre vingts" (580) cut at `x1 cent y1`: "quatre vingts" must be 80
    program = parse_program("cinq -> 5\nquatre -> 4\ncent -> 100\nvingt -> 20\n"
                            "x1 cent y1 -> [x1] * 100 + [y1]", "numbers")
    subs = sub_demos(program, Example(("cinq", "cent", "quatre", "vingts"), 580))
    assert Example(("quatre", "vingts"), 80) in subs
    # a multiplier is what is left over divided by its scale, when the scale divides it
    words = ("quatre", "vingts", "cent", "cinq")
    assert sub_demos(program, Example(words, 8005)) == [Example(("quatre", "vingts"), 80)]
    assert sub_demos(program, Example(words, 8006)) == []


def test_a_one_word_example_has_nothing_to_cut() -> None:
    from metarlm.synth.generators.cuts import cut_levels

    assert cut_levels(FULL, _example("walk")) == {}
    assert sub_demos(FULL, _example("walk")) == []


def test_integer_cut_at_a_span_read_wrongly() -> None:
    # "seratus delapan puluh delapan" is read (100 + 8) * 10 + 8 = 1088 by `y1 puluh y2`;
    # the thousands rule still says it must be 188, and that is a cut too
    program = parse_program("seratus -> 100\nsembilan -> 9\ndelapan -> 8\n"
                            "y1 ribu y2 -> [y1] * 1000 + [y2]\ny1 puluh y2 -> [y1] * 10 + [y2]\n"
                            "u1 u2 -> [u1] + [u2]", "numbers")
    words = tuple("sembilan ribu seratus delapan puluh delapan".split())
    assert evaluate(program, words) == Ok(10088)
    subs = sub_demos(program, Example(words, 9188))
    assert Example(tuple("seratus delapan puluh delapan".split()), 188) in subs
    # the part blamed must be left a whole value: 9 thousands is not what is wrong
    assert all(sub.input != ("sembilan",) for sub in subs)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(COMMANDS), min_size=1, max_size=4),
       st.sampled_from(("u1 u2", "x1 twice", "turn", "")))
def test_span_values_of_many_inputs_equal_each_input_s_by_the_reference(
        commands: list[str], dropped: str) -> None:
    program = _without(dropped) if dropped else FULL
    inputs = [tuple(command.split()) for command in commands]
    for words, values in zip(inputs, span_values_many(program, inputs)):
        assert values == {(s, e): (r.value if isinstance(r := evaluate(program, words[s:e]), Ok)
                                   else None)
                          for s in range(len(words)) for e in range(s + 1, len(words) + 1)}
