"""The model proposer: checkpoint loading, background splicing, only consistent proposals."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest

from metarlm.errors import MetarlmError
from metarlm.lang.demo import parse_demo
from metarlm.lang.domain import parse_program
from metarlm.lang.interp import Ok, evaluate
from metarlm.neural.propose import ModelProposer, _with_background
from metarlm.neural.tokens import decode_program, encode_target, episode_symbols, make_abstraction
from metarlm.synth.search import synthesize
from metarlm.types import Budget, SearchConfig


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    from metarlm.neural.model import ModelConfig, build_model, save_checkpoint

    out = tmp_path_factory.mktemp("ckpt")
    model = build_model(ModelConfig(d_model=32, encoder_layers=1, decoder_layers=1, heads=2,
                                    ffn=64), seed=0)
    # Lean towards ending programs early so that a random model's samples stay short.
    with torch.no_grad():
        model.final_logits_bias[0, 2] += 4.0
    return save_checkpoint(model, out, {"note": "random weights for tests"})


def demo_with_background():  # type: ignore[no-untyped-def]
    return parse_demo({"domain": "miniscan", "background": "dax -> RED\nlug -> BLUE",
                       "examples": [{"input": "dax", "output": "RED"},
                                    {"input": "lug", "output": "BLUE"},
                                    {"input": "wif", "output": "GREEN"}],
                       "queries": ["wif"]})


def test_missing_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MetarlmError, match="no model checkpoint"):
        ModelProposer.load(tmp_path)


def test_checkpoint_loaded_once(checkpoint: Path) -> None:
    assert ModelProposer.load(checkpoint) is ModelProposer.load(checkpoint)


@pytest.mark.parametrize("shipped", [False, True])
def test_every_proposal_is_consistent_and_seeded(checkpoint: Path, shipped: bool) -> None:
    # the shipped model proposes several consistent programs here, so the comparison of two
    # runs compares something (with seed 1; seeds 10-39 found 2.1 a seed on average); the
    # random one checks that nothing inconsistent gets through
    proposer = ModelProposer.load(None if shipped else checkpoint)
    demo = demo_with_background()
    cfg = SearchConfig(samples=128, batch=64, seed=1)
    found = proposer.propose(demo, cfg, Budget(seconds=120))
    again = proposer.propose(demo, cfg, Budget(seconds=120))
    assert len(found) >= 2 or not shipped
    assert [(c.program, c.logprob) for c in found] == [(c.program, c.logprob) for c in again]
    for cand in found:  # background first, then the proposed rules; all examples hold
        assert cand.program.rules[:2] == demo.background.rules  # type: ignore[union-attr]
        assert all(evaluate(cand.program, e.input) == Ok(e.output) for e in demo.examples)
    assert math.isfinite(proposer.logprob(demo, parse_program(
        "dax -> RED\nlug -> BLUE\nwif -> GREEN", "miniscan")))


def test_background_is_spliced_after_bos() -> None:
    demo = demo_with_background()
    words, tokens = episode_symbols(demo.examples, [demo.background])
    view = make_abstraction(words, tokens, random.Random(0))
    own = encode_target(parse_program("wif -> GREEN", "miniscan"), view)
    rows = _with_background([tuple(own)], demo.background, view)
    assert isinstance(rows, np.ndarray) and rows.shape[0] == 1
    program = decode_program(rows[0], view.words, view.tokens)
    assert program == demo.background + parse_program("wif -> GREEN", "miniscan")  # type: ignore[operator]


def test_synthesize_with_a_model_falls_back_to_enumeration(checkpoint: Path) -> None:
    result = synthesize(demo_with_background(), SearchConfig(
        sampler=True, sampler_checkpoint=str(checkpoint), use_model=False, samples=16, batch=16))
    assert result.consistent and result.tried
    assert result.tried[0].startswith("whole-program sampler:")
    assert [q.output for q in result.queries] == [("GREEN",)]


def test_more_words_than_slots_skips_the_model(checkpoint: Path) -> None:
    from metarlm.neural.tokens import N_WORD_SLOTS

    words = [f"w{i}" for i in range(N_WORD_SLOTS + 1)]
    demo = parse_demo({"domain": "rules", "examples": [{"input": w, "output": w.upper()}
                                                       for w in words]})
    assert "slots" in (ModelProposer.load(checkpoint).unreadable(demo) or "")
    result = synthesize(demo, SearchConfig(sampler=True, sampler_checkpoint=str(checkpoint),
                                           use_model=False, samples=16, batch=16))
    assert result.consistent and result.tried[0].startswith("whole-program sampler: skipped")
