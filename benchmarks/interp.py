"""Candidate checks per second: the Numba kernels against the reference interpreter.

Random programs from a MiniSCAN-like prior (3-4 primitive rules word -> COLOUR, 2-4
higher-order rules over u/x variables and 1-3 function words) are written as decoder id
sequences and checked against the 14 MiniSCAN study examples, from ids to verdicts: by
``check.check_token_batch`` (after a warm-up call, so compilation is not timed) and by
``tokens.decode_program`` + ``interp.evaluate`` (stopping at the first failing example).
The two must agree on every program. Also times the 14-rule SCAN program on all 20,910
SCAN commands: ``check.run_many`` (packing and result objects included), the kernel call
alone, and the reference.

    python benchmarks/interp.py [--programs 10000] [--batch 1024] [--threads 0] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numba
import numpy as np

from metarlm.data import load_miniscan, load_scan
from metarlm.exec.check import check_token_batch, pack_words, run_many
from metarlm.exec.compile import SymbolTable, kernels, lower_programs
from metarlm.lang.demo import Example, parse_demo
from metarlm.lang.domain import parse_program
from metarlm.lang.dsl import Call, Program, Rule, Token, Var, Word
from metarlm.lang.interp import DEFAULT_FUEL, MAX_OUTPUT, evaluate
from metarlm.neural.tokens import PAD, decode_program, encode_program

PRIMITIVES = ("dax", "lug", "wif", "zup")
FUNCTION_WORDS = ("fep", "blicket", "kiki")
COLOURS = ("RED", "BLUE", "GREEN", "YELLOW")
TEMPLATES = (("u1", "F"), ("x1", "F"), ("u1", "F", "u2"), ("x1", "F", "x2"), ("F", "u1"),
             ("F", "x1"), ("u1", "F", "x2"), ("x1", "F", "u2"))
SCAN_RULES = Path(__file__).resolve().parent.parent / "examples" / "scan" / "scan.rules"


def _item(name: str, fn: str) -> Word | Var:
    return Word(fn) if name == "F" else Var(name[0], int(name[1:]))  # type: ignore[arg-type]


def random_program(rng: random.Random) -> Program:
    """One program from the MiniSCAN-like prior."""
    words = rng.sample(PRIMITIVES, rng.randint(3, 4))
    rules = [Rule((Word(w),), (Token(rng.choice(COLOURS)),)) for w in words]
    fns = rng.sample(FUNCTION_WORDS, rng.randint(1, 3))
    for _ in range(rng.randint(2, 4)):
        lhs = tuple(_item(name, rng.choice(fns)) for name in rng.choice(TEMPLATES))
        variables = [it for it in lhs if isinstance(it, Var)]
        rhs = []
        for _ in range(rng.randint(1, 5)):
            use_token = rng.random() < 0.1
            rhs.append(Token(rng.choice(COLOURS)) if use_token else Call(rng.choice(variables)))
        rules.append(Rule(lhs, tuple(rhs)))
    return Program(tuple(rules), "seq")


def distinct_programs(n: int, seed: int) -> list[Program]:
    """n distinct programs (the true MiniSCAN grammar first)."""
    truth = Path(__file__).resolve().parent.parent / "examples" / "miniscan" / "miniscan.rules"
    programs = [parse_program(truth.read_text(), "miniscan")]
    seen = {str(programs[0])}
    rng = random.Random(seed)
    while len(programs) < n:
        program = random_program(rng)
        if str(program) not in seen:
            seen.add(str(program))
            programs.append(program)
    return programs


def encode_all(programs: list[Program], words: list[str], tokens: list[str]) -> np.ndarray:
    """Programs as a PAD-padded (n, longest) array of decoder ids."""
    wslot, tslot = {w: i for i, w in enumerate(words)}, {t: i for i, t in enumerate(tokens)}
    rows = [encode_program(p, wslot, tslot) for p in programs]
    ids = np.full((len(rows), max(map(len, rows))), PAD, dtype=np.int64)
    for k, row in enumerate(rows):
        ids[k, : len(row)] = row
    return ids


def reference_verdicts(ids: np.ndarray, words: list[str], tokens: list[str],
                       examples: tuple[Example, ...]) -> np.ndarray:
    """Decode each row and run the reference, stopping at the first failing example."""
    out = np.zeros(len(ids), dtype=np.bool_)
    for k, row in enumerate(ids):
        program = decode_program(row, words, tokens, "seq")
        out[k] = all(_same(evaluate(program, e.input), e.output) for e in examples)
    return out


def _same(result: object, expected: object) -> bool:
    return bool(getattr(result, "ok", False)) and result.value == expected  # type: ignore[attr-defined]


def kernel_verdicts(ids: np.ndarray, words: list[str], tokens: list[str],
                    examples: tuple[Example, ...], batch: int) -> np.ndarray:
    """check_token_batch over the rows, ``batch`` rows per call."""
    parts = [check_token_batch(ids[a: a + batch], words, tokens, examples, "seq")
             for a in range(0, len(ids), batch)]
    return np.concatenate(parts)


def timed(fn, *args):  # type: ignore[no-untyped-def]
    """(result, wall seconds, CPU seconds of this process) of one call.

    CPU time is reported beside wall time because a shared machine's other work inflates
    wall time; with several threads it adds up every thread's time.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def scan_kernel(program: Program, inputs: list[tuple[str, ...]]) -> float:
    """Wall seconds of the kernel call alone (one thread) on packed SCAN commands."""
    symbols = SymbolTable()
    code = lower_programs([program], symbols).code
    words, lens = pack_words(inputs, symbols)
    n = len(inputs)
    out = (np.zeros((n, 64), dtype=np.int64), np.zeros(n, dtype=np.int64),
           np.zeros(n, dtype=np.int64))
    run_chunk = kernels()[1].run_chunk
    run_chunk(code, words, lens, DEFAULT_FUEL, MAX_OUTPUT, False, *out, 0, 64)
    _, seconds, _ = timed(run_chunk, code, words, lens, DEFAULT_FUEL, MAX_OUTPUT, False, *out,
                          0, n)
    return seconds


def scan_time() -> dict[str, float]:
    """Seconds for the SCAN program on all SCAN commands (kernel run_many, after warm-up)."""
    program = parse_program(SCAN_RULES.read_text(), "scan")
    pairs = load_scan("tasks")
    inputs = [tuple(c.split()) for c, _ in pairs]
    run_many(program, inputs[:512])
    results, seconds, cpu = timed(run_many, program, inputs)
    wrong = sum(not r.ok or " ".join(r.value) != a for r, (_, a) in zip(results, pairs))
    _, ref_s, _ = timed(lambda: [evaluate(program, w) for w in inputs])
    return {"scan_commands": len(inputs), "scan_run_many_s": seconds, "scan_run_many_cpu_s": cpu,
            "scan_kernel_only_s": scan_kernel(program, inputs), "scan_reference_s": ref_s,
            "scan_wrong": wrong}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit status 1 if kernel and reference verdicts differ."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--programs", type=int, default=10_000)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="Numba threads (0: all cores)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.threads:
        numba.set_num_threads(args.threads)
    demo = parse_demo(load_miniscan())
    examples = demo.examples
    words, tokens = list(PRIMITIVES + FUNCTION_WORDS), list(COLOURS)
    ids = encode_all(distinct_programs(args.programs, args.seed), words, tokens)
    kernel_verdicts(ids[: min(len(ids), 2 * args.batch)], words, tokens, examples, args.batch)
    kernel, k_s, k_cpu = timed(kernel_verdicts, ids, words, tokens, examples, args.batch)
    reference, r_s, r_cpu = timed(reference_verdicts, ids, words, tokens, examples)
    report = {"n_programs": len(ids), "n_examples": len(examples), "batch": args.batch,
              "threads": numba.get_num_threads(), "kernel_s": k_s, "reference_s": r_s,
              "kernel_checks_per_s": len(ids) / k_s, "reference_checks_per_s": len(ids) / r_s,
              "ratio": r_s / k_s, "kernel_checks_per_cpu_s": len(ids) / k_cpu,
              "reference_checks_per_cpu_s": len(ids) / r_cpu, "cpu_ratio": r_cpu / k_cpu,
              "consistent": int(kernel.sum()),
              "disagreements": int((kernel != reference).sum()), **scan_time()}
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            seconds = key.endswith("_s") and not key.endswith("per_s")
            shown = (f"{value:.4f}" if seconds else f"{value:,.1f}"
                     if isinstance(value, float) else str(value))
            print(f"{key:>26}: {shown}")
    return 1 if report["disagreements"] or report["scan_wrong"] else 0


if __name__ == "__main__":
    sys.exit(main())
