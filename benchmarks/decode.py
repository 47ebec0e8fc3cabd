"""Programs per second from the grammar-constrained sampler, with and without the KV cache.

Two randomly initialised proposers (BART-style, no download): about 1M parameters (d_model
128, 2+2 layers) and about 7.5M (d_model 256, 4+4 layers). Each draws a batch of programs in
the SCAN domain, every one exactly ``--tokens`` ids long (``min_len = max_len``), from one
50-id episode, after a warm-up batch so that lazy imports and mask caches are not timed.
Also times the grammar mask alone (``ProgramConstraint.mask`` + ``advance`` per token) on
random walks: warm (masks cached) and cold (a fresh constraint per program).

    python benchmarks/decode.py [--batch 64] [--tokens 60] [--repeats 3] [--threads N] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from metarlm.lang.domain import load_domain
from metarlm.neural import tokens as tk
from metarlm.neural.decode import ProgramConstraint, sample_programs
from metarlm.neural.model import ModelConfig, build_model, count_parameters

SIZES = {"1M": ModelConfig(d_model=128, encoder_layers=2, decoder_layers=2, heads=4, ffn=512),
         "7.5M": ModelConfig(d_model=256, encoder_layers=4, decoder_layers=4, heads=4,
                             ffn=1024)}
SCAN_WORDS = ("walk", "run", "jump", "look", "turn", "left", "right", "around", "opposite",
              "and", "after", "twice", "thrice")
SCAN_TOKENS = ("I_WALK", "I_RUN", "I_JUMP", "I_LOOK", "I_TURN_LEFT", "I_TURN_RIGHT")


@dataclass(frozen=True)
class SamplerRow:
    """One model size and cache setting."""

    model: str
    parameters: int
    cache: bool
    programs_per_s: float
    ids_per_program: float
    seconds: float


def constraint(tokens: int) -> ProgramConstraint:
    """SCAN, all 13 words and 6 tokens in slots, programs exactly ``tokens`` ids long."""
    return ProgramConstraint(load_domain("scan"), SCAN_WORDS, SCAN_TOKENS, max_len=tokens,
                             min_len=tokens)


def episode(rng: np.random.Generator, length: int = 50) -> list[int]:
    """Random encoder ids (word and token slots, separators), ending with EOS."""
    ids = rng.integers(tk.WORD0, tk.WORD0 + len(SCAN_WORDS), size=length - 1)
    ids[::5] = tk.TOKEN0 + rng.integers(0, len(SCAN_TOKENS), size=len(ids[::5]))
    return [int(i) for i in ids] + [tk.EOS]


def time_sampler(name: str, batch: int, tokens: int, repeats: int) -> list[SamplerRow]:
    """Median wall time of one batch, cached and uncached, for one model size."""
    model = build_model(SIZES[name], seed=0)
    enc = episode(np.random.default_rng(0))
    rows = []
    for cache in (True, False):
        c = constraint(tokens)
        sample_programs(model, enc, c, batch, seed=0, batch_size=batch, use_cache=cache)
        times, lengths = [], []
        for r in range(repeats):
            start = time.perf_counter()
            out = sample_programs(model, enc, c, batch, seed=r + 1, batch_size=batch,
                                  use_cache=cache)
            times.append(time.perf_counter() - start)
            lengths += [len(x.ids) for x in out]
        t = statistics.median(times)
        rows.append(SamplerRow(name, count_parameters(model), cache, batch / t,
                               float(np.mean(lengths)), t))
    return rows


def _walk(c: ProgramConstraint, rng: np.random.Generator) -> int:
    state, n = c.start(), 0
    while state.stack >= 0:
        allowed = np.flatnonzero(c.mask(state))
        state = c.advance(state, int(allowed[rng.integers(len(allowed))]))
        n += 1
    return n


def time_mask(tokens: int, programs: int) -> dict[str, float]:
    """Microseconds per token for mask + advance, with warm and cold caches."""
    rng = np.random.default_rng(0)
    warm = constraint(tokens)
    for _ in range(programs):
        _walk(warm, rng)  # fill the cache with the states random walks reach
    start, n = time.perf_counter(), 0
    for _ in range(programs):
        n += _walk(warm, rng)
    warm_us = (time.perf_counter() - start) / n * 1e6
    start, n = time.perf_counter(), 0
    for _ in range(programs // 10):
        n += _walk(constraint(tokens), rng)
    cold_us = (time.perf_counter() - start) / n * 1e6
    return {"warm_us_per_token": warm_us, "cold_us_per_token": cold_us,
            "cached_masks": float(len(warm._masks))}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; print a table, or JSON with ``--json``."""
    import torch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--tokens", type=int, default=60)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = [r for name in args.sizes
            for r in time_sampler(name, args.batch, args.tokens, args.repeats)]
    mask = time_mask(args.tokens, 300)
    result = {"batch": args.batch, "tokens": args.tokens, "threads": torch.get_num_threads(),
              "sampler": [asdict(r) for r in rows], "mask": mask}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print_table(result)
    return result


def _print_table(result: dict[str, Any]) -> None:
    print(f"batch {result['batch']}, {result['tokens']} ids a program, "
          f"{result['threads']} torch threads")
    print(f"{'model':>6} {'params':>10} {'cache':>6} {'programs/s':>11} {'ids':>6} {'s':>7}")
    for r in result["sampler"]:
        print(f"{r['model']:>6} {r['parameters']:>10,} {('yes' if r['cache'] else 'no'):>6} "
              f"{r['programs_per_s']:>11.1f} {r['ids_per_program']:>6.1f} {r['seconds']:>7.2f}")
    m = result["mask"]
    print(f"grammar mask + advance: {m['warm_us_per_token']:.2f} us/token warm, "
          f"{m['cold_us_per_token']:.1f} us/token cold ({m['cached_masks']:.0f} masks cached)")


if __name__ == "__main__":
    main(sys.argv[1:])
