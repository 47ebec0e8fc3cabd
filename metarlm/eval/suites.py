"""Benchmark suites: each turns a seed into tasks (a demo object plus labels for its queries).

A ``Task`` holds a demo-file object (``metarlm.lang.demo.parse_demo`` reads it), which queries
count as out of distribution and by what rule, and how many demonstrations it keeps. SCAN tasks
end their queries with held-out train commands: in-distribution controls for the gap, left out
of the accuracy, so that the accuracy is over the test split alone. Every draw comes from a
``random.Random`` seeded by the suite, the seed and the task's index, so the same seed always
yields the same tasks. Random grammars use seeds from ``EVAL_SEED_BASE`` up; training derives
its episode seeds by hashing (63-bit), so the two streams do not meet in practice.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from metarlm.eval.tasks import (  # noqa: F401 (re-exported for the suites' users)
    EVAL_SEED_BASE,
    LONGER_OUTPUT,
    MORE_WORDS,
    SHOTS,
    TEST_SPLIT,
    EvalError,
    Item,
    Pair,
    SuiteOptions,
    Task,
    _pairs,
    _text,
    longer_output,
    make_task,
    more_words,
    shot_counts,
    subsample,
    task_count,
    truncated,
)
from metarlm.lang.dsl import Program

SCAN_RULES = """\
walk -> I_WALK
run -> I_RUN
jump -> I_JUMP
look -> I_LOOK
turn ->
right -> I_TURN_RIGHT
left -> I_TURN_LEFT
u1 opposite u2 -> [u2] [u2] [u1]
u1 around u2 -> [u2] [u1] [u2] [u1] [u2] [u1] [u2] [u1]
x1 and x2 -> [x1] [x2]
x2 after x1 -> [x1] [x2]
x1 twice -> [x1] [x1]
x1 thrice -> [x1] [x1] [x1]
u1 u2 -> [u2] [u1]
"""  # the 14-rule grammar of Nye et al. (2020), as in examples/scan/scan.rules
ONESHOT_DEMO = "jump around left twice"

GLYPHS_NAME = "glyphs.lark"
GLYPHS_GRAMMAR = """\
// glyphs.lark: a domain no built-in model was trained on: invented words, glyph tokens.
// @max_rules: 16
%import .core (seq_program, WORD, TOKEN, UVAR, XVAR, YVAR, BLANK, COMMENT)
%ignore BLANK
%ignore COMMENT
start: seq_program

%override WORD: "zorb" | "quil" | "mip" | "tass" | "fen" | "dro" | "wug" | "blick"
              | "nup" | "sarn" | "kel" | "vosh"
%override TOKEN: "↑" | "↓" | "←" | "→" | "●" | "○" | "■" | "□"
"""



SCAN_SPLITS = {"scan-simple": "simple", "scan-length": "length",
               "scan-addjump": "addprim_jump", "scan-aroundright": "around_right"}


def miniscan_suite(seed: int, opts: SuiteOptions) -> list[Task]:
    """The 14 study items of the human experiment (shuffled by seed) and its 8 test items."""
    from metarlm.data import load_miniscan

    data = load_miniscan()
    examples = [(e["input"], e["output"]) for e in data["examples"]]
    random.Random(f"miniscan/{seed}").shuffle(examples)
    queries = [(q["input"], q["output"]) for q in data["queries"]]
    return [make_task("miniscan", f"miniscan/s{seed}", seed, "miniscan", examples, queries,
                      more_words(examples, queries))]


def _episode_task(suite: str, domain: str, seed: int, index: int) -> Task:
    """A held-out random-grammar episode: whole-program on even indices, one-shot on odd."""
    from metarlm.neural.sample import oneshot_episode, prior_for, sample_episode

    rng = random.Random(EVAL_SEED_BASE + 10_000 * seed + index)
    draw = oneshot_episode if index % 2 else sample_episode
    ep = draw(domain, prior_for(domain), rng)
    examples, queries = _pairs(ep.support), _pairs(ep.query)
    background = str(ep.background) if ep.background is not None else None
    return make_task(suite, f"{suite}/s{seed}/{index}-{ep.kind}", seed, domain, examples,
                     queries, more_words(examples, queries), background=background)


def random_suite(domain: str) -> Callable[[int, SuiteOptions], list[Task]]:
    """Held-out random programs of a built-in domain's prior (seeds no training stream uses)."""
    suite = f"{domain}-random"

    def build(seed: int, opts: SuiteOptions) -> list[Task]:
        """The suite's tasks for one seed."""
        return [_episode_task(suite, domain, seed, i) for i in range(task_count(opts, 20))]

    return build


RANDOM_DOMAINS = ("miniscan", "scan", "numbers", "code")


def glyphs_grammar(workdir: Path | None) -> Path:
    """Write the new domain's grammar file under ``workdir`` (as a user would) and return it."""
    folder = Path(tempfile.gettempdir()) / "metarlm-eval" if workdir is None else Path(workdir)
    path = folder / GLYPHS_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text(encoding="utf-8") != GLYPHS_GRAMMAR:
        path.write_text(GLYPHS_GRAMMAR, encoding="utf-8")
    return path


def new_domain_suite(seed: int, opts: SuiteOptions) -> list[Task]:
    """Random programs of a user grammar with new words and tokens, under the generic prior."""
    domain = str(glyphs_grammar(opts.workdir).resolve())
    return [_episode_task("new-domain", domain, seed, i) for i in range(task_count(opts, 20))]


def _cover_then_fill(pool: list[tuple[str, str]], size: int,
                     rng: random.Random) -> list[tuple[str, str]]:
    """A support set: for each word in turn the shortest example using it, then random ones."""
    order = list(range(len(pool)))
    rng.shuffle(order)
    chosen: list[int] = []
    words = sorted({w for c, _ in pool for w in c.split()})
    for word in words:
        if any(word in pool[k][0].split() for k in chosen):
            continue
        with_word = [k for k in order if word in pool[k][0].split()]
        chosen.append(min(with_word, key=lambda k: len(pool[k][0].split())))
    rest = [k for k in order if k not in set(chosen)]
    chosen += rest[:max(0, size - len(chosen))]
    picked = [pool[k] for k in chosen[:size]]
    rng.shuffle(picked)
    return list(dict.fromkeys(picked))  # the add-prim train files repeat the primitive


def _controls(train: list[tuple[str, str]], support: Sequence[Pair], opts: SuiteOptions,
              rng: random.Random) -> list[Pair]:
    """Train-split commands outside the support: the in-distribution side of the gap."""
    shown = {i for i, _ in support}
    pool = sorted({p for p in train if p[0] not in shown})
    n = opts.controls // 10 if opts.quick else opts.controls
    return rng.sample(pool, min(n, len(pool)))


def _scan_labels(suite: str, examples: Sequence[Pair],
                 queries: Sequence[Pair]) -> tuple[list[bool], str]:
    """Which test queries are out of distribution, and the rule that says so."""
    if suite == "scan-simple":
        return more_words(examples, queries), MORE_WORDS
    if suite == "scan-length":
        return longer_output(examples, queries), LONGER_OUTPUT
    return [True] * len(queries), TEST_SPLIT


def _scan_task(suite: str, name: str, seed: int, examples: Sequence[Pair],
               queries: Sequence[Pair], controls: Sequence[Pair],
               background: str | None = None) -> Task:
    """A SCAN task whose last queries are the controls."""
    ood, rule = _scan_labels(suite, examples, queries)
    task = make_task(suite, name, seed, "scan", examples, [*queries, *controls],
                     ood + [False] * len(controls), rule, background)
    return replace(task, controls=len(controls))


def scan_suite(suite: str) -> Callable[[int, SuiteOptions], list[Task]]:
    """A SCAN split: support sets drawn from its train file, queries from its test file."""
    split = SCAN_SPLITS[suite]

    def build(seed: int, opts: SuiteOptions) -> list[Task]:
        """The split's tasks for one seed."""
        from metarlm.data import load_scan

        train, test = load_scan(f"{split}_train"), load_scan(f"{split}_test")
        tasks = []
        for i in range(task_count(opts, 3)):
            rng = random.Random(f"{suite}/{seed}/{i}")
            examples = _cover_then_fill(train, opts.support, rng)
            queries = subsample(list(test), opts, rng)
            controls = _controls(train, examples, opts, rng)
            tasks.append(_scan_task(suite, f"{suite}/s{seed}/{i}", seed, examples, queries,
                                    controls))
        return tasks

    return build


def scan_program() -> Program:
    """The 14-rule SCAN program."""
    from metarlm.lang.domain import load_domain

    return load_domain("scan").parse(SCAN_RULES, source="scan.rules")


def scan_oneshot_suite(seed: int, opts: SuiteOptions) -> list[Task]:
    """Add-jump in one shot: every rule but ``jump -> I_JUMP`` given, one demonstration."""
    from metarlm.data import load_scan
    from metarlm.exec.check import run_many
    from metarlm.lang.interp import Ok

    result = run_many(scan_program(), [tuple(ONESHOT_DEMO.split())])[0]
    if not isinstance(result, Ok):
        raise RuntimeError(f"the SCAN grammar does not cover {ONESHOT_DEMO!r}: {result}")
    background = "\n".join(r for r in SCAN_RULES.splitlines() if r != "jump -> I_JUMP")
    examples = [(ONESHOT_DEMO, _text(result.value))]
    rng = random.Random(f"scan-oneshot/{seed}")
    queries = subsample(list(load_scan("addprim_jump_test")), opts, rng)
    controls = _controls(load_scan("addprim_jump_train"), examples, opts, rng)
    return [_scan_task("scan-oneshot", f"scan-oneshot/s{seed}", seed, examples, queries,
                       controls, background)]


def _suites() -> dict[str, Callable[[int, SuiteOptions], list[Task]]]:
    """Suite name -> builder (generated suites are imported here: they import this module)."""
    from metarlm.eval.generated import code_suite, numbers_suite

    table: dict[str, Callable[[int, SuiteOptions], list[Task]]] = {"miniscan": miniscan_suite}
    table.update({f"{d}-random": random_suite(d) for d in RANDOM_DOMAINS})
    table.update({name: scan_suite(name) for name in SCAN_SPLITS})
    table.update({"scan-oneshot": scan_oneshot_suite, "numbers": numbers_suite,
                  "code": code_suite, "new-domain": new_domain_suite})
    return table


SUITE_NAMES = ("miniscan", "miniscan-random", *SCAN_SPLITS, "scan-oneshot", "numbers", "code",
               "new-domain", "scan-random", "numbers-random", "code-random")


def build_tasks(suite: str, seed: int, opts: SuiteOptions | None = None) -> list[Task]:
    """The tasks of a suite for one seed (EvalError for an unknown suite)."""
    table = _suites()
    if suite not in table:
        raise EvalError(f"unknown suite {suite!r}: use one of {', '.join(SUITE_NAMES)}")
    return table[suite](seed, opts or SuiteOptions())
