"""The search core's own cost per candidate, kernel checks and Z3 excluded (not a test).

    python benchmarks/core.py                   # MiniSCAN, one-shot add-jump, number words
    python benchmarks/core.py --repeats 5 --json

Each demonstration is searched without a model (``use_model=False``) while the time spent in
the checker (``DemoChecker.check`` and ``extend``: lowering and kernels) and in hole filling
(``fillable``, the kernels' pass that rules sketches out, and ``fill_all``: Z3 and its
propagation) is measured apart. What remains, divided by the
candidates checked, is the core's own cost per candidate: generation, placement, dedup,
ranking and bookkeeping. Figures are medians over the repeats, in one process; the memos
that outlive a search are emptied before each, so every repeat starts as a fresh ``synth``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from metarlm.data import load_miniscan
from metarlm.exec import check, holes, incremental
from metarlm.lang.demo import load_demo, parse_demo
from metarlm.synth import templates
from metarlm.synth.generators import abduction, sums, systematic
from metarlm.synth.plugins import numerals
from metarlm.synth.search import synthesize


class Clock:
    """Seconds spent inside wrapped functions."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, func: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
        return timed


def demos() -> dict[str, Any]:
    """The demonstrations measured."""
    from metarlm.eval.generated import curriculum_demo

    return {"miniscan": parse_demo(load_miniscan()),
            "scan-oneshot": load_demo("examples/scan/oneshot.json"),
            "lights": load_demo("examples/lights/demo.json"),
            "numbers-en": parse_demo(curriculum_demo("en"))}


def forget() -> None:
    """Empty the memos that outlive a search (a fresh process starts without them)."""
    templates.value.cache_clear()
    templates._bindings.cache_clear()
    check._LANES.clear()
    numerals.lexicon.cache_clear()
    numerals._stems.cache_clear()


def measure(demo: Any) -> dict[str, float]:
    """One search: candidates, seconds, checker and solver seconds, cost per candidate."""
    forget()
    checker, solver = Clock(), Clock()
    saved = (incremental.DemoChecker.check, incremental.DemoChecker.extend, holes.fill_all,
             abduction.fillable)
    incremental.DemoChecker.check = checker.wrap(saved[0])  # type: ignore[method-assign]
    incremental.DemoChecker.extend = checker.wrap(saved[1])  # type: ignore[method-assign]
    filled = solver.wrap(saved[2])
    for module in (holes, abduction, sums, systematic):
        module.fill_all = filled  # type: ignore[attr-defined]
    abduction.fillable = solver.wrap(saved[3])  # type: ignore[attr-defined]
    try:
        start = time.perf_counter()
        result = synthesize(demo, use_model=False, timeout=60)
        total = time.perf_counter() - start
    finally:
        incremental.DemoChecker.check, incremental.DemoChecker.extend = saved[:2]  # type: ignore[method-assign]
        for module in (holes, abduction, sums, systematic):
            module.fill_all = saved[2]  # type: ignore[attr-defined]
        abduction.fillable = saved[3]  # type: ignore[attr-defined]
    own = total - checker.seconds - solver.seconds
    n = max(1, result.candidates)
    return {"candidates": result.candidates, "seconds": total, "checker_s": checker.seconds,
            "solver_s": solver.seconds, "own_us_per_candidate": 1e6 * own / n,
            "checker_us_per_candidate": 1e6 * checker.seconds / n,
            "consistent": float(result.consistent)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    synthesize(parse_demo(load_miniscan()), use_model=False, timeout=5)  # kernels compiled
    out = {}
    for name, demo in demos().items():
        runs = [measure(demo) for _ in range(args.repeats)]
        out[name] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    if args.json:
        print(json.dumps(out, indent=1))
        return
    print(f"{'demo':14} {'candidates':>10} {'seconds':>8} {'checker s':>9} {'solver s':>8} "
          f"{'own µs/cand':>11} {'check µs/cand':>13}")
    for name, r in out.items():
        print(f"{name:14} {r['candidates']:10.0f} {r['seconds']:8.2f} {r['checker_s']:9.2f} "
              f"{r['solver_s']:8.2f} {r['own_us_per_candidate']:11.1f} "
              f"{r['checker_us_per_candidate']:13.1f}")


if __name__ == "__main__":
    main()
