"""Tests of meta-training: batches, schedule, a tiny run, resuming and two processes."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from metarlm.errors import MetarlmError
from metarlm.neural import model as M
from metarlm.neural import train as T
from metarlm.neural.model import META_FILE, ModelConfig, build_model, load_checkpoint

ROOT = Path(__file__).resolve().parents[1]
TINY = ModelConfig(d_model=32, encoder_layers=1, decoder_layers=1, heads=2, ffn=64,
                   max_positions=512)


def tiny(out: Path, **changes: object) -> T.TrainConfig:
    """A run small enough for a test: a few steps of a ~20k-parameter model."""
    cfg = T.TrainConfig(out=out, grammars=("miniscan", "numbers"), steps=12, batch_size=4,
                        lr=3e-3, warmup=2, model=TINY, pool=8, reuse=2, max_tgt=128,
                        valid_every=0, checkpoint_every=100, log_every=2, progress=False,
                        threads=1)
    return replace(cfg, **changes)


def weights(directory: Path) -> dict[str, torch.Tensor]:
    return load_file(str(directory / "model.safetensors"))


def test_derive_seed_is_stable_and_spread() -> None:
    assert T.derive_seed(1, "batch", 0, 5) == T.derive_seed(1, "batch", 0, 5)
    seeds = {T.derive_seed(1, "batch", rank, step) for rank in range(2) for step in range(50)}
    assert len(seeds) == 100 and all(0 <= s < 2**63 for s in seeds)


def test_lr_schedule() -> None:
    cfg = T.TrainConfig(out=Path("x"), steps=100, warmup=10, lr=1.0)
    assert T.lr_at(0, cfg) == pytest.approx(0.1)
    assert T.lr_at(9, cfg) == pytest.approx(1.0)
    assert T.lr_at(10, cfg) == pytest.approx(1.0)
    assert T.lr_at(99, cfg) == pytest.approx(0.1, abs=1e-3)
    assert all(T.lr_at(s, cfg) >= T.lr_at(s + 1, cfg) for s in range(10, 99))


def test_streams_pair_grammars_with_priors() -> None:
    cfg = T.TrainConfig(out=Path("x"), grammars=("scan", "code"))
    assert T.streams_of(cfg) == [T.Stream("scan", "auto"), T.Stream("code", "auto")]
    with pytest.raises(ValueError):
        T.streams_of(replace(cfg, priors=("scan",)))


def test_bucketing_puts_similar_lengths_together(tmp_path: Path) -> None:
    cfg = tiny(tmp_path, pool=32, reuse=1, batch_size=4)
    chunk = T.chunk_episodes(cfg, T.streams_of(cfg), 0, 0)
    size = [T.episode_size(e, cfg) for e in chunk]

    def spread(batches: list[list[int]]) -> float:
        return sum(max(size[i] for i in b) - min(size[i] for i in b) for b in batches)

    bucketed = T.chunk_batches(cfg, chunk, 0, 0)
    plain = T.chunk_batches(replace(cfg, bucket=False), chunk, 0, 0)
    assert sorted(i for b in bucketed for i in b) == list(range(32))
    assert spread(bucketed) < spread(plain)


def test_config_limits() -> None:
    with pytest.raises(ValueError, match="pool"):
        T.TrainConfig(out=Path("x"), pool=8, batch_size=16)
    with pytest.raises(ValueError, match="max_positions"):
        T.TrainConfig(out=Path("x"), max_src=1024)


def test_batches_are_pure_functions_of_seed_rank_and_step(tmp_path: Path) -> None:
    cfg = tiny(tmp_path)
    streams = T.streams_of(cfg)
    chunk = T.chunk_episodes(cfg, streams, 0, 0)
    assert len(chunk) == cfg.pool
    assert chunk == T.chunk_episodes(cfg, streams, 0, 0)
    assert chunk != T.chunk_episodes(cfg, streams, 1, 0)  # each rank its own stream
    batches = T.chunk_batches(cfg, chunk, 0, 0)
    assert batches == T.chunk_batches(cfg, chunk, 0, 0)
    assert len(batches) == T.steps_per_chunk(cfg) == 4
    # with reuse=2 the chunk's steps use every episode exactly twice
    assert sorted(i for b in batches for i in b) == sorted(list(range(cfg.pool)) * 2)
    first = T.make_batch(cfg, chunk, batches[1], 0, 1)
    again = T.make_batch(cfg, chunk, batches[1], 0, 1)
    assert [(i.src, i.tgt) for i in first] == [(i.src, i.tgt) for i in again]
    assert len(first) == cfg.batch_size
    other = T.make_batch(cfg, chunk, batches[1], 0, 2)  # fresh slots at another step
    assert [i.src for i in first] != [i.src for i in other]
    batch = T.collate(first)
    assert batch["input_ids"].shape[0] == cfg.batch_size
    assert (batch["labels"][:, 0] != -100).all() and batch["decoder_input_ids"][0, 0] == 1


def test_validation_figures_of_a_perfect_proposer(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tiny(tmp_path, valid_episodes=4, task="program")  # whole-program figures
    items = T.validation_items(cfg, T.streams_of(cfg))
    assert len(items) == 4
    assert items == T.validation_items(replace(cfg, seed=9), T.streams_of(cfg))
    model = build_model(TINY)
    monkeypatch.setattr(M, "generate_ids", lambda *a, **k: [[list(it.tgt)] for it in items])
    figures = M.validate(model, items, samples=0, max_len=cfg.max_tgt)
    assert figures["greedy_exact"] == figures["greedy_parsed"] == 1.0
    assert figures["greedy_consistent"] == figures["solve@1"] == 1.0
    assert figures["greedy_query"] == figures["solve_query"] == 1.0 and figures["loss"] > 0
    # the empty program explains nothing, and a random model's samples rarely do
    monkeypatch.setattr(M, "generate_ids", lambda *a, **k: [[[1, 2]] for _ in items])
    figures = M.validate(model, items, samples=0, max_len=cfg.max_tgt)
    assert figures["greedy_parsed"] == figures["greedy_consistent"] == figures["solve@1"] == 0.0


def test_validation_reports_each_episode_and_bounds_decoding(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tiny(tmp_path, valid_episodes=3)
    items = T.validation_items(cfg, T.streams_of(cfg))
    asked: list[tuple[int, int]] = []
    monkeypatch.setattr(M, "proposals", lambda model, item, samples, max_len, seed:
                        asked.append((max_len, torch.get_num_threads())) or [])
    done: list[int] = []
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        M.validate(build_model(TINY), items, samples=2, max_len=cfg.max_tgt,
                   progress=lambda: done.append(len(done)))
        assert torch.get_num_threads() == 2  # restored
    finally:
        torch.set_num_threads(before)
    assert done == [0, 1, 2]
    # decoding on one thread, each episode up to twice its target and a margin
    assert asked == [(min(cfg.max_tgt, 2 * len(it.tgt) + 8), 1) for it in items]


def test_tiny_run_learns_and_writes_everything(tmp_path: Path) -> None:
    out = T.train(tiny(tmp_path, steps=20, valid_every=20, valid_episodes=2, valid_samples=2,
                       checkpoint_every=10))
    log = json.loads((out / T.LOG_FILE).read_text())
    losses = [r["loss"] for r in log["train"]]
    assert len(losses) == 10 and losses[-1] < losses[0]
    assert [r["step"] for r in log["valid"]] == [20]
    assert {"loss", "top1", "top10"} <= set(log["valid"][0])  # the policy's figures
    assert (out / T.CURVE_FILE).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    model, meta = load_checkpoint(out)
    assert meta["steps"] == 20 and meta["grammars"] == ["miniscan", "numbers"]
    assert meta["validation"]["step"] == 20 and meta["seed"] == 0
    assert not (out / ".writing").exists()
    with pytest.raises(MetarlmError, match="already holds a checkpoint"):
        T.train(tiny(tmp_path, steps=20))
    assert not any(p.suffix in (".bin", ".pt", ".pkl") for p in out.iterdir())


def test_fixed_symbols_train_the_nometa_baseline(tmp_path: Path) -> None:
    from metarlm.neural.propose import ModelProposer

    out = T.train(tiny(tmp_path, steps=4, symbols="fixed"))
    assert json.loads((out / META_FILE).read_text())["symbols"] == "fixed"
    assert ModelProposer.load(out).symbols == "fixed"
    cfg = tiny(tmp_path, symbols="fixed")
    episode = T.usable_episodes(T.streams_of(cfg)[0], 1, 0, cfg)[0]
    one, two = (T.prepare(episode, random.Random(s), cfg, False) for s in (1, 2))
    assert one is not None and two is not None and one.abstraction == two.abstraction
    with pytest.raises(ValueError, match="symbols"):
        tiny(tmp_path, symbols="shuffled")


def test_resume_gives_the_uninterrupted_result(tmp_path: Path) -> None:
    full = T.train(tiny(tmp_path / "full"))
    # the interrupted run also builds its chunks in a worker process: that changes nothing
    T.train(tiny(tmp_path / "part", stop_at=5, workers=1))
    assert json.loads((tmp_path / "part" / META_FILE).read_text())["steps"] == 5
    part = T.train(tiny(tmp_path / "part", resume=True))
    a, b = weights(full), weights(part)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert load_file(str(full / "optimizer.safetensors")).keys() == \
        load_file(str(part / "optimizer.safetensors")).keys()
    assert json.loads((part / META_FILE).read_text())["steps"] == 12


def test_torchrun_two_processes(tmp_path: Path) -> None:
    out = tmp_path / "ddp"
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "metarlm.neural.train", "--grammar", "miniscan", "--steps", "3",
           "--batch-size", "2",
           "--d-model", "32", "--layers", "1", "--heads", "2", "--ffn", "64", "--pool", "4",
           "--valid-every", "0", "--no-progress", "--out", str(out)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    model, meta = load_checkpoint(out)
    assert meta["world_size"] == 2 and meta["steps"] == 3
    log = json.loads((out / T.LOG_FILE).read_text())
    assert log["train"][-1]["episodes"] == 3 * 2 * 2
