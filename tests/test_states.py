"""The policy's training states: labels read off the true program's derivation."""

from __future__ import annotations

import itertools
import random

import pytest

from metarlm.lang.demo import Example
from metarlm.lang.domain import parse_program
from metarlm.lang.interp import Ok, evaluate
from metarlm.neural import sample
from metarlm.neural.states import label, policy_episodes, relevant, search_states

SCAN = parse_program(open("examples/scan/scan.rules", encoding="utf-8").read(), "scan")


def _example(text: str) -> Example:
    return Example(tuple(text.split()), evaluate(SCAN, text.split()).value)  # type: ignore[arg-type]


def rule(text: str):  # type: ignore[no-untyped-def]
    return parse_program(text, "scan").rules[0]


def test_the_label_is_the_top_rule_the_state_lacks() -> None:
    ex = _example("jump twice after walk")
    everything = frozenset(SCAN.rules)
    after = rule("x2 after x1 -> [x1] [x2]")
    twice = rule("x1 twice -> [x1] [x1]")
    problem, found, depth = label(SCAN, everything - {after}, ex)  # type: ignore[misc]
    assert (problem, found, depth) == (ex, after, 1)
    # with `after` known, the first rule missing is one cut deep: "jump twice" -> JUMP JUMP
    problem, found, depth = label(SCAN, everything - {twice}, ex)  # type: ignore[misc]
    assert found == twice and depth == 2
    assert problem == Example(("jump", "twice"), ("I_JUMP", "I_JUMP"))
    assert label(SCAN, everything, ex) is None


def test_only_rules_that_can_touch_the_inputs_are_shown() -> None:
    shown = relevant(SCAN.rules, [("jump", "twice")])
    assert rule("x1 twice -> [x1] [x1]") in shown and rule("jump -> I_JUMP") in shown
    assert rule("walk -> I_WALK") not in shown
    assert rule("u1 u2 -> [u2] [u1]") in shown  # no word: it may touch anything


@pytest.mark.parametrize("grammar", ["miniscan", "scan", "numbers", "code"])
def test_every_state_is_a_true_cut_with_a_rule_of_the_program(grammar: str) -> None:
    stream = sample.episodes(grammar, sample.prior_for(grammar), 3)
    sources = list(itertools.islice(stream, 6))
    items = list(policy_episodes(iter(sources), 0, per_episode=3))
    assert items
    programs = {s.program for s in sources}
    for item in items:
        (the_rule,) = item.target.rules
        # the sub-problem is a span the true program gives that value, and the rule is its own
        assert any(the_rule in p.rules and _holds(p, item.support[0]) for p in programs)


def _holds(program, example: Example) -> bool:  # type: ignore[no-untyped-def]
    return evaluate(program, example.input) == Ok(example.output)


def test_the_same_seed_gives_the_same_states() -> None:
    def states() -> list:  # type: ignore[type-arg]
        stream = sample.episodes("miniscan", None, 7)
        return [(i.support, i.target) for i in
                itertools.islice(policy_episodes(stream, 1, per_episode=2, on_policy=0.5), 12)]

    assert states() == states()


def test_the_search_s_own_states_are_labelled_from_the_true_program() -> None:
    source = next(sample.episodes("miniscan", None, 11))
    items = list(search_states(source, random.Random(0), 4))
    assert items
    for item in items:
        assert item.target.rules[0] in source.program.rules
