"""Inputs expanded from a program's rules are inputs the program can interpret."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metarlm.lang.domain import parse_program
from metarlm.lang.interp import evaluate
from metarlm.neural.inputs import InputExpander, Reject

MINISCAN = parse_program(open("examples/miniscan/miniscan.rules", encoding="utf-8").read(),
                         "miniscan")


@given(st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None)
def test_expanded_inputs_are_derivable(seed: int) -> None:
    expander = InputExpander(MINISCAN, [], depth=2, p_random=0.0)
    for words in expander(random.Random(seed), 20):
        assert evaluate(MINISCAN, words).ok, words


def test_a_program_with_no_derivable_word_is_rejected() -> None:
    program = parse_program("x1 fep -> [x1] [x1]", "miniscan")
    with pytest.raises(Reject):
        InputExpander(program, [], depth=2, p_random=0.0)
