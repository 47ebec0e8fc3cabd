"""Synthesis on the unseen-domain demos of ``benchmarks/unseen/`` (not a test).

    python benchmarks/unseen.py [--no-model] [--timeout S] [--json] [NAME ...]

Every demo ``NAME.json`` sits beside its reference program ``NAME.rules``. Before any search,
each reference is run with no background on every example and scored query of its demo, and
the script stops (exit 2) if one of them disagrees. After one short untimed run (so that
loading the kernels and the model is charged to no demo), each demo goes through
``metarlm.synthesize`` and the table gives, per demo: solved (a program consistent with every
example was found), queries right out of those scored, candidates checked, Z3 calls, wall
seconds of the call and why the search ended ("n/a" where the result does not say). The
summary counts the demos solved with every query right within 60 s and within 20 s.

Only the top-level ``metarlm`` names are used, so the script does not depend on the
package's internal layout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from metarlm import Ok, Program, evaluate, load_demo, parse_program, synthesize

SUITE = Path(__file__).resolve().parent / "unseen"
NOT_DEMOS = {"baseline.json"}
LIMITS = (60.0, 20.0)  # the summary's time limits, seconds
WARM_UP = 2.0  # seconds of the untimed run before the first demo


class ReferenceError(Exception):
    """A demo whose reference program does not reproduce it."""


def demo_paths(names: list[str]) -> list[Path]:
    """The suite's demo files, all of them or those named (ReferenceError if one is missing)."""
    found = {p.stem: p for p in sorted(SUITE.glob("*.json")) if p.name not in NOT_DEMOS}
    if not names:
        return list(found.values())
    missing = [n for n in names if n not in found]
    if missing:
        raise ReferenceError(f"no such demo in {SUITE.name}/: {', '.join(missing)} "
                             f"(known: {', '.join(found)})")
    return [found[n] for n in names]


def _expected(value: Any) -> int | tuple[str, ...]:
    """A demo file's output field as the interpreter gives it: an int or a token tuple."""
    return value if isinstance(value, int) else tuple(str(value).split())


def _shown(value: Any) -> str:
    """An output as a demo file writes it."""
    return str(value) if isinstance(value, int) else " ".join(value)


def check_reference(path: Path) -> dict[str, Any]:
    """The demo's facts once its reference reproduces every pair (ReferenceError otherwise)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    domain = data["domain"]
    if domain.endswith(".lark"):
        domain = str(path.parent / domain)
    rules = path.with_suffix(".rules")
    if not rules.is_file():
        raise ReferenceError(f"{path.name}: reference program {rules.name} is missing")
    program: Program = parse_program(rules.read_text(encoding="utf-8"), domain,
                                     source=rules.name)
    pairs = [("examples", e) for e in data["examples"]]
    pairs += [("queries", q) for q in data.get("queries", [])
              if isinstance(q, dict) and "output" in q]
    for field, pair in pairs:
        got = evaluate(program, tuple(pair["input"].split()))
        want = _expected(pair["output"])
        value = got.value if isinstance(got, Ok) else None
        if isinstance(value, tuple):
            value = tuple(value)
        if value != want:
            shown = _shown(value) if isinstance(got, Ok) else f"no value ({got})"
            raise ReferenceError(f"{path.name}: {field} {pair['input']!r}: the demo says "
                                 f"{_shown(want)!r}, {rules.name} gives {shown!r}")
    integer = isinstance(data["examples"][0]["output"], int)
    return {"demo": path.stem, "algebra": "int" if integer else "seq",
            "domain": data["domain"], "examples": len(data["examples"]),
            "queries": sum(field == "queries" for field, _ in pairs),
            "background": "background" in data}


def run_demo(path: Path, facts: dict[str, Any], use_model: bool, timeout: float) -> dict[str, Any]:
    """One synthesis run on the demo: solved, queries right, candidates, Z3 calls, seconds."""
    demo = load_demo(str(path))
    start = time.monotonic()
    try:
        result = synthesize(demo, use_model=use_model, timeout=timeout)
    except Exception as err:  # a crash is a result of this benchmark, not the end of it
        return {**facts, "solved": False, "queries_right": 0, "candidates": None,
                "z3_calls": None, "seconds": round(time.monotonic() - start, 2),
                "stopped": f"error: {type(err).__name__}: {err}", "learned": None}
    seconds = time.monotonic() - start
    right = sum(q.correct is True for q in result.queries)
    learned = getattr(result, "learned", None)
    stopped = getattr(result, "stopped", None)
    return {**facts, "solved": bool(result.consistent), "queries_right": right,
            "candidates": result.candidates, "z3_calls": getattr(result, "z3_calls", None),
            "seconds": round(seconds, 2), "stopped": None if stopped is None else str(stopped),
            "learned": None if learned is None else str(learned)}


def warm_up(path: Path, use_model: bool) -> None:
    """One short untimed run, so that loading kernels (and the model) is paid by no demo."""
    synthesize(load_demo(str(path)), use_model=use_model, timeout=WARM_UP)


def all_right_within(rows: list[dict[str, Any]], limit: float) -> int:
    """How many demos were solved with every scored query right within ``limit`` seconds."""
    return sum(r["solved"] and r["queries_right"] == r["queries"] and r["seconds"] <= limit
               for r in rows)


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The summary line's counts."""
    return {"demos": len(rows), "solved": sum(r["solved"] for r in rows),
            **{f"all_queries_right_within_{int(s)}s": all_right_within(rows, s) for s in LIMITS}}


def _na(value: Any) -> str:
    return "n/a" if value is None else str(value)


def print_table(rows: list[dict[str, Any]], settings: dict[str, Any]) -> None:
    """The per-demo table and the summary line, with rich."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"unseen domains (model: {'on' if settings['model'] else 'off'}, "
                        f"timeout {settings['timeout']:g} s)")
    for name, justify in (("demo", "left"), ("algebra", "left"), ("ex", "right"),
                          ("solved", "center"), ("queries", "right"), ("candidates", "right"),
                          ("Z3 calls", "right"), ("seconds", "right"), ("stopped", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in rows:
        table.add_row(r["demo"], r["algebra"], str(r["examples"]),
                      "[green]yes[/]" if r["solved"] else "[red]no[/]",
                      f"{r['queries_right']}/{r['queries']}", _na(r["candidates"]),
                      _na(r["z3_calls"]), f"{r['seconds']:.1f}", _na(r["stopped"]))
    console = Console(width=None if sys.stdout.isatty() else 150)
    console.print(table)
    s = summary(rows)
    console.print(f"{s['solved']}/{s['demos']} solved; all queries right: "
                  f"{s['all_queries_right_within_60s']}/{s['demos']} within 60 s, "
                  f"{s['all_queries_right_within_20s']}/{s['demos']} within 20 s")


def main(argv: list[str] | None = None) -> int:
    """Check every reference, run the search on each demo, print the table or JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help="demos to run (default: all)")
    parser.add_argument("--no-model", action="store_true", help="enumeration only")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per demo")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    try:
        paths = demo_paths(args.names)
        facts = [check_reference(p) for p in paths]
    except ReferenceError as err:
        print(f"unseen: {err}", file=sys.stderr)
        return 2
    settings = {"model": not args.no_model, "timeout": args.timeout}
    warm_up(paths[0], not args.no_model)
    rows = []
    for path, fact in zip(paths, facts):
        row = run_demo(path, fact, not args.no_model, args.timeout)
        rows.append(row)
        print(f"{row['demo']}: {'solved' if row['solved'] else 'not solved'}, "
              f"{row['queries_right']}/{row['queries']} queries, {row['seconds']:.1f} s",
              file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps({**settings, "demos": rows, "summary": summary(rows)}, indent=1))
    else:
        print_table(rows, settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
