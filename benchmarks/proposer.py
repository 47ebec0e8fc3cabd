"""How well a checkpoint proposes programs on held-out random episodes (not a test).

For each of N episodes drawn from a domain's prior with a seed no training run uses, the model
samples at most ``--samples`` programs (grammar-constrained, checked in the kernels). An episode
is solved when some sample reproduces every support example; its query accuracy is that of the
best-ranked consistent sample. The greedy (single argmax program) figures are printed beside.

    python benchmarks/proposer.py --domain miniscan --episodes 500 --samples 128
    python benchmarks/proposer.py --domain scan --episodes 500 --json
"""

from __future__ import annotations

import argparse
import json
import random
import time
from typing import Any

from metarlm.exec.check import run_many
from metarlm.lang.demo import Demo, Query
from metarlm.lang.domain import load_domain
from metarlm.neural.propose import ModelProposer
from metarlm.neural.sample import Episode, episodes
from metarlm.types import Budget, SearchConfig

HELD_OUT_SEED = 10**7  # training streams derive their seeds elsewhere; see metarlm.neural.train


def as_demo(episode: Episode) -> Demo:
    """The episode's support as a demonstration, its query set as scored queries."""
    return Demo(load_domain(episode.domain), episode.support,
                tuple(Query(q.input, q.output) for q in episode.query), episode.background)


def score(proposer: ModelProposer, demo: Demo, cfg: SearchConfig) -> tuple[bool, float]:
    """(solved, query accuracy of the best consistent proposal) for one episode."""
    found = proposer.propose(demo, cfg, Budget(max_candidates=10**9, seconds=10**9))
    if not found:
        return False, 0.0
    best = max(found, key=lambda c: c.score)
    answers = run_many(best.program, [q.input for q in demo.queries])
    right = sum(getattr(a, "value", None) == q.expected for a, q in zip(answers, demo.queries))
    return True, right / max(1, len(demo.queries))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--domain", default="miniscan")
    parser.add_argument("--episodes", type=int, default=500)
    parser.add_argument("--samples", type=int, default=128)
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    proposer = ModelProposer.load(args.checkpoint)
    stream = episodes(args.domain, seed=HELD_OUT_SEED + random.Random(args.domain).randrange(999))
    sampled = SearchConfig(samples=args.samples, batch=min(64, args.samples), seed=0)
    greedy = SearchConfig(greedy=True, seed=0)
    totals = {"solved": 0, "query": 0.0, "greedy_solved": 0, "greedy_query": 0.0}
    start = time.monotonic()
    for _ in range(args.episodes):
        demo = as_demo(next(stream))
        ok, acc = score(proposer, demo, sampled)
        g_ok, g_acc = score(proposer, demo, greedy)
        totals["solved"] += ok
        totals["query"] += acc
        totals["greedy_solved"] += g_ok
        totals["greedy_query"] += g_acc
    n = args.episodes
    result: dict[str, Any] = {
        "domain": args.domain, "episodes": n, "samples": args.samples,
        "checkpoint": str(proposer.path), "solved": totals["solved"] / n,
        "query_accuracy": totals["query"] / n, "greedy_solved": totals["greedy_solved"] / n,
        "greedy_query_accuracy": totals["greedy_query"] / n,
        "seconds": round(time.monotonic() - start, 1)}
    if args.json:
        print(json.dumps(result))
        return
    print(f"{args.domain}: {n} held-out episodes, at most {args.samples} samples each")
    print(f"  support reproduced  {result['solved']:.1%}   (greedy {result['greedy_solved']:.1%})")
    print(f"  queries right       {result['query_accuracy']:.1%}   "
          f"(greedy {result['greedy_query_accuracy']:.1%})")
    print(f"  {result['seconds']} s")


if __name__ == "__main__":
    main()
