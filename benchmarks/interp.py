"""Candidate checks per second along every road to the kernels, in one run, with ratios.

Random programs from a MiniSCAN-like prior (``roads.py``) are checked against the 14 MiniSCAN
study items along each road (a check is one program on the items):

    rows           kernel check_chunk alone, programs lowered and examples packed beforehand
    ids            check_token_batch from decoder ids, --batch rows a call
    batch          check_batch on Program objects (lowers every program)
    search         DemoChecker.check on Program objects from a fresh checker, so every distinct
                   rule is lowered within the timing; one object per distinct rule, as the
                   search holds them
    search-fresh   the same, every rule of every program its own object (interned by value)
    search-interned  the same programs, their rules lowered beforehand (DemoChecker.intern),
                   values all computed within: the steady state of a search meeting rules
                   again
    extend         DemoChecker.extend: --parents parents, --children children each (a rule of
                   the prior inserted at a random place), parents checked beforehand; the
                   children's rules lowered within
    extend-interned  the same, the children's rules lowered beforehand
    reference      interp.evaluate on Program objects
    reference-all  interp.evaluate on every item (the values an Outcome holds)
    text           parse_program + DemoChecker.check
    nye, nye-text  Nye et al.'s interpreter (--nye PATH/interpret_grammar.py, not shipped):
                   grammars built beforehand, and built from rule text

rows, ids, batch, reference and nye stop at a program's first wrong item; search, extend and
text give every item's value. The slow roads (reference, text, nye) run on the first
--slow-programs programs. Every road runs --repeats times, interleaved; the report gives
medians of checks/s and of the per-repeat ratios to ``rows`` and to ``nye``. Kernel verdicts
and outcomes are compared with the reference (exit status 1 on any difference). Also SCAN:
the 14-rule program on all 20,910 commands by ``run_many`` (packing and Result objects
included) and by the bare kernel ``run_chunk`` on packed inputs, commands/s.

    python benchmarks/interp.py [--programs 10000] [--repeats 5] [--nye PATH] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np
import roads as r

from metarlm.data import load_miniscan, load_scan
from metarlm.exec.check import run_many
from metarlm.exec.compile import SymbolTable, kernels, lower_programs
from metarlm.exec.pack import pack_examples, pack_words
from metarlm.lang.demo import parse_demo
from metarlm.lang.domain import parse_program
from metarlm.lang.dsl import Program
from metarlm.lang.interp import DEFAULT_FUEL, MAX_OUTPUT

SCAN_RULES = Path(__file__).resolve().parent.parent / "examples" / "scan" / "scan.rules"
VERIFIED_CHILDREN = 2000  # children whose outcomes are compared with the reference
WALL = False  # time by the wall clock instead of CPU time (--wall)


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    """(result, seconds) of one call: CPU seconds of this process, or wall seconds with
    --wall. Every road runs on one thread, so CPU time leaves out the time other work on a
    shared machine takes from it (wall time does not)."""
    clock = time.perf_counter if WALL else time.process_time
    start = clock()
    result = fn()
    return result, clock() - start


def miniscan_roads(args: argparse.Namespace) -> tuple[dict[str, tuple[int, Callable]], dict]:
    """Each road as (checks, a call that runs it), and the inputs used to verify them."""
    examples = parse_demo(load_miniscan()).examples
    programs = r.distinct_programs(args.programs, args.seed)
    slow = programs[: args.slow_programs]
    words, tokens = list(r.PRIMITIVES + r.FUNCTION_WORDS), list(r.COLOURS)
    symbols = SymbolTable()
    packed = pack_examples(examples, "seq", symbols)
    lowered = lower_programs(programs, symbols)
    ids = r.encode_all(programs, words, tokens)
    shared, fresh = r.shared_rules(programs), [p.rules for p in programs]
    texts = [str(p) for p in slow]
    fams = r.families(programs, args.parents, args.children, args.seed)
    n_kids = sum(len(kids) for _, kids in fams)
    b = args.batch
    roads: dict[str, tuple[int, Callable]] = {
        "rows": (len(programs), lambda: r.road_rows(lowered, packed)),
        "ids": (len(programs), lambda: r.road_ids(ids, words, tokens, examples, b)),
        "batch": (len(programs), lambda: r.road_batch(programs, examples, b)),
        "search": (len(programs), lambda: r.road_search(shared, examples, b)),
        "search-fresh": (len(programs), lambda: r.road_search(fresh, examples, b)),
        "search-interned": (len(programs), lambda: r.road_search(shared, examples, b,
                                                                  r.interned(shared, examples))),
        "extend": (n_kids, lambda: r.road_extend(*r.prepare_extend(fams, examples))),
        "extend-interned": (n_kids, lambda: r.road_extend(*r.prepare_extend(fams, examples,
                                                                            True))),
        "reference": (len(slow), lambda: r.road_reference(slow, examples)),
        "reference-all": (len(slow), lambda: r.road_reference_all(slow, examples)),
        "text": (len(slow), lambda: r.road_text(texts, examples, b)),
    }
    if args.nye:
        nye = r.load_nye(args.nye)
        rule_texts = [r.nye_rules(p) for p in slow]
        grammars = [r.nye_grammar(nye, t) for t in rule_texts]
        roads["nye"] = (len(slow), lambda: r.road_nye(grammars, examples))
        roads["nye-text"] = (len(slow), lambda: r.road_nye_text(nye, rule_texts, examples))
    return roads, {"examples": examples, "programs": programs, "slow": slow, "fams": fams,
                   "shared": shared, "batch": b}


def timed_road(name: str, call: Callable[[], object], inputs: dict) -> tuple[object, float]:
    """A road's result and seconds, what it does beforehand left out of the timing."""
    examples, fams = inputs["examples"], inputs["fams"]
    if name.startswith("extend"):
        checker, work = r.prepare_extend(fams, examples, name == "extend-interned")
        return timed(lambda: r.road_extend(checker, work))
    if name == "search-interned":
        checker = r.interned(inputs["shared"], examples)
        return timed(lambda: r.road_search(inputs["shared"], examples, inputs["batch"], checker))
    return timed(call)


def verify(results: dict[str, object], inputs: dict) -> dict[str, int]:
    """Differences of each road from the reference interpreter."""
    examples, slow, fams = inputs["examples"], inputs["slow"], inputs["fams"]
    truth = r.road_reference_all(slow, examples)
    verdicts = [o.complete for o in truth]
    n = len(slow)
    out = {}
    for name in ("rows", "ids", "batch", "reference"):  # not Nye's: its semantics differ
        out[name] = sum(bool(a) != b for a, b in zip(list(results[name])[:n], verdicts))
    for name in ("search", "search-fresh", "search-interned", "text"):
        out[name] = sum(a != b for a, b in zip(list(results[name])[:n], truth))
    kids = [Program(p[:k] + (rule,) + p[k:], "seq") for p, ks in fams for k, rule in ks]
    sample = kids[:VERIFIED_CHILDREN]
    truth = r.road_reference_all(sample, examples)
    for name in ("extend", "extend-interned"):
        out[name] = sum(a != b for a, b in zip(results[name], truth))
    return out


def scan_rates(repeats: int) -> dict[str, float]:
    """Median SCAN commands/s of run_many and of the bare kernel, and run_many's slowdown."""
    program = parse_program(SCAN_RULES.read_text(), "scan")
    pairs = load_scan("tasks")
    inputs = [tuple(c.split()) for c, _ in pairs]
    symbols = SymbolTable()
    code = lower_programs([program], symbols).code
    words, lens = pack_words(inputs, symbols)
    n = len(inputs)
    out = (np.zeros((n, 64), dtype=np.int64), np.zeros(n, dtype=np.int64),
           np.zeros(n, dtype=np.int64))
    run_chunk = kernels()[1].run_chunk
    run_many(program, inputs[:512])
    many, bare, ratios = [], [], []
    for _ in range(3 * repeats):  # cheap: more repeats against the noise
        results, t_many = timed(lambda: run_many(program, inputs))
        _, t_bare = timed(lambda: run_chunk(code, words, lens, DEFAULT_FUEL, MAX_OUTPUT, False,
                                            *out, 0, n))
        many.append(n / t_many)
        bare.append(n / t_bare)
        ratios.append(t_many / t_bare)
    wrong = sum(not x.ok or " ".join(x.value) != a for x, (_, a) in zip(results, pairs))
    return {"scan_commands": n, "scan_run_many_per_s": statistics.median(many),
            "scan_kernel_per_s": statistics.median(bare),
            "scan_run_many_over_kernel": statistics.median(ratios), "scan_wrong": wrong}


def run(args: argparse.Namespace) -> dict:
    """Time every road --repeats times; the report's numbers."""
    roads, inputs = miniscan_roads(args)
    for name, (_, call) in roads.items():  # warm up (compile, caches of the kernels' code)
        if name not in ("reference", "reference-all", "text", "nye", "nye-text"):
            call()
    seconds: dict[str, list[float]] = {name: [] for name in roads}
    results: dict[str, object] = {}
    for _ in range(args.repeats):
        for name, (_, call) in roads.items():
            results[name], s = timed_road(name, call, inputs)
            seconds[name].append(s)
    report: dict = {"clock": "wall" if WALL else "cpu", "programs": args.programs,
                    "slow_programs": len(inputs["slow"]), "examples": len(inputs["examples"]),
                    "repeats": args.repeats,
                    "batch": args.batch, "threads": numba.get_num_threads(), "roads": {}}
    for name, (checks, _) in roads.items():
        rates = [checks / s for s in seconds[name]]
        row = {"checks": checks, "checks_per_s": statistics.median(rates), "all": rates}
        for base in ("rows", "nye"):
            if base in seconds:
                row[f"over_{base}"] = statistics.median(
                    (checks / s) / (roads[base][0] / t) for s, t in zip(seconds[name],
                                                                        seconds[base]))
        report["roads"][name] = row
    report["differences"] = verify(results, inputs)
    report.update(scan_rates(args.repeats))
    return report


def show(report: dict) -> None:
    """The report as a table."""
    print(f"{report['programs']:,} programs ({report['slow_programs']:,} on the slow roads), "
          f"{report['examples']} items, median of {report['repeats']} repeats, "
          f"{report['clock']} time")
    print(f"{'road':>14} {'checks':>8} {'checks/s':>12} {'/ rows':>8} {'/ nye':>8} {'diff':>5}")
    for name, row in report["roads"].items():
        nye = f"{row['over_nye']:8.2f}" if "over_nye" in row else f"{'':>8}"
        diff = report["differences"].get(name, "")
        print(f"{name:>14} {row['checks']:>8,} {row['checks_per_s']:>12,.0f} "
              f"{row['over_rows']:>8.3f} {nye} {diff!s:>5}")
    print(f"SCAN, {report['scan_commands']:,} commands: run_many "
          f"{report['scan_run_many_per_s']:,.0f}/s, bare kernel {report['scan_kernel_per_s']:,.0f}"
          f"/s, run_many takes {report['scan_run_many_over_kernel']:.2f}x the kernel's time "
          f"({report['scan_wrong']} wrong)")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit status 1 if any road disagrees with the reference."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--programs", type=int, default=10_000)
    ap.add_argument("--slow-programs", type=int, default=2_000)
    ap.add_argument("--parents", type=int, default=100)
    ap.add_argument("--children", type=int, default=100)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="Numba threads (0: all cores)")
    ap.add_argument("--nye", help="path of Nye et al.'s interpret_grammar.py, as a peer")
    ap.add_argument("--wall", action="store_true", help="wall-clock seconds, not CPU seconds")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    global WALL
    WALL = args.wall
    if args.threads:
        numba.set_num_threads(args.threads)
    report = run(args)
    if args.json:
        print(json.dumps(report))
    else:
        show(report)
    return 1 if any(report["differences"].values()) or report["scan_wrong"] else 0


if __name__ == "__main__":
    sys.exit(main())
