"""The programs and the timed roads of ``benchmarks/interp.py``.

Programs come from a MiniSCAN-like prior (3-4 primitive rules word -> COLOUR, 2-4
higher-order rules over u/x variables and 1-3 function words). Each road function takes its
inputs prepared beforehand and returns what it computed, so the caller times only the road.
"""

from __future__ import annotations

import importlib.util
import random
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import numpy as np

from metarlm.exec.check import check_batch, check_token_batch
from metarlm.exec.compile import Lowered, kernels
from metarlm.exec.incremental import DemoChecker, Outcome, outcome
from metarlm.exec.pack import PackedExamples
from metarlm.lang.demo import Example
from metarlm.lang.domain import parse_program
from metarlm.lang.dsl import Call, Program, Rule, Token, Var, Word, print_rule
from metarlm.lang.interp import DEFAULT_FUEL, MAX_OUTPUT, Ok, evaluate
from metarlm.neural.tokens import PAD, encode_program

ROOT = Path(__file__).resolve().parent.parent
PRIMITIVES = ("dax", "lug", "wif", "zup")
FUNCTION_WORDS = ("fep", "blicket", "kiki")
COLOURS = ("RED", "BLUE", "GREEN", "YELLOW")
TEMPLATES = (("u1", "F"), ("x1", "F"), ("u1", "F", "u2"), ("x1", "F", "x2"), ("F", "u1"),
             ("F", "x1"), ("u1", "F", "x2"), ("x1", "F", "u2"))
EMPTY = Program((), "seq")


def _item(name: str, fn: str) -> Word | Var:
    return Word(fn) if name == "F" else Var(name[0], int(name[1:]))  # type: ignore[arg-type]


def higher_order_rule(rng: random.Random, fns: Sequence[str]) -> Rule:
    """One rule over u/x variables and function words, its right side 1-5 calls or tokens."""
    lhs = tuple(_item(name, rng.choice(fns)) for name in rng.choice(TEMPLATES))
    variables = [it for it in lhs if isinstance(it, Var)]
    rhs = []
    for _ in range(rng.randint(1, 5)):
        use_token = rng.random() < 0.1
        rhs.append(Token(rng.choice(COLOURS)) if use_token else Call(rng.choice(variables)))
    return Rule(lhs, tuple(rhs))


def random_program(rng: random.Random) -> Program:
    """One program from the MiniSCAN-like prior."""
    words = rng.sample(PRIMITIVES, rng.randint(3, 4))
    rules = [Rule((Word(w),), (Token(rng.choice(COLOURS)),)) for w in words]
    fns = rng.sample(FUNCTION_WORDS, rng.randint(1, 3))
    rules += [higher_order_rule(rng, fns) for _ in range(rng.randint(2, 4))]
    return Program(tuple(rules), "seq")


def distinct_programs(n: int, seed: int) -> list[Program]:
    """n distinct programs (the true MiniSCAN grammar first)."""
    truth = ROOT / "examples" / "miniscan" / "miniscan.rules"
    programs = [parse_program(truth.read_text(), "miniscan")]
    seen = {str(programs[0])}
    rng = random.Random(seed)
    while len(programs) < n:
        program = random_program(rng)
        if str(program) not in seen:
            seen.add(str(program))
            programs.append(program)
    return programs


def shared_rules(programs: Sequence[Program]) -> list[tuple[Rule, ...]]:
    """The programs' rule lists with one object per distinct rule, as a search holds them."""
    canon: dict[Rule, Rule] = {}
    return [tuple(canon.setdefault(r, r) for r in p.rules) for p in programs]


def families(programs: Sequence[Program], n_parents: int, n_children: int,
             seed: int) -> list[tuple[tuple[Rule, ...], list[tuple[int, Rule]]]]:
    """Parents (a program without its last rule) and children for each: a rule of the prior
    inserted at a random place. One object per distinct rule."""
    rng = random.Random(seed)
    lists = shared_rules(programs)
    pool = sorted({r for rules in lists for r in rules[4:]}, key=str)
    out = []
    for rules in lists[1: n_parents + 1]:
        parent = rules[:-1]
        kids = [(rng.randint(0, len(parent)), rng.choice(pool)) for _ in range(n_children)]
        out.append((parent, kids))
    return out


def encode_all(programs: Sequence[Program], words: list[str], tokens: list[str]) -> np.ndarray:
    """Programs as a PAD-padded (n, longest) array of decoder ids."""
    wslot, tslot = {w: i for i, w in enumerate(words)}, {t: i for i, t in enumerate(tokens)}
    rows = [encode_program(p, wslot, tslot) for p in programs]
    ids = np.full((len(rows), max(map(len, rows))), PAD, dtype=np.int64)
    for k, row in enumerate(rows):
        ids[k, : len(row)] = row
    return ids


def _same(result: object, expected: object) -> bool:
    return isinstance(result, Ok) and result.value == expected


# --- the roads: each returns what it computed -----------------------------------------------

def road_rows(lowered: Lowered, packed: PackedExamples) -> np.ndarray:
    """Kernel check_chunk alone on rows lowered and examples packed beforehand."""
    verdict = np.zeros(len(lowered.status), dtype=np.bool_)
    kernels()[1].check_chunk(lowered.code, lowered.status, packed.words, packed.lens,
                             packed.syms, packed.out_lens, packed.ints, DEFAULT_FUEL, MAX_OUTPUT,
                             False, verdict, 0, len(verdict))
    return verdict


def road_ids(ids: np.ndarray, words: list[str], tokens: list[str],
             examples: tuple[Example, ...], batch: int) -> np.ndarray:
    """check_token_batch over the rows, ``batch`` rows per call."""
    return np.concatenate([check_token_batch(ids[a: a + batch], words, tokens, examples, "seq")
                           for a in range(0, len(ids), batch)])


def road_batch(programs: Sequence[Program], examples: tuple[Example, ...],
               batch: int) -> list[bool]:
    """check_batch on Program objects, lowering every program."""
    return [v for a in range(0, len(programs), batch)
            for v in check_batch(programs[a: a + batch], examples)]


def road_search(lists: Sequence[tuple[Rule, ...]], examples: tuple[Example, ...],
                batch: int, checker: DemoChecker | None = None) -> list[Outcome]:
    """DemoChecker.check, batch lists a call; from a fresh checker (every rule lowered
    within) unless one is given."""
    checker = checker or DemoChecker(examples, EMPTY)
    return [o for a in range(0, len(lists), batch) for o in checker.check(lists[a: a + batch])]


def interned(lists: Sequence[tuple[Rule, ...]], examples: tuple[Example, ...]) -> DemoChecker:
    """A fresh checker with these rules lowered (nothing checked yet)."""
    checker = DemoChecker(examples, EMPTY)
    checker.intern([rule for rules in lists for rule in rules])
    return checker


def prepare_extend(fams: list, examples: tuple[Example, ...],
                   intern: bool = False) -> tuple[DemoChecker, list]:
    """A fresh checker that has checked the parents (as the search has when it extends),
    and lowered the children's rules if asked."""
    checker = DemoChecker(examples, EMPTY)
    known = checker.check([parent for parent, _ in fams])
    if intern:
        checker.intern([rule for _, kids in fams for _, rule in kids])
    return checker, [(parent, k, kids) for (parent, kids), k in zip(fams, known)]


def road_extend(checker: DemoChecker, work: list) -> list[Outcome]:
    """DemoChecker.extend: all children of each parent in one call."""
    return [o for parent, known, kids in work for o in checker.extend(parent, known, kids)]


def road_reference(programs: Sequence[Program], examples: tuple[Example, ...]) -> list[bool]:
    """interp.evaluate on Program objects, stopping at a program's first wrong item."""
    return [all(_same(evaluate(p, e.input), e.output) for e in examples) for p in programs]


def road_reference_all(programs: Sequence[Program],
                       examples: tuple[Example, ...]) -> list[Outcome]:
    """interp.evaluate on every item: the values an Outcome holds."""
    out = []
    for p in programs:
        results = [evaluate(p, e.input) for e in examples]
        out.append(outcome([r.value if isinstance(r, Ok) else None for r in results], examples))
    return out


def road_text(texts: Sequence[str], examples: tuple[Example, ...], batch: int) -> list[Outcome]:
    """parse_program on each text, then DemoChecker.check."""
    checker = DemoChecker(examples, EMPTY)
    out = []
    for a in range(0, len(texts), batch):
        out += checker.check([parse_program(t, "miniscan").rules for t in texts[a: a + batch]])
    return out


def load_nye(path: str) -> ModuleType:
    """Nye et al.'s interpret_grammar.py, imported from its path."""
    spec = importlib.util.spec_from_file_location("interpret_grammar", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def nye_rules(program: Program) -> list[tuple[str, str]]:
    """(left, right) texts of each rule, as Nye et al.'s Rule takes them."""
    return [tuple(s.strip() for s in print_rule(r).split("->")) for r in program.rules]


def nye_grammar(nye: ModuleType, rules: list[tuple[str, str]]) -> object:
    """A Nye et al. Grammar of these rules over the MiniSCAN primitives."""
    return nye.Grammar([nye.Rule(lhs, rhs) for lhs, rhs in rules], list(PRIMITIVES))


def road_nye(grammars: Sequence[object], examples: tuple[Example, ...]) -> list[bool]:
    """Nye et al.'s interpreter on grammars built beforehand, to the first wrong item."""
    pairs = [(" ".join(e.input), " ".join(e.output)) for e in examples]  # type: ignore[arg-type]
    return [all(g.apply(i) == o for i, o in pairs) for g in grammars]  # type: ignore[attr-defined]


def road_nye_text(nye: ModuleType, rules: Sequence[list[tuple[str, str]]],
                  examples: tuple[Example, ...]) -> list[bool]:
    """Nye et al.'s interpreter, building each grammar from its rule texts."""
    return road_nye([nye_grammar(nye, r) for r in rules], examples)
