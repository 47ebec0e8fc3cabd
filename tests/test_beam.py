"""Beam search under the grammar: exact against brute force, well formed, best first."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_decode import (
    ENCODER_IDS,
    FIXTURES,
    _assert_well_formed,
    _constraints,
    _teacher_forced_logprob,
    _tiny_bart,
    model,
    tiny_domain,
)

from metarlm.lang.domain import Domain
from metarlm.neural import tokens as tk
from metarlm.neural.beam import beam_programs
from metarlm.neural.decode import ProgramConstraint, greedy_program

__all__ = ["model", "tiny_domain"]  # fixtures used here, defined beside the sampler's tests


def _every_program(net: Any, c: ProgramConstraint) -> dict[tuple[int, ...], float]:
    """Every program the constraint allows, with its masked log-probability (depth first,
    one decoder step a prefix)."""
    from metarlm.neural.runtime import log_softmax, network

    net = network(net)
    with net.inference():
        memory = net.encode(ENCODER_IDS)
    out: dict[tuple[int, ...], float] = {}

    def walk(ids: tuple[int, ...], state: Any, logp: float) -> None:
        steps = net.decoder(memory, 1, use_cache=False)
        for i in ids:
            logits = steps.step(np.array([i]))
        allowed = np.zeros(logits.shape[-1], dtype=bool)
        allowed[: tk.VOCAB_SIZE] = c.mask(state)
        row = log_softmax(np.where(allowed, logits[0].astype(np.float64), -np.inf))
        for i in np.flatnonzero(allowed).tolist():
            if i == tk.EOS:
                out[ids + (i,)] = logp + float(row[i])
            else:
                walk(ids + (i,), c.advance(state, i), logp + float(row[i]))

    with net.inference():
        walk((tk.BOS,), c.start(), 0.0)
    return out


def test_a_wide_beam_is_exact(model: Any, tiny_domain: Domain) -> None:
    model.eval()
    c = ProgramConstraint(tiny_domain, ("dax", "", "wif"), ("RED", "BLUE"), max_rules=1,
                          max_len=6)
    every = _every_program(model, c)
    assert 20 < len(every) < 2000  # a space worth searching, small enough to list
    best = sorted(every.items(), key=lambda kv: -kv[1])[:10]
    got = beam_programs(model, ENCODER_IDS, c, width=len(every), n=10)
    assert [cand.ids for cand in got] == [ids for ids, _ in best]
    assert [cand.logprob for cand in got] == pytest.approx([lp for _, lp in best], abs=1e-4)
    # a width of one follows the greedy path and keeps the best program ended on the way,
    # so it is never less likely than greedy decoding's
    assert beam_programs(model, ENCODER_IDS, c, width=1, n=1)[0].logprob >= greedy_program(
        model, ENCODER_IDS, c).logprob - 1e-6


@settings(max_examples=6, deadline=None, suppress_health_check=FIXTURES)
@given(which=st.integers(0, 2), width=st.integers(1, 8), n=st.integers(1, 8))
def test_beams_are_distinct_well_formed_and_best_first(model: Any, tiny_domain: Domain,
                                                        which: int, width: int,
                                                        n: int) -> None:
    model.eval()
    c = _constraints(tiny_domain)[which]
    got = beam_programs(model, ENCODER_IDS, c, width=width, n=n)
    assert 1 <= len(got) <= n
    assert len({cand.ids for cand in got}) == len(got)
    assert [cand.logprob for cand in got] == sorted((x.logprob for x in got), reverse=True)
    for cand in got:
        _assert_well_formed(cand.ids, c)
        assert cand.logprob == pytest.approx(_teacher_forced_logprob(model, cand.ids, c),
                                             abs=1e-3)
    uncached = beam_programs(model, ENCODER_IDS, c, width=width, n=n, use_cache=False)
    assert [x.ids for x in uncached] == [x.ids for x in got]


def test_the_numpy_runtime_beams_as_torch_does(model: Any, tiny_domain: Domain) -> None:
    from metarlm.neural.runtime import NumpyBart

    model.eval()
    c = _constraints(tiny_domain)[2]
    twin = NumpyBart.from_torch(model)
    a = beam_programs(model, ENCODER_IDS, c, width=6)
    b = beam_programs(twin, ENCODER_IDS, c, width=6)
    assert [x.ids for x in a] == [x.ids for x in b]
    assert [x.logprob for x in a] == pytest.approx([x.logprob for x in b], abs=1e-3)


def test_nothing_asked_nothing_given_and_a_short_vocabulary_is_refused(
        tiny_domain: Domain) -> None:
    c = _constraints(tiny_domain)[0]
    small = _tiny_bart(vocab_size=tk.WORD0)
    assert beam_programs(small, [tk.EOS], c, width=0) == []
    with pytest.raises(ValueError, match="vocabulary"):
        beam_programs(small, [tk.EOS], c, width=2)
