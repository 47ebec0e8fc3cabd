"""What the policy costs the user: guided search in turns with the unguided one (not a test).

    python benchmarks/lanes.py [--timeout S] [--json] [DEMO.json ...]

For every demo (default: ``examples/*/demo.json`` and ``benchmarks/unseen/*.json``) four runs
of ``metarlm.synthesize`` go in turn, in one process after an untimed warm-up: unguided
(``use_model=False``), guided in turns with the unguided search (the default: the guided lane
in a second process where there are two cores), the same turns in one process
(``parallel_lanes=False``), and guided alone (``unguided_lane=False``). The table gives each
run's in-process seconds, candidates and queries right, and the guided run's overshoot: its
seconds less the unguided run's; ``same`` says whether the two runs in turns found the same
program after the same candidates, as they must. The promise checked is that the overshoot
stays under the policy's load time, measured once in this process before the warm-up (later
loads are cached: the guided runs do not pay it).

The last lines calibrate ``SearchSettings.model_call_cost``: in the runs in turns, the
unguided lane's milliseconds per candidate, and the guided lane's milliseconds per unit
spent (a rule list made, checked or not, or ``model_call_cost`` per forward pass). Equal
rates mean the two lanes got equal time; the median ratio says by how much the setting is
off.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from metarlm import load_demo, synthesize
from metarlm.neural.policy import Policy
from metarlm.types import SearchSettings

ROOT = Path(__file__).resolve().parent.parent
RUNS = (("unguided", {"use_model": False}), ("in turns", {"use_model": True}),
        ("one process", {"use_model": True, "parallel_lanes": False}),
        ("guided alone", {"use_model": True, "unguided_lane": False}))


def default_demos() -> list[Path]:
    """The shipped examples' demos and the unseen-domain demos."""
    unseen = [p for p in sorted((ROOT / "benchmarks" / "unseen").glob("*.json"))
              if p.name != "baseline.json"]
    return sorted((ROOT / "examples").glob("*/demo.json")) + unseen


def run(path: Path, switches: dict[str, Any], timeout: float) -> dict[str, Any]:
    """One synthesis: seconds, candidates, queries right, and each lane's costs."""
    demo = load_demo(str(path))
    start = time.monotonic()
    result = synthesize(demo, timeout=timeout, **switches)
    return {"seconds": round(time.monotonic() - start, 3), "candidates": result.candidates,
            "model_calls": result.costs["model_calls"], "solved": result.consistent,
            "right": sum(q.correct is True for q in result.queries),
            "scored": sum(q.correct is not None for q in result.queries),
            "lanes": result.costs.get("lanes", {}),
            "program": str(result.program) if result.program is not None else None}


def _counts(run: dict[str, Any]) -> dict[str, tuple]:
    """Each lane's counts, which the two ways of taking turns must share (not seconds)."""
    return {n: (la["candidates"], la["unchecked"], la["model_calls"])
            for n, la in run["lanes"].items()}


def calibration(rows: list[dict[str, Any]], cost: int) -> dict[str, float | None]:
    """Median ms per unit in each lane of the runs in turns, and their ratio."""
    unguided, guided, ratios = [], [], []
    for row in rows:
        lanes = row["in turns"]["lanes"]
        u, g = lanes.get("unguided"), lanes.get("guided")
        if not u or not g or not u["candidates"]:
            continue
        units = g["candidates"] + g["unchecked"] + cost * g["model_calls"]
        if not units:
            continue
        a = 1000 * u["seconds"] / u["candidates"]
        b = 1000 * g["seconds"] / units
        unguided.append(a)
        guided.append(b)
        ratios.append(b / a)
    def median(xs: list[float]) -> float | None:
        return round(statistics.median(xs), 4) if xs else None
    return {"unguided_ms_per_candidate": median(unguided), "guided_ms_per_unit": median(guided),
            "ratio": median(ratios), "demos": len(ratios)}


def main(argv: list[str] | None = None) -> int:
    """Run the three systems on every demo in turn; print the table or JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("demos", nargs="*", type=Path, help="demo files (default: see above)")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per run")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    paths = args.demos or default_demos()
    start = time.monotonic()
    Policy.load()
    load = time.monotonic() - start
    for _, switches in RUNS:  # compile or load the kernels, warm the caches: timed by none
        synthesize(load_demo(str(paths[0])), timeout=2.0, **switches)
    rows = []
    for path in paths:
        row: dict[str, Any] = {"demo": path.stem if path.name != "demo.json"
                               else path.parent.name}
        for name, switches in RUNS:
            row[name] = run(path, switches, args.timeout)
        row["overshoot"] = round(row["in turns"]["seconds"] - row["unguided"]["seconds"], 3)
        two, one = row["in turns"], row["one process"]
        row["same"] = (all(two[k] == one[k] for k in ("program", "candidates", "model_calls"))
                       and _counts(two) == _counts(one))
        rows.append(row)
        print(f"{row['demo']}: " + ", ".join(f"{n} {row[n]['seconds']:.2f} s"
                                              for n, _ in RUNS), file=sys.stderr, flush=True)
    cost = SearchSettings().model_call_cost
    out = {"timeout": args.timeout, "load_seconds": round(load, 3), "model_call_cost": cost,
           "rows": rows, "within_load": sum(r["overshoot"] <= load for r in rows),
           "same": sum(r["same"] for r in rows),
           "median_seconds": {n: statistics.median(r[n]["seconds"] for r in rows)
                              for n, _ in RUNS},
           "calibration": calibration(rows, cost)}
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        _print(out)
    return 0


def _print(out: dict[str, Any]) -> None:
    """The table, the promise's count and the calibration, with rich."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"guided in turns (load {out['load_seconds']:.2f} s, "
                        f"timeout {out['timeout']:g} s)")
    table.add_column("demo")
    for name, _ in RUNS:
        table.add_column(f"{name}: s / cand / right", justify="right")
    table.add_column("overshoot s", justify="right")
    table.add_column("same", justify="center")
    for r in out["rows"]:
        cells = [f"{r[n]['seconds']:.2f} / {r[n]['candidates']} / "
                 f"{r[n]['right']}/{r[n]['scored']}{'' if r[n]['solved'] else ' ✗'}"
                 for n, _ in RUNS]
        table.add_row(r["demo"], *cells, f"{r['overshoot']:+.2f}", "yes" if r["same"] else "NO")
    console = Console(width=None if sys.stdout.isatty() else 150)
    console.print(table)
    console.print(f"overshoot within the load time: {out['within_load']}/{len(out['rows'])}")
    console.print(f"the same turns in two processes and in one: {out['same']}/{len(out['rows'])}")
    console.print("median seconds: " + ", ".join(f"{n} {s:.3f}"
                                                 for n, s in out["median_seconds"].items()))
    console.print(f"calibration (model_call_cost {out['model_call_cost']}): {out['calibration']}")


if __name__ == "__main__":
    sys.exit(main())
