"""Tests of the proposer network: construction, checkpoints, optimizer state, generation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from metarlm.errors import MetarlmError
from metarlm.neural import tokens as T
from metarlm.neural.model import (
    META_FILE,
    ModelConfig,
    build_model,
    count_parameters,
    generate_ids,
    load_checkpoint,
    load_optimizer,
    model_config,
    save_checkpoint,
    save_optimizer,
)

TINY = ModelConfig(d_model=32, encoder_layers=1, decoder_layers=1, heads=2, ffn=64,
                   max_positions=64)
SRC = torch.tensor([[T.SEQ_MARK, T.WORD0 + 3, T.IN_OUT, T.TOKEN0 + 1, T.EX_END, T.EOS]])
TGT = torch.tensor([[T.BOS, T.WORD0 + 3, T.ARROW, T.TOKEN0 + 1]])


def logits(model: torch.nn.Module) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        return model(input_ids=SRC, decoder_input_ids=TGT).logits


def test_default_size_and_specials() -> None:
    model = build_model()
    assert 0.8e6 < count_parameters(model) < 2e6
    c = model.config
    assert (c.pad_token_id, c.bos_token_id, c.eos_token_id) == (T.PAD, T.BOS, T.EOS)
    assert c.decoder_start_token_id == T.BOS and c.vocab_size == T.ENCODER_VOCAB_SIZE
    assert model.generation_config.decoder_start_token_id == T.BOS
    assert model_config(model) == ModelConfig()


def test_same_seed_same_weights() -> None:
    a, b, c = build_model(TINY, 5), build_model(TINY, 5), build_model(TINY, 6)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(),
                                                  b.state_dict().values()))
    assert not torch.equal(a.lm_head.weight, c.lm_head.weight)


def test_build_leaves_global_rng_alone() -> None:
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    build_model(TINY, 1)
    assert torch.equal(torch.rand(3), expected)


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    model = build_model(TINY, 3)
    save_checkpoint(model, tmp_path, {"steps": 7, "grammars": ["scan"]})
    loaded, meta = load_checkpoint(tmp_path)
    assert torch.equal(logits(model), logits(loaded))
    assert meta["steps"] == 7 and meta["model_config"]["d_model"] == 32
    assert model_config(loaded) == TINY
    names = {p.name for p in tmp_path.iterdir()}
    assert {"config.json", "model.safetensors", META_FILE} <= names
    assert not any(n.endswith((".bin", ".pt", ".pth", ".pkl", ".pickle")) for n in names)


def test_checkpoint_with_other_vocabulary_is_refused(tmp_path: Path) -> None:
    save_checkpoint(build_model(TINY), tmp_path, {})
    meta = json.loads((tmp_path / META_FILE).read_text())
    meta["vocab"] = meta["vocab"][:-1]
    (tmp_path / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(MetarlmError, match="vocabulary"):
        load_checkpoint(tmp_path)


def test_missing_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MetarlmError, match="not a metarlm checkpoint"):
        load_checkpoint(tmp_path)


def test_optimizer_state_round_trip(tmp_path: Path) -> None:
    model = build_model(TINY, 0)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(input_ids=SRC, decoder_input_ids=TGT, labels=TGT).loss.backward()
    opt.step()
    save_optimizer(opt, tmp_path, step=1)
    fresh = torch.optim.AdamW(model.parameters(), lr=5.0)
    assert load_optimizer(fresh, tmp_path) == 1
    a, b = opt.state_dict(), fresh.state_dict()
    assert a["param_groups"] == b["param_groups"]
    for pid, entry in a["state"].items():
        assert all(torch.equal(v, b["state"][pid][k]) for k, v in entry.items())
    assert not list(tmp_path.glob("*.pt"))


def test_generate_ids_shapes_and_determinism() -> None:
    model = build_model(TINY, 0)
    sources = [SRC[0].tolist(), SRC[0, 2:].tolist()]
    greedy = generate_ids(model, sources, 0, max_new_tokens=5)
    assert [len(rows) for rows in greedy] == [1, 1]
    assert all(row[0] == T.BOS and len(row) <= 6 for rows in greedy for row in rows)
    drawn = generate_ids(model, sources, 3, max_new_tokens=5, seed=1)
    assert [len(rows) for rows in drawn] == [3, 3]
    assert drawn == generate_ids(model, sources, 3, max_new_tokens=5, seed=1)
