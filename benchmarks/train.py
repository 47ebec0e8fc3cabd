"""Training throughput on this machine: sampler, model step, and the whole loop.

Three figures for a model size (default: the default ``ModelConfig``, about 1.1M parameters):

- sampler: usable episodes per second that ``metarlm.neural.sample`` gives for each grammar
  (one process);
- model: optimizer steps per second at ``--batch`` on real episodes (bucketed by length, as
  training batches them, and in random order), for each ``--threads`` setting;
- loop: steps and episodes per second of ``metarlm.neural.train.train`` itself (warm, after its
  first logged step), with its chunks of episodes built inline (``workers=0``) or in one worker.

    python benchmarks/train.py [--d-model 128 --layers 2 --heads 4 --ffn 512] [--batch 32]
                               [--threads 1 2] [--steps 40] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import torch

from metarlm.neural import train as T
from metarlm.neural.model import ModelConfig, build_model, count_parameters

GRAMMARS = ("miniscan", "scan", "numbers", "code")


@dataclass(frozen=True)
class Row:
    """One measurement."""

    what: str
    setting: str
    per_s: float  # episodes per second
    steps_per_s: float = 0.0


def sampler_rows(cfg: T.TrainConfig, count: int) -> list[Row]:
    """Usable episodes per second for each grammar (after one warm-up episode)."""
    rows = []
    for stream in T.streams_of(cfg):
        T.usable_episodes(stream, 1, 0, cfg)
        start = time.perf_counter()
        T.usable_episodes(stream, count, 1, cfg)
        rows.append(Row("sampler", stream.grammar, count / (time.perf_counter() - start)))
    return rows


def model_rows(cfg: T.TrainConfig, threads: Sequence[int], steps: int) -> list[Row]:
    """Optimizer steps per second on one chunk's batches, bucketed and in random order."""
    chunk = T.chunk_episodes(cfg, T.streams_of(cfg), 0, 0)
    rows = []
    for bucket in (True, False):
        picks = T.chunk_batches(replace(cfg, bucket=bucket), chunk, 0, 0)
        batches = [T.collate(T.make_batch(cfg, chunk, p, 0, k)) for k, p in enumerate(picks)]
        for n in threads:
            torch.set_num_threads(n)
            rate = time_steps(cfg, batches, steps)
            name = f"{'bucketed' if bucket else 'random'}, {n} thread(s)"
            rows.append(Row("model", name, rate * cfg.batch_size, rate))
    return rows


def time_steps(cfg: T.TrainConfig, batches: list[dict[str, torch.Tensor]], steps: int) -> float:
    """Steps per second of the training step, after two warm-up steps."""
    model = build_model(cfg.model, 0)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
    for k in range(2):
        T.train_step(model, opt, batches[k % len(batches)], cfg, 0, k)
    start = time.perf_counter()
    for k in range(steps):
        T.train_step(model, opt, batches[k % len(batches)], cfg, 0, k)
    return steps / (time.perf_counter() - start)


def loop_rows(cfg: T.TrainConfig, steps: int) -> list[Row]:
    """Whole-loop throughput of ``train`` without validation, inline and with one worker."""
    rows = []
    for workers in (0, 1):
        with tempfile.TemporaryDirectory() as tmp:
            run = replace(cfg, out=Path(tmp), steps=steps, workers=workers, log_every=1,
                          valid_every=0, checkpoint_every=steps, progress=False)
            T.train(run)
            log = json.loads((Path(tmp) / T.LOG_FILE).read_text())["train"]
        first, last = log[0], log[-1]
        rate = (last["step"] - first["step"]) / (last["seconds"] - first["seconds"])
        name = f"workers={workers}, threads={cfg.threads or torch.get_num_threads()}"
        rows.append(Row("loop", name, rate * cfg.batch_size, rate))
    return rows


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and print a table (or JSON)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--ffn", type=int, default=512)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--steps", type=int, default=40, help="timed steps (model and loop)")
    p.add_argument("--episodes", type=int, default=40, help="timed episodes per grammar")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    random.seed(0)
    model = ModelConfig(d_model=args.d_model, encoder_layers=args.layers,
                        decoder_layers=args.layers, heads=args.heads, ffn=args.ffn)
    cfg = T.TrainConfig(out=Path("."), grammars=GRAMMARS, model=model, batch_size=args.batch,
                        pool=8 * args.batch, threads=min(args.threads))
    rows = sampler_rows(cfg, args.episodes) + model_rows(cfg, args.threads, args.steps)
    torch.set_num_threads(min(args.threads))
    rows += loop_rows(cfg, args.steps)
    result = {"model": asdict(model), "parameters": count_parameters(build_model(model)),
              "batch": args.batch, "rows": [asdict(r) for r in rows]}
    if args.json:
        json.dump(result, sys.stdout, indent=1)
        print()
        return result
    print(f"model {result['parameters'] / 1e6:.2f}M parameters, batch {args.batch}")
    for r in rows:
        steps = f"{r.steps_per_s:6.2f} steps/s" if r.steps_per_s else ""
        print(f"{r.what:8s} {r.setting:28s} {r.per_s:8.1f} episodes/s  {steps}")
    return result


if __name__ == "__main__":
    main()
