"""How to rank consistent programs, measured on held-out random episodes (not a test).

For each task of the drawn suites (random grammars and episodes, seeds from ``--seed-base``
on, apart from the evaluation's seeds 0, 1, ...), and each truncation to ``--shots``
demonstrations, the unguided search collects up to ``--pool`` consistent programs; with
``--pool-from meta`` the pool is instead the consistent programs the default synthesis (the
guided search in turns with the unguided one) gathers before it ranks them. Each gets
its description length (``types.size``), the policy's log-probability of its decomposition
(``Policy.decomposition_logprob``) and its query accuracy. The table gives, for each weight
``w`` of the log-probability in the score ``w · logprob − DL_WEIGHT · size`` (ties: the order
the search found them), the mean query accuracy of the top-ranked program; beside it the
search's first program and the best in the pool (an upper bound for any ranking); "w=1,
variants" is the shipped ranking, where programs that differ only in whether a variable is
a ``u`` or an ``x`` are ordered by generality (``ranking.general_variants_first``).

    python benchmarks/ranking.py --suite miniscan-random --suite new-domain --episodes 8
    python benchmarks/ranking.py --pool-from meta --episodes 24 --shots 1,2
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from metarlm.eval.suites import SuiteOptions, build_tasks
from metarlm.eval.tasks import shot_counts, truncated
from metarlm.exec.check import run_many
from metarlm.lang.demo import Demo, parse_demo
from metarlm.lang.interp import Ok
from metarlm.neural.policy import Policy
from metarlm.synth.ranking import general_variants_first, generality, variant_key
from metarlm.synth.search import searcher, synthesize, warm_kernels
from metarlm.types import DL_WEIGHT, Budget, SearchConfig, size

WEIGHTS = (0.0, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0)


def pool(demo: Demo, limit: int, seconds: float) -> list[Any]:
    """Up to ``limit`` consistent programs of the unguided search, in the order found."""
    search = searcher(demo, Budget(max_candidates=10**9, seconds=seconds))
    found = []
    for program in search.run():
        found.append(program)
        if len(found) >= limit:
            break
    return found


def meta_pool(demo: Demo, seconds: float, seed: int, checkpoint: str | None) -> list[Any]:
    """The consistent programs the default synthesis gathers, in the order found (what its
    ranking chooses among)."""
    cfg = SearchConfig(timeout=seconds, seed=seed,
                       **({"checkpoint": checkpoint} if checkpoint else {}))
    return list(synthesize(demo, cfg).considered)


def accuracy(program: Any, demo: Demo) -> float:
    """Share of the demo's queries the program answers right."""
    scored = [q for q in demo.queries if q.expected is not None]
    results = run_many(program, [q.input for q in scored])
    return sum(isinstance(r, Ok) and r.value == q.expected
               for r, q in zip(results, scored)) / max(1, len(scored))


def measure(task: Any, policy: Policy, limit: int, seconds: float,
            source: str = "enum", checkpoint: str | None = None) -> dict[str, Any] | None:
    """One task's pool, each program with its size, log-probability and accuracy."""
    demo = parse_demo(task.demo, source=task.name)
    warm_kernels(demo)
    programs = (meta_pool(demo, seconds, task.seed, checkpoint) if source == "meta"
                else pool(demo, limit, seconds))
    if not programs:
        return None
    keys: dict[Any, int] = {}
    rows = [{"size": size(p),
             "logprob": policy.decomposition_logprob(p, demo.background, demo.examples),
             "accuracy": accuracy(p, demo),
             "variant": keys.setdefault(variant_key(p), len(keys)),
             "generality": generality(p)} for p in programs]
    return {"suite": task.suite, "task": task.name, "shots": task.shots, "programs": rows}


def top(rows: list[dict[str, Any]], weight: float, variants: bool = False) -> float:
    """Accuracy of the best-scored program (the first found among equals); with
    ``variants``, programs that differ only in u against x ordered as the synthesis
    orders them (``ranking.general_variants_first``)."""
    def score(r: dict[str, Any]) -> float:
        lp = r["logprob"] if math.isfinite(r["logprob"]) else -1e6
        return weight * lp - DL_WEIGHT * r["size"]
    ranked = sorted(rows, key=lambda r: -score(r))  # stable: the first found among equals
    if variants and "variant" in rows[0]:
        ranked = general_variants_first(ranked, lambda r: r["variant"],
                                        lambda r: r["generality"])
    return ranked[0]["accuracy"]


def tie_broken(rows: list[dict[str, Any]]) -> float:
    """Accuracy of the shortest program, the log-probability breaking ties."""
    return min(rows, key=lambda r: (r["size"], -r["logprob"] if math.isfinite(r["logprob"])
                                    else math.inf))["accuracy"]


def table(records: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Mean top-ranked accuracy per group (suite, shots) and weight, with the baselines."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        shots = "all" if rec["shots"] is None else str(rec["shots"])
        for key in (f"{rec['suite']} · {shots}", "all"):
            groups.setdefault(key, []).append(rec)
    out = {}
    for key, recs in groups.items():
        row = {f"w={w:g}": sum(top(r["programs"], w) for r in recs) / len(recs) for w in WEIGHTS}
        row["w=1, variants"] = sum(top(r["programs"], 1.0, True) for r in recs) / len(recs)
        row["size, then logprob"] = sum(tie_broken(r["programs"]) for r in recs) / len(recs)
        row["first found"] = sum(r["programs"][0]["accuracy"] for r in recs) / len(recs)
        row["best in pool"] = sum(max(p["accuracy"] for p in r["programs"])
                                  for r in recs) / len(recs)
        row["tasks"] = len(recs)
        out[key] = row
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", action="append", default=None,
                    help="drawn suites (default: miniscan-random, scan-random, new-domain)")
    ap.add_argument("--episodes", type=int, default=8, help="tasks per suite")
    ap.add_argument("--seed-base", type=int, default=1000, help="suite seed (held out)")
    ap.add_argument("--shots", default="1,2", help="truncations also run")
    ap.add_argument("--pool", type=int, default=12, help="consistent programs collected")
    ap.add_argument("--pool-from", choices=("enum", "meta"), default="enum",
                    help="the unguided search's first --pool programs, or the default "
                         "synthesis's own pool")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds of search a task")
    ap.add_argument("--checkpoint", default=None, help="policy (default: the shipped one)")
    ap.add_argument("--out", type=Path, default=None, help="write the records here (JSON)")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ap.add_argument("--records", type=Path, default=None,
                    help="tabulate the records an earlier --out wrote, running nothing")
    args = ap.parse_args(argv)
    if args.records is not None:
        saved = json.loads(args.records.read_text())
        return show({"seconds": saved["seconds"], "table": table(saved["records"])}, args.json)
    policy = Policy.load(args.checkpoint)
    opts = SuiteOptions(episodes=args.episodes)
    shots = [int(s) for s in args.shots.split(",") if s]
    records = []
    started = time.monotonic()
    for suite in args.suite or ["miniscan-random", "scan-random", "new-domain"]:
        for task in build_tasks(suite, args.seed_base, opts):
            for t in [task, *(truncated(task, k) for k in shot_counts(task.n_examples, shots))]:
                rec = measure(t, policy, args.pool, args.timeout, args.pool_from,
                              args.checkpoint)
                if rec is not None:
                    records.append(rec)
                    print(f"{t.suite} {t.name} shots={t.shots}: {len(rec['programs'])} "
                          "programs", file=sys.stderr, flush=True)
    result = {"seconds": round(time.monotonic() - started, 1), "table": table(records)}
    if args.out is not None:
        args.out.write_text(json.dumps({**result, "records": records}, indent=1))
    return show(result, args.json)


def show(result: dict[str, Any], as_json: bool) -> int:
    """Print the table (or JSON)."""
    if as_json:
        print(json.dumps(result, indent=1))
        return 0
    names = [*(f"w={w:g}" for w in WEIGHTS), "w=1, variants", "size, then logprob", "first found",
             "best in pool"]
    widths = [max(8, len(n)) for n in names]
    print(f"{'group':28} {'tasks':>5} " + " ".join(f"{n:>{w}}" for n, w in zip(names, widths)))
    for key, row in result["table"].items():
        print(f"{key:28} {row['tasks']:>5} " + " ".join(
            f"{100 * row[n]:>{w - 1}.1f}%" for n, w in zip(names, widths)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
