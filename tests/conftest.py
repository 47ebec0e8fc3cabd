"""Fixtures shared by test modules."""

from __future__ import annotations

from pathlib import Path

import pytest

from metarlm.neural.model import ModelConfig, build_model, save_checkpoint

TINY = ModelConfig(d_model=32, encoder_layers=1, decoder_layers=1, heads=2, ffn=64)


def tiny_checkpoint(out: Path, seed: int) -> Path:
    """A policy checkpoint with random weights at ``out``."""
    save_checkpoint(build_model(TINY, seed=seed), out, {"task": "policy", "symbols": "episode"})
    return out


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A policy with random weights: a policy that has not paid for itself."""
    return tiny_checkpoint(tmp_path_factory.mktemp("policy"), seed=5)
