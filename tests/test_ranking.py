"""Ranking consistent programs: variants that differ only in u against x, by generality."""

from __future__ import annotations

import strategies
from hypothesis import given, settings
from hypothesis import strategies as st

from metarlm.lang.domain import parse_program
from metarlm.lang.dsl import Program, Rule, Var, renamed
from metarlm.synth.ranking import general_variants_first, generality, variant_key


def program(text: str, domain: str = "rules") -> Program:
    return parse_program(text, domain)


def test_variants_share_a_key_and_nothing_else_does() -> None:
    u, x = program("ter u1 -> [u1] [u1]"), program("ter x1 -> [x1] [x1]")
    assert variant_key(u) == variant_key(x)
    assert variant_key(program("u1 tun x1 -> [u1] [x1]")) == variant_key(
        program("x1 tun x2 -> [x1] [x2]"))
    assert variant_key(program("u1 tun x1 -> [x1] [u1]")) != variant_key(
        program("u1 tun x1 -> [u1] [x1]"))  # the order of the calls differs
    assert variant_key(u) != variant_key(program("ter x1 -> [x1] [x1] [x1]"))
    assert variant_key(u) != variant_key(program("tur x1 -> [x1] [x1]"))
    # a y may bind nothing: a different hypothesis, not a variant
    assert variant_key(u) != variant_key(program("ter y1 -> [y1] [y1]"))


def test_generality_prefers_spans_beside_words_and_single_words_alone() -> None:
    assert generality(program("ter x1 -> [x1] [x1]")) < generality(program("ter u1 -> [u1] [u1]"))
    assert generality(program("u1 u2 -> [u2] [u1]")) < generality(program("x1 x2 -> [x2] [x1]"))


def test_variants_are_reordered_in_their_places_and_nothing_else_moves() -> None:
    narrow, other, wide = (program("ter u1 -> [u1] [u1]"), program("dax -> RED"),
                           program("ter x1 -> [x1] [x1]"))
    assert general_variants_first([narrow, other, wide], variant_key, generality) == [
        wide, other, narrow]
    assert general_variants_first([other, wide, narrow], variant_key, generality) == [
        other, wide, narrow]


def _rekinded(rule: Rule, kinds: dict[Var, str]) -> Rule:
    """The rule with each variable given the kind ``kinds`` says (its index kept)."""
    for var, kind in kinds.items():
        rule = renamed(rule, var, Var(kind, var.index))  # type: ignore[arg-type]
    return rule


@settings(max_examples=200, deadline=None)
@given(strategies.programs(holes=False), st.data())
def test_changing_kinds_keeps_the_key(prog: Program, data: st.DataObject) -> None:
    rules = []
    for rule in prog.rules:
        # u or x for each u or x whose index no other variable of the rule has (one
        # that shares it, as u1 beside x1, would become the other variable)
        kinds = {v: data.draw(st.sampled_from("ux")) for v in rule.variables()
                 if v.kind != "y" and sum(w.index == v.index for w in rule.variables()) == 1}
        rules.append(_rekinded(rule, kinds))
    assert variant_key(Program(tuple(rules), prog.algebra)) == variant_key(prog)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 5)), max_size=12))
def test_reordering_is_a_permutation_within_each_set(items: list[tuple[int, int]]) -> None:
    ranked = list(enumerate(items))
    out = general_variants_first(ranked, lambda it: it[1][0], lambda it: it[1][1])
    assert sorted(out) == ranked
    for place, (before, after) in enumerate(zip(ranked, out)):
        assert before[1][0] == after[1][0]  # each place keeps its set
        later = [it for it in out[place:] if it[1][0] == after[1][0]]
        assert after[1][1] == min(it[1][1] for it in later)
