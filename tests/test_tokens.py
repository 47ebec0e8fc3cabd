"""Tests of the program vocabulary, episode abstraction and episode serialisation."""

from __future__ import annotations

import random
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metarlm.lang.demo import Example
from metarlm.lang.domain import parse_program
from metarlm.lang.dsl import Program, Rule, Token, Word
from metarlm.neural import tokens as T

SCAN_LIKE = parse_program(
    "walk -> WALK\njump -> JUMP\nx1 twice -> [x1] [x1]\nx1 and x2 -> [x1] [x2]\n"
    "u1 left -> LTURN [u1]", "rules")
NUMBERS = parse_program("one -> 1\nten -> 10\nx1 hundred y1 -> [x1] * 100 + [y1]\n"
                        "u1 u2 -> [u1] + [u2] + 0", "numbers")
COPYING = parse_program("x1 plus x2 -> + [x1] [x2]\nu1 -> u1\n( x1 ) -> [x1]", "code")
SUPPORT = (Example(("jump", "twice"), ("JUMP", "JUMP")),
           Example(("walk", "and", "jump"), ("WALK", "JUMP")),
           Example(("jump", "left"), ("LTURN", "JUMP")))


def abstraction_for(program: Program, seed: int,
                    support: tuple[Example, ...] = ()) -> T.Abstraction:
    words, toks = T.episode_symbols(support, [program])
    return T.make_abstraction(words, toks, random.Random(seed))


def test_program_ids_are_pinned() -> None:
    # checkpoints and other modules rely on these numbers: appending is fine, moving is not
    assert (T.PAD, T.BOS, T.EOS, T.SEP, T.ARROW) == (0, 1, 2, 3, 4)
    assert (T.DIGIT0, T.VAR0, T.WORD0, T.TOKEN0, T.VOCAB_SIZE) == (10, 20, 32, 80, 112)
    assert T.ENCODER_VOCAB_SIZE > T.VOCAB_SIZE
    assert T.VOCAB[: T.VOCAB_SIZE] == T.PROGRAM_VOCAB
    assert min(T.SEQ_MARK, T.INT_MARK, T.ALIAS, T.IN_OUT, T.EX_END) >= T.VOCAB_SIZE


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), which=st.sampled_from([SCAN_LIKE, NUMBERS, COPYING]))
def test_abstraction_round_trip(seed: int, which: Program) -> None:
    a = abstraction_for(which, seed)
    ids = T.encode_target(which, a)
    canonical = T.canonical_order(which, a)
    assert ids == T.encode_program(canonical, a.word_slot, a.token_slot)
    assert T.decode_program(ids, a.words, a.tokens, which.algebra) == canonical
    assert a.decode(ids, which.algebra) == canonical
    assert sorted(map(str, canonical.rules)) == sorted(map(str, which.rules))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), which=st.sampled_from([SCAN_LIKE, NUMBERS, COPYING]))
def test_canonical_order_sorts_only_one_word_rules(seed: int, which: Program) -> None:
    a = abstraction_for(which, seed)
    canonical = T.canonical_order(which, a)
    one_word = [k for k, r in enumerate(which.rules)
                if len(r.lhs) == 1 and isinstance(r.lhs[0], Word)]
    # every other rule stays where it was, so ordered choice means the same
    for k, rule in enumerate(which.rules):
        if k not in one_word:
            assert canonical.rules[k] == rule
    slots = [a.word_slot[canonical.rules[k].lhs[0].text] for k in one_word]
    runs = [[]]
    for k, s in zip(one_word, slots):
        if runs[-1] and k != runs[-1][-1][0] + 1:
            runs.append([])
        runs[-1].append((k, s))
    for run in runs:
        assert [s for _, s in run] == sorted(s for _, s in run)


def test_fixed_abstraction_keeps_a_word_on_one_slot() -> None:
    a = T.fixed_abstraction(["dax", "wif", "lug"], ["RED", "BLUE"])
    b = T.fixed_abstraction(["zup", "dax", "fep", "wif"], ["GREEN", "RED"])
    assert a.word_slot["dax"] == b.word_slot["dax"]
    assert a.token_slot["RED"] == b.token_slot["RED"]
    assert T.abstraction_for("fixed", ["dax"], [], random.Random(1)) == \
        T.abstraction_for("fixed", ["dax"], [], random.Random(2))
    many = T.fixed_abstraction([f"w{i}" for i in range(T.N_WORD_SLOTS)], [])
    assert sorted(many.word_slot.values()) == list(range(T.N_WORD_SLOTS))  # probing fills all
    with pytest.raises(ValueError, match="slots"):
        T.fixed_abstraction([f"w{i}" for i in range(T.N_WORD_SLOTS + 1)], [])
    with pytest.raises(ValueError, match="symbol mode"):
        T.abstraction_for("shuffled", ["dax"], [], random.Random(0))


def test_numpy_generator_is_accepted() -> None:
    a = T.make_abstraction(["a", "b"], ["X"], np.random.default_rng(3))
    b = T.make_abstraction(["a", "b"], ["X"], np.random.default_rng(3))
    assert a == b and set(a.word_slot) == {"a", "b"} and set(a.token_slot) == {"X"}


def test_different_seeds_give_different_slots() -> None:
    slots = {abstraction_for(SCAN_LIKE, seed).words for seed in range(5)}
    assert len(slots) == 5
    assert abstraction_for(SCAN_LIKE, 7) == abstraction_for(SCAN_LIKE, 7)


def test_abstraction_is_independent_of_symbol_order() -> None:
    a = T.make_abstraction(["b", "a", "a"], ["Y", "X"], random.Random(1))
    b = T.make_abstraction(["a", "b"], ["X", "Y"], random.Random(1))
    assert a == b


def test_too_many_symbols_is_an_error() -> None:
    with pytest.raises(ValueError, match="slots"):
        T.make_abstraction([f"w{i}" for i in range(T.N_WORD_SLOTS + 1)], [], random.Random(0))
    with pytest.raises(ValueError, match="slots"):
        T.make_abstraction([], [f"T{i}" for i in range(T.N_TOKEN_SLOTS + 1)], random.Random(0))


def test_unused_slot_is_rejected_by_decode() -> None:
    a = abstraction_for(SCAN_LIKE, 0)
    unused = next(i for i, w in enumerate(a.words) if not w)
    ids = [T.BOS, T.WORD0 + unused, T.ARROW, T.EOS]
    with pytest.raises(ValueError, match="not used"):
        a.decode(ids)
    assert a.word_ids() == sorted(T.WORD0 + s for s in a.word_slot.values())
    assert a.token_ids() == sorted(T.TOKEN0 + s for s in a.token_slot.values())


def test_episode_symbols_leave_copied_words_out_of_tokens() -> None:
    support = (Example(("a", "plus", "b"), ("+", "a", "b")),)
    words, toks = T.episode_symbols(support, [COPYING])
    assert words == sorted({"a", "b", "plus", "(", ")"})
    assert toks == ["+"]


def test_encode_episode_layout() -> None:
    a = abstraction_for(SCAN_LIKE, 2, SUPPORT)
    ids = T.encode_episode(SUPPORT[:1], a, "seq")
    w, t = a.word_slot, a.token_slot
    assert ids == [T.SEQ_MARK, T.WORD0 + w["jump"], T.WORD0 + w["twice"], T.IN_OUT,
                   T.TOKEN0 + t["JUMP"], T.TOKEN0 + t["JUMP"], T.EX_END, T.EOS]
    with_bg = T.encode_episode(SUPPORT[:1], a, "seq", background=SCAN_LIKE)
    body = T.encode_program(SCAN_LIKE, w, t)[1:-1]  # the background keeps its own order
    assert with_bg[:len(body) + 3] == [T.SEQ_MARK, T.BG_OPEN, *body, T.BG_CLOSE]
    assert T.render_ids(ids).startswith("<seq> W")


def test_integer_outputs_and_aliases() -> None:
    a = T.make_abstraction(["one", "+"], ["+"], random.Random(0))
    ids = T.encode_episode([Example(("one",), -120)], a, "int")
    assert ids[0] == T.INT_MARK
    alias = [T.ALIAS, T.WORD0 + a.word_slot["+"], T.TOKEN0 + a.token_slot["+"]]
    assert ids[1:4] == alias
    assert ids[-7:] == [T.IN_OUT, T.MINUS, T.DIGIT0 + 1, T.DIGIT0 + 2, T.DIGIT0, T.EX_END, T.EOS]


def test_output_word_uses_its_word_slot() -> None:
    support = (Example(("a", "plus", "b"), ("+", "a", "b")),)
    words, toks = T.episode_symbols(support, [COPYING])
    a = T.make_abstraction(words, toks, random.Random(0))
    ids = T.encode_episode(support, a, "seq")
    out = ids[ids.index(T.IN_OUT) + 1: ids.index(T.EX_END)]
    assert out == [T.TOKEN0 + a.token_slot["+"], T.WORD0 + a.word_slot["a"],
                   T.WORD0 + a.word_slot["b"]]


@pytest.mark.parametrize("max_len", [9, 20, 25, 40, 512])
def test_encode_episode_respects_max_len(max_len: int) -> None:
    a = abstraction_for(SCAN_LIKE, 4, SUPPORT)
    full = T.encode_episode(SUPPORT, a, "seq")
    ids = T.encode_episode(SUPPORT, a, "seq", max_len=max_len)
    assert len(ids) <= max_len and ids[-1] == T.EOS
    kept = ids.count(T.EX_END)
    assert kept >= 1
    # whole examples are dropped from the end: the result is the prefix of the full encoding
    assert ids[:-1] == full[:len(ids) - 1]
    if kept < len(SUPPORT):
        shorter = T.encode_episode(SUPPORT[:kept + 1], a, "seq")
        assert len(shorter) > max_len


def test_encode_episode_without_room_for_one_example() -> None:
    a = abstraction_for(SCAN_LIKE, 4, SUPPORT)
    with pytest.raises(ValueError, match="max_len"):
        T.encode_episode(SUPPORT, a, "seq", background=SCAN_LIKE, max_len=12)


def test_missing_slot_is_a_key_error() -> None:
    a = T.make_abstraction(["jump"], [], random.Random(0))
    with pytest.raises(KeyError):
        T.encode_episode([Example(("jump",), ("JUMP",))], a, "seq")
    with pytest.raises(KeyError):
        T.encode_target(Program((Rule((Word("walk"),), (Token("X"),)),)), a)


def test_encode_pair_keeps_what_the_model_sees() -> None:
    episode = SimpleNamespace(support=SUPPORT, target=SCAN_LIKE, background=None,
                              algebra="seq")
    pair = T.encode_pair(episode, random.Random(0))
    assert pair is not None and pair.support == SUPPORT
    assert pair.tgt == tuple(T.encode_target(SCAN_LIKE, pair.abstraction))
    assert pair.abstraction.decode(pair.tgt) == T.canonical_order(SCAN_LIKE, pair.abstraction)
    one = T.encode_pair(episode, random.Random(0), first_only=True)
    assert one is not None and one.support == SUPPORT[:1] and one.src.count(T.EX_END) == 1
    cut = T.encode_pair(episode, random.Random(0), max_src=20)
    assert cut is not None and cut.support == SUPPORT[:2] and len(cut.src) <= 20
    assert T.encode_pair(episode, random.Random(0), max_tgt=10) is None
    assert T.encode_pair(episode, random.Random(0), max_src=5) is None


def test_decode_rejects_unbound_and_repeated_variables() -> None:
    from metarlm.neural.tokens import ARROW, BOS, EOS, LBR, RBR, VAR0, WORD0, decode_program

    y1, x1 = VAR0 + 8, VAR0 + 4
    with pytest.raises(ValueError, match="y1 is not bound"):
        decode_program([BOS, WORD0, ARROW, LBR, y1, RBR, EOS], ["a"], ["A"])
    with pytest.raises(ValueError, match="twice"):
        decode_program([BOS, x1, x1, ARROW, EOS], ["a"], ["A"])
