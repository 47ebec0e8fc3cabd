"""The search's preferences: description length, tie-breaks, cross-situational evidence."""

from __future__ import annotations

import strategies
from hypothesis import given, settings
from hypothesis import strategies as st

from metarlm.lang.domain import parse_program
from metarlm.lang.dsl import Program
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



def _plain_prior(learned, w) -> int:  # type: ignore[no-untyped-def]
    """The prior as its docstring defines it, rule by rule (quadratic; the oracle)."""
    from metarlm.lang.dsl import Token
    from metarlm.synth.rule_prior import anchored, is_primitive

    prims = [r for r in learned if is_primitive(r)]
    synonyms = 0
    for rule in learned:
        others = {t.text for p in prims if p is not rule for t in p.rhs if isinstance(t, Token)}
        synonyms += sum(1 for t in rule.rhs if isinstance(t, Token) and t.text in others)
    loose = sum(1 for r in learned if not anchored(r))
    empty = sum(1 for r in learned if is_primitive(r) and not r.rhs)
    spelled = sum(1 for r in learned if not is_primitive(r) for i in r.rhs
                  if isinstance(i, Token))
    return (w.synonym_cost * synonyms + w.loose_cost * loose + w.empty_cost * empty
            + w.spelled_cost * spelled)


@given(body=st.lists(strategies.rules("seq", False), max_size=6), again=st.data())
@settings(max_examples=200, deadline=None)
def test_the_cached_prior_equals_its_definition(body, again) -> None:  # type: ignore[no-untyped-def]
    from metarlm.synth.rule_prior import features, narrowness
    from metarlm.types import SearchSettings

    if body and again.draw(st.booleans()):  # one rule object in two places
        body.insert(again.draw(st.integers(0, len(body))), body[0])
    learned = tuple(body)
    w = SearchSettings(synonym_cost=3, loose_cost=5, empty_cost=7, spelled_cost=11)
    assert prior_cost(learned, w) == _plain_prior(learned, w)
    for rule in learned:
        f = features(rule)
        assert f.size == size(Program((rule,)))
        assert f.narrow == sum(narrowness(v, f.anchored) for v in rule.variables())
