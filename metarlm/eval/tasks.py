"""What a task is: demo objects with out-of-distribution labels, and the helpers every suite
uses to draw them (``suites`` and ``generated`` build on this module)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from metarlm.errors import MetarlmError
from metarlm.lang.demo import Example

EVAL_SEED_BASE = 10**6
SHOTS = (1, 2, 4, 8, 16)
MORE_WORDS = "more input words than any demonstration"
LONGER_OUTPUT = "longer output than any demonstration"
TEST_SPLIT = "every test-split query (held-out train commands are the in-distribution controls)"

class EvalError(MetarlmError):
    """An evaluation asked for something that does not exist (suite, system, checkpoint)."""


@dataclass(frozen=True)
class SuiteOptions:
    """How large the suites are drawn."""

    episodes: int | None = None  # tasks per seed of the drawn suites (None: each suite's default)
    quick: bool = False  # subsample long query lists
    support: int = 30  # most demonstrations drawn from a SCAN train split
    quick_queries: int = 40  # queries kept per task under ``quick``
    controls: int = 100  # held-out train commands added to SCAN tasks (quick: a tenth)
    workdir: Path | None = None  # where new domains' grammars go (None: the temp folder)


@dataclass(frozen=True)
class Task:
    """One demonstration to solve, with an out-of-distribution flag per query."""

    suite: str
    name: str
    seed: int
    demo: dict[str, Any] = field(hash=False)
    ood: tuple[bool, ...] = ()
    ood_rule: str = MORE_WORDS
    shots: int | None = None  # demonstrations kept when truncated; None: all of them
    controls: int = 0  # the last queries are held-out train items: in distribution, unscored

    @property
    def n_examples(self) -> int:
        """How many demonstrations the task shows."""
        return len(self.demo["examples"])


Pair = tuple[str, str | int]  # (input text, output text or integer)
Item = TypeVar("Item")


def make_task(suite: str, name: str, seed: int, domain: str, examples: Sequence[Pair],
              queries: Sequence[Pair], ood: Sequence[bool], ood_rule: str = MORE_WORDS,
              background: str | None = None) -> Task:
    """A task from (input, output) pairs; ``ood`` has one flag per query."""
    demo: dict[str, Any] = {"domain": domain,
                            "examples": [{"input": i, "output": o} for i, o in examples],
                            "queries": [{"input": i, "output": o} for i, o in queries]}
    if background:
        demo["background"] = background
    return Task(suite, name, seed, demo, tuple(bool(f) for f in ood), ood_rule)


def truncated(task: Task, k: int) -> Task:
    """The task with only its first ``k`` demonstrations (labels kept, for comparison)."""
    demo = {**task.demo, "examples": task.demo["examples"][:k]}
    return replace(task, demo=demo, shots=k)


def shot_counts(n_examples: int, shots: Sequence[int] = SHOTS) -> list[int]:
    """The truncations worth running: the counts below the task's own number of examples."""
    return sorted({k for k in shots if 0 < k < n_examples})


def more_words(examples: Sequence[Pair], queries: Sequence[Pair]) -> list[bool]:
    """Per query: more words than the longest demonstration input."""
    longest = max(len(i.split()) for i, _ in examples)
    return [len(i.split()) > longest for i, _ in queries]


def longer_output(examples: Sequence[Pair], queries: Sequence[Pair]) -> list[bool]:
    """Per query: more output tokens than the longest demonstration output."""
    longest = max(len(str(o).split()) for _, o in examples)
    return [len(str(o).split()) > longest for _, o in queries]


def _text(tokens: Sequence[str]) -> str:
    """Tokens as demo-file text."""
    return " ".join(tokens)


def _pairs(examples: Sequence[Example]) -> list[Pair]:
    """Examples as demo-file (input, output) pairs."""
    return [(_text(e.input), e.output if isinstance(e.output, int) else _text(e.output))
            for e in examples]


def subsample(items: list[Item], opts: SuiteOptions, rng: random.Random) -> list[Item]:
    """All items, or a seeded sample of ``quick_queries`` of them (in their order) with quick."""
    if not opts.quick or len(items) <= opts.quick_queries:
        return items
    keep = sorted(rng.sample(range(len(items)), opts.quick_queries))
    return [items[k] for k in keep]


def task_count(opts: SuiteOptions, default: int) -> int:
    """Tasks per seed of a drawn suite: ``episodes`` when given, else the suite's default."""
    return default if opts.episodes is None else max(1, opts.episodes)
