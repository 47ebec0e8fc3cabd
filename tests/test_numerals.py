"""Integer rules: constants read off what the words name, inflections, base guards."""

from __future__ import annotations

from metarlm.lang.domain import parse_program
from metarlm.lang.dsl import Call, Const, Var, print_rule
from metarlm.synth.placement import positions
from metarlm.synth.plugins.numerals import (
    Numerals,
    base_guards,
    grounded_rhs,
    inflection_kept,
    inversions,
    named_values,
    scale,
    stem_values,
)
from metarlm.synth.rule_prior import is_primitive

FRENCH = parse_program("quatre -> 4\ncinq -> 5\nvingt -> 20\ncent -> 100\nmille -> 1000\n"
                       "u1 x1 -> [u1] + [x1]", "numbers")


def test_constants_are_what_the_words_name() -> None:
    scales, constants = named_values([4, 20])  # "quatre vingt"
    assert scales == {1, 4, 20, 80}
    assert constants == {80}  # a word alone is added by the rule that adds parts
    assert named_values([100])[1] == set()  # no `y1 cent -> [y1] + 100`
    # `ciento y1 -> 100 + [y1]`: a look-alike of `cien` that starts the rule, not elsewhere
    assert named_values([], guessed=[100], leading=[100]) == ({1, 100}, {100})
    assert named_values([], guessed=[100]) == ({1, 100}, set())


def test_inflections_mean_what_the_word_they_inflect_means() -> None:
    lexicon = {"cent": 100, "vingt": 20, "mille": 1000, "mil": 1000, "cinq": 5,
               "двенадцать": 12, "двести": 200}
    assert stem_values("cents", lexicon) == {100}
    assert stem_values("vingts", lexicon) == {20}
    assert stem_values("mila", lexicon) == {1000}  # Italian plural of mille
    assert stem_values("milcent", lexicon) == set()  # a compound (1100), not an inflection
    assert stem_values("две", lexicon) == set()  # shares a beginning with longer words only
    assert stem_values("cinq", lexicon) == set()  # a word is no inflection of itself


def test_grounded_right_hand_sides_need_no_solver() -> None:
    x1, y1 = Var("x", 1), Var("y", 1)
    # "cinq cent quatre vingts" = 580 with x1 = cinq (5) and y1 = quatre vingts (80)
    found = list(grounded_rhs([x1, y1], {x1: 5, y1: 80}, 580, {1, 100}, set()))
    assert found == [(Call(x1, 100), Call(y1))]
    # a multiplier is smaller than its base: 20 * 4 is never read as [x1] * 4
    u1 = Var("u", 1)
    assert list(grounded_rhs([u1], {u1: 20}, 80, {1, 4}, set())) == []
    assert list(grounded_rhs([u1], {u1: 4}, 80, {1, 20}, set())) == [(Call(u1, 20),)]
    # the constant term comes from the allowed constants only
    assert list(grounded_rhs([y1], {y1: 5}, 1005, {1, 1000}, {1000})) == [
        (Call(y1), Const(1000))]
    assert list(grounded_rhs([y1], {y1: 5}, 1005, {1, 1000}, set())) == []


def test_a_larger_base_said_alone_is_read_before_a_rule_that_multiplies() -> None:
    # `x1 cent y1` alone would read "mille cent" as 1000 * 100: `mille y1` comes with it
    rule = parse_program("x1 cent y1 -> [x1] * 100 + [y1]", "numbers").rules[0]
    shown = {"mille", "cent", "cinq"}
    assert [print_rule(r, "int") for r in base_guards(FRENCH, rule, shown)] == [
        "mille y1 -> [y1] + 1000"]
    assert base_guards(FRENCH, rule, {"cent", "cinq"}) == ()  # no example says "mille"
    adding = parse_program("y1 u1 -> [y1] + [u1]", "numbers").rules[0]
    assert base_guards(FRENCH, adding, shown) == ()


def test_an_inflection_is_not_abduced_a_value_by_rote() -> None:
    def kept(text: str) -> bool:
        return inflection_kept(FRENCH, parse_program(text, "numbers").rules[0])

    assert kept("vingts -> 20") and not kept("vingts -> 76")
    assert kept("et -> 0")  # a word that looks like no other is free


def test_bases_are_powers_of_ten_from_a_hundred() -> None:
    from metarlm.synth.plugins.numerals import is_base

    assert [v for v in (10, 20, 100, 200, 1000, 1100, 10_000) if is_base(v)] == [
        100, 1000, 10_000]
    # a base said alone may start a rule that adds it (Indonesian `seratus y1`), not any word
    assert named_values([100], leading=[100])[1] == {100}


def test_larger_bases_said_alone_are_read_first() -> None:
    from metarlm.synth.plugins.numerals import bases_first

    learned = parse_program("y1 百 x1 -> [y1] * 100 + [x1]\n百 y1 -> [y1] + 100\n"
                            "千 y1 -> [y1] + 1000\nu1 u2 -> [u1] + [u2]", "numbers").rules
    assert [print_rule(r, "int") for r in bases_first(learned)] == [
        "千 y1 -> [y1] + 1000", "百 y1 -> [y1] + 100", "y1 百 x1 -> [y1] * 100 + [x1]",
        "u1 u2 -> [u1] + [u2]"]


def test_factors_nest_by_size() -> None:
    def rules(text: str, domain: str):  # type: ignore[no-untyped-def]
        return parse_program(text, domain).rules

    hundred, thousand, plus = rules("x1 hundred y1 -> [x1] * 100 + [y1]\n"
                                    "x1 thousand y1 -> [x1] * 1000 + [y1]\n"
                                    "u1 u2 -> [u1] + [u2]", "numbers")
    seven = rules("seven -> 7", "numbers")[0]
    assert (scale(hundred), scale(thousand), scale(plus)) == (100, 1000, 1)
    assert is_primitive(seven) and not is_primitive(plus)
    assert inversions([thousand, hundred, plus]) == 0 < inversions([hundred, thousand, plus])
    # a new factor is tried first before the rules of smaller factors, then last-first
    assert positions((seven, hundred, plus), thousand, [Numerals()]) == [1, 3, 2]
    assert positions((seven, hundred, plus), thousand) == [3, 2, 1]
    assert positions((seven, hundred), seven, [Numerals()]) == [0]
