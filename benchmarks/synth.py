"""End-to-end synthesis figures on the shipped demonstrations (not a test).

    python benchmarks/synth.py miniscan --seeds 10 --shuffles 10   # 8 queries, timing
    python benchmarks/synth.py oneshot                              # all 7,706 add-jump tests
    python benchmarks/synth.py miniscan --no-model --json
    python benchmarks/synth.py numbers --langs en,es,fr,it,pt        # 200 queries each
    python benchmarks/synth.py scan30 --sets 10                      # whole test splits

``numbers``: per language, single number words as background, the curriculum of
``metarlm.eval.generated.CURRICULUM`` (30 numbers at most) as examples and 200 random numbers
below a million as queries.

``scan30``: per SCAN split, the support sets of the ``scan-*`` eval suites (at most 30
train examples: the shortest example of each word, then random ones), and the accepted
program run on every command of the split's test file.

``miniscan``: the 14 study items as examples (their order shuffled), the 8 test items as
queries; every (seed, shuffle) run is timed from the call to ``synthesize`` until its queries
are answered. ``oneshot``: SCAN rules without ``jump`` as background, ``jump around left
twice`` as the one demonstration, and every command of the add-jump test split answered.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from dataclasses import replace
from typing import Any

from metarlm.data import load_miniscan, load_scan
from metarlm.exec.check import run_many
from metarlm.lang.demo import load_demo, parse_demo
from metarlm.synth.search import synthesize
from metarlm.types import SearchConfig


def miniscan(seeds: int, shuffles: int, config: SearchConfig) -> dict[str, Any]:
    """Query accuracy, consistency and seconds over seeds x example orders."""
    data = load_miniscan()
    times, right, consistent = [], [], 0
    for shuffle in range(shuffles):
        items = list(data["examples"])
        random.Random(shuffle).shuffle(items)
        demo = parse_demo({**data, "examples": items})
        for seed in range(seeds):
            start = time.monotonic()
            result = synthesize(demo, replace(config, seed=seed))
            times.append(time.monotonic() - start)
            consistent += result.consistent
            right.append(sum(bool(q.correct) for q in result.queries))
    runs = seeds * shuffles
    return {"suite": "miniscan", "runs": runs, "consistent": consistent,
            "all_8_right": sum(r == 8 for r in right), "median_seconds": statistics.median(times),
            "max_seconds": max(times)}


def oneshot(config: SearchConfig) -> dict[str, Any]:
    """One demonstration of jump; every add-jump test command answered."""
    start = time.monotonic()
    demo = load_demo("examples/scan/oneshot.json")
    result = synthesize(demo, config)
    test = load_scan("addprim_jump_test")
    answers = run_many(result.program, [tuple(c.split()) for c, _ in test]) \
        if result.program is not None else []
    right = sum(getattr(a, "value", None) == tuple(o.split()) for a, (_, o) in zip(answers, test))
    return {"suite": "scan-oneshot", "consistent": result.consistent, "right": right,
            "commands": len(test), "seconds": time.monotonic() - start,
            "program": None if result.learned is None else str(result.learned)}


def numbers(langs: list[str], config: SearchConfig) -> dict[str, Any]:
    """Per language: consistent, query accuracy, seconds, the learned rules."""
    from metarlm.eval.generated import curriculum_demo

    out: dict[str, Any] = {"suite": "numbers-curriculum"}
    for lang in langs:
        demo = parse_demo(curriculum_demo(lang))
        start = time.monotonic()
        result = synthesize(demo, config)
        right = sum(bool(q.correct) for q in result.queries)
        out[lang] = {"examples": len(demo.examples), "consistent": result.consistent,
                     "right": right, "queries": len(result.queries),
                     "seconds": round(time.monotonic() - start, 2),
                     "learned": None if result.learned is None else str(result.learned)}
    return out


def scan30(sets: int, config: SearchConfig) -> dict[str, Any]:
    """Per split: support sets whose program answers the whole test file, and seconds."""
    from metarlm.eval.suites import SCAN_SPLITS, SuiteOptions, build_tasks

    out: dict[str, Any] = {"suite": "scan30"}
    for suite, split in SCAN_SPLITS.items():
        test = load_scan(f"{split}_test")
        commands = [tuple(c.split()) for c, _ in test]
        runs = []
        for task in build_tasks(suite, 0, SuiteOptions(episodes=sets)):
            demo = parse_demo(task.demo)
            start = time.monotonic()
            result = synthesize(demo, config)
            seconds = time.monotonic() - start
            right = 0
            if result.program is not None:
                answers = run_many(result.program, commands)
                right = sum(getattr(a, "value", None) == tuple(o.split())
                            for a, (_, o) in zip(answers, test))
            runs.append({"examples": len(demo.examples), "consistent": result.consistent,
                         "test_accuracy": round(right / len(test), 4),
                         "seconds": round(seconds, 2)})
        out[suite] = {"sets": len(runs), "all_test_right": sum(r["test_accuracy"] == 1.0
                                                              for r in runs),
                      "consistent": sum(r["consistent"] for r in runs),
                      "median_seconds": statistics.median(r["seconds"] for r in runs),
                      "runs": runs}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("suite", choices=("miniscan", "oneshot", "numbers", "scan30"))
    parser.add_argument("--sets", type=int, default=10, help="scan30: support sets per split")
    parser.add_argument("--langs", default="en,es,fr,it,pt", help="numbers: languages")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--shuffles", type=int, default=10)
    parser.add_argument("--no-model", action="store_true")
    parser.add_argument("--timeout", type=float, default=SearchConfig.timeout,
                        help="seconds per synthesis run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    config = SearchConfig(use_model=not args.no_model, timeout=args.timeout)
    if args.suite == "miniscan":
        out = miniscan(args.seeds, args.shuffles, config)
    elif args.suite == "numbers":
        out = numbers(args.langs.split(","), config)
    elif args.suite == "scan30":
        out = scan30(args.sets, config)
    else:
        out = oneshot(config)
    print(json.dumps(out) if args.json else "\n".join(f"{k}: {v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
