"""How well a policy predicts the next rule on held-out search states (not a test).

For N states labelled as in training (``metarlm.neural.states``) but drawn with a seed no
training run uses, the policy proposes ``--samples`` single rules under the grammar, by beam
search (``--decoding beam``, what the search uses) or by as many draws (``sample``); the
true rule's rank among the distinct proposals by log-probability gives top-1 and top-10.
``--domain new`` is the new-domain suite's grammar (glyphs), which no policy trained on.

    python benchmarks/policy.py --domain miniscan --states 2000
    python benchmarks/policy.py --domain new --checkpoint metarlm/checkpoints/nometa --json
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from metarlm.neural import sample
from metarlm.neural.policy import Policy, rule_ranks
from metarlm.neural.states import policy_episodes
from metarlm.neural.tokens import encode_pair

HELD_OUT_SEED = 10**7 + 17  # training streams derive their seeds by hashing; see neural.train


def held_out_states(domain: str, n: int, symbols: str) -> list[Any]:
    """``n`` encoded held-out states of a domain (each under a random abstraction)."""
    seed = HELD_OUT_SEED + random.Random(domain).randrange(999)
    stream = sample.episodes(domain, sample.prior_for(domain), seed)
    rng = random.Random(seed)
    items = []
    for state in policy_episodes(stream, seed, per_episode=2, on_policy=0.05):
        item = encode_pair(state, rng, max_tgt=64, symbols=symbols)
        if item is not None:
            items.append(item)
        if len(items) == n:
            break
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--domain", default="miniscan",
                        help="a built-in domain, a .lark file, or 'new' (the new-domain grammar)")
    parser.add_argument("--states", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=16, help="beam width, or draws")
    parser.add_argument("--decoding", choices=("beam", "sample"), default="beam")
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    policy = Policy.load(args.checkpoint)
    domain = args.domain
    if domain == "new":
        from metarlm.eval.suites import glyphs_grammar

        domain = str(glyphs_grammar(Path(tempfile.mkdtemp())))
    start = time.monotonic()
    items = held_out_states(domain, args.states, policy.symbols)
    ranks = rule_ranks(policy.model, items, args.samples, seed=0, decoding=args.decoding)
    n = max(1, len(ranks))
    result = {"domain": args.domain, "states": len(ranks), "samples": args.samples,
              "decoding": args.decoding,
              "checkpoint": str(policy.path), "symbols": policy.symbols,
              "top1": sum(r == 1 for r in ranks) / n,
              "top10": sum(r is not None and r <= 10 for r in ranks) / n,
              "found": sum(r is not None for r in ranks) / n,
              "seconds": round(time.monotonic() - start, 1)}
    if args.json:
        print(json.dumps(result))
        return
    print(f"{args.domain}: {result['states']} held-out states, {args.samples} proposals each "
          f"by {args.decoding} ({policy.symbols} symbols)")
    print(f"  top-1 {result['top1']:.1%}   top-10 {result['top10']:.1%}   "
          f"among the proposals {result['found']:.1%}   {result['seconds']} s")


if __name__ == "__main__":
    main()
