"""The search's preferences: description length, tie-breaks, cross-situational evidence."""

from __future__ import annotations

from metarlm.lang.domain import parse_program
from metarlm.synth.rule_prior import narrowness, prior_cost
from metarlm.types import size


def rules(text: str, domain: str = "scan"):  # type: ignore[no-untyped-def]
    return parse_program(text, domain).rules


def test_size_counts_symbols_and_rules() -> None:
    assert size(parse_program("jump -> I_JUMP\nx1 twice -> [x1] [x1]", "scan")) == 3 + 5


def test_prior_prefers_calls_to_spelled_synonyms() -> None:
    calls = rules("look -> I_LOOK\nx1 thrice -> [x1] [x1] [x1]")
    spelled = rules("look -> I_LOOK\nx1 thrice -> I_LOOK I_LOOK I_LOOK")
    assert prior_cost(spelled) > prior_cost(calls) == 0
    assert prior_cost(rules("turn ->")) > 0  # empty words are rare
    assert prior_cost(rules("u1 u2 -> [u2] [u1]")) > 0  # rules of variables alone too


def test_narrowness_orders_variable_kinds() -> None:
    from metarlm.lang.dsl import Var

    u, x, y = Var("u", 1), Var("x", 1), Var("y", 1)
    assert narrowness(u, True) > narrowness(x, True) > narrowness(y, True)
    assert narrowness(u, False) < narrowness(x, False) < narrowness(y, False)


def test_a_word_means_only_tokens_every_example_showing_it_has() -> None:
    from metarlm.lang.demo import Example
    from metarlm.synth.rule_prior import cooccurring, plausible

    examples = [Example(("run", "thrice"), ("I_RUN",) * 3),
                Example(("walk", "thrice"), ("I_WALK",) * 3), Example(("run",), ("I_RUN",))]
    cooccur = cooccurring(examples)
    assert cooccur["thrice"] == set() and cooccur["run"] == {"I_RUN"}
    thrice, run, empty = parse_program("thrice -> I_RUN I_RUN\nrun -> I_RUN\nthrice ->",
                                       "scan").rules
    assert not plausible((run, thrice), cooccur)
    assert plausible((run,), cooccur) and plausible((empty,), cooccur)

