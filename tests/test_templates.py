"""Rule templates: left-hand sides that match their input, segmentations that rebuild outputs."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from metarlm.lang.dsl import Call, Copy, Program, Rule, Token, Var, Word
from metarlm.lang.interp import Ok, evaluate
from metarlm.synth.templates import int_shapes, lhs_templates, segmentations


@given(st.lists(st.sampled_from("abcde"), min_size=1, max_size=6))
@settings(max_examples=60, deadline=None)
def test_templates_match_their_input(words: list[str]) -> None:
    for lhs in lhs_templates(words):
        probe = Program((Rule(lhs, ()),))
        assert evaluate(probe, words) == Ok(()), lhs


@given(st.lists(st.sampled_from(["A", "B", "C"]), min_size=1, max_size=7),
       st.lists(st.sampled_from(["A", "B", "C"]), min_size=1, max_size=3))
@settings(max_examples=80, deadline=None)
def test_segmentations_concatenate_to_the_output(output: list[str], value: list[str]) -> None:
    x1 = Var("x", 1)
    for rhs in segmentations(tuple(output), {x1: tuple(value)}, {x1: ("w",)}):
        built: list[str] = []
        for item in rhs:
            if isinstance(item, Token):
                built.append(item.text)
            elif isinstance(item, Call):
                built.extend(value)
            else:
                assert isinstance(item, Copy)
                built.append("w")
        assert tuple(built) == tuple(output)


def test_y_variables_only_at_the_edges() -> None:
    shapes = set(lhs_templates(("two", "hundred"), 1, frozenset("uxy"), frozenset({"hundred"})))
    assert (Var("x", 1), Word("hundred"), Var("y", 1)) in shapes
    assert all(v.kind != "y" for lhs in lhs_templates(("a", "b", "c"), 2) for v in lhs
               if isinstance(v, Var))


def test_integer_shapes_use_every_variable() -> None:
    x1, y1 = Var("x", 1), Var("y", 1)
    for rhs in int_shapes([x1, y1]):
        called = {it.var for it in rhs if isinstance(it, Call)}
        assert called == {x1, y1}


def test_a_head_or_tail_word_and_the_rest() -> None:
    u1, x1 = Var("u", 1), Var("x", 1)
    three = set(lhs_templates(["mille", "tre", "cento"]))
    assert (u1, x1) in three and (x1, u1) in three
    assert (Var("u", 1), Var("u", 2)) not in three  # two single words only fit two words
    assert {(u1, x1), (Var("u", 1), Var("u", 2))} <= set(lhs_templates(["venti", "uno"]))



def test_a_function_word_and_the_word_beside_it() -> None:
    """Beside a function word, a gap may be its nearest word and the rest: a prefix that
    takes the next word (`ka u1 y1`), a suffix that takes the one before (`y1 u1 mo`)."""
    u1, x1, y1, y2 = Var("u", 1), Var("x", 1), Var("y", 1), Var("y", 2)
    ka, mo = Word("ka"), Word("mo")
    shapes = set(lhs_templates("ka zib blorp".split(), 1, frozenset("uxy"), frozenset({"ka"})))
    assert {(ka, u1, y1), (ka, x1), (ka, y1)} <= shapes
    assert (ka, u1, y1) in set(lhs_templates(["ka", "zib"], 1, frozenset("uxy"),
                                             frozenset({"ka"})))  # the rest may be empty
    shapes = set(lhs_templates("a b mo c".split(), 1, frozenset("uxy"), frozenset({"mo"})))
    assert (y1, u1, mo, y2) in shapes
    plain = set(lhs_templates("ka zib blorp".split(), 1, frozenset("uxy"), frozenset({"ka"}),
                              heads=False))
    assert (ka, x1) in plain and not {(ka, u1, y1), (ka, u1, x1)} & plain
    # words that have meanings of their own (any word anchors) are never read apart
    assert (Word("a"), u1, x1) not in set(lhs_templates("a + b".split(), 1, frozenset("ux")))


@given(st.lists(st.sampled_from("abcde"), min_size=1, max_size=6),
       st.sampled_from(["u", "ux", "uy", "xy", "uxy"]), st.booleans())
@settings(max_examples=80, deadline=None)
def test_templates_use_only_the_allowed_kinds(words: list[str], kinds: str,
                                              function: bool) -> None:
    anchorable = frozenset(words[:2]) if function else None
    for lhs in lhs_templates(words, 2, frozenset(kinds), anchorable):
        assert all(it.kind in kinds for it in lhs if isinstance(it, Var)), lhs
        probe = Program((Rule(lhs, ()),))
        assert evaluate(probe, words) == Ok(()), lhs


def all_segmentations(output: tuple[str, ...], pieces: list[tuple[object, tuple[str, ...]]],
                      longest: int) -> list[tuple[object, ...]]:
    """Every segmentation of ``output`` into pieces and tokens, in the generator's order, by
    plain exhaustive recursion (the oracle: no pruning)."""
    if not output:
        return [()]
    if longest == 0:
        return []
    out: list[tuple[object, ...]] = []
    for item, val in pieces:
        if output[:len(val)] == val:
            out += [(item, *rest) for rest in all_segmentations(output[len(val):], pieces,
                                                                longest - 1)]
    out += [(Token(output[0]), *rest) for rest in all_segmentations(output[1:], pieces,
                                                                    longest - 1)]
    return out


@given(st.lists(st.sampled_from("AB"), max_size=8), st.lists(st.sampled_from("AB"), max_size=3),
       st.integers(1, 30), st.integers(1, 9))
@settings(max_examples=150, deadline=None)
def test_segmentations_are_the_first_of_every_segmentation(
        output: list[str], value: list[str], most: int, longest: int) -> None:
    x1 = Var("x", 1)
    values = {x1: tuple(value)} if value else {}
    pieces = [(Call(x1), tuple(value))] if value else []
    expected = all_segmentations(tuple(output), pieces, longest)[:most]
    assert list(segmentations(tuple(output), values, {}, most, longest)) == expected


def test_a_long_output_no_short_segmentation_covers_ends_at_once() -> None:
    # 48 tokens, pieces of at most two: no right side of at most 12 items exists, and the
    # walk must see that without trying the branches (it used to try them all)
    x1, y1, u1 = Var("x", 1), Var("y", 1), Var("u", 1)
    values = {x1: ("A",), y1: ("B",), u1: ("A", "B")}
    assert list(segmentations(tuple("AB" * 24), values, {}, 24, 12)) == []
