"""The search's vocabulary: sub-problems, moves, states, generators, plugins and the context.

Generators (``metarlm.synth.generators``) and plugins (``metarlm.synth.plugins``) speak only
this; the core (``metarlm.synth.core``) drives them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from metarlm.exec.incremental import Outcome
from metarlm.lang.demo import Example
from metarlm.lang.dsl import LhsItem, Program, Rule, Var
from metarlm.synth.rule_prior import cooccurring
from metarlm.types import Budget, SearchSettings, size


@dataclass(frozen=True)
class SubProblem:
    """A failing example (level 1) or a sub-demonstration ``level - 1`` cuts deep."""

    example: Example
    level: int = 1
    index: int = 0  # its place in the state's agenda (failing examples first)

    def where(self) -> str:
        """Where a rule read off this sub-problem came from, for the result's origins."""
        if self.level == 1:
            return f"level 1: read off {quoted(self.example)}"
        return f"level {self.level}: read off the cut {quoted(self.example, True)}"


@dataclass(frozen=True)
class Move:
    """Rules a generator proposes, with its score; ``learned`` replaces the whole list."""

    rules: tuple[Rule, ...]
    origin: str
    score: float = 0.0
    learned: tuple[Rule, ...] | None = None
    scored: bool = False  # True when ``score`` is the policy's log-probability


@dataclass(frozen=True)
class State:
    """A learned rule list and what it gives every example."""

    learned: tuple[Rule, ...]
    outcome: Outcome
    score: float = 0.0  # the generators' scores along the way (log-probability like)

    @property
    def solved(self) -> int:
        """Examples reproduced."""
        return self.outcome.right

    @property
    def wrong(self) -> int:
        """Examples given a value other than their output."""
        return self.outcome.wrong

    @property
    def complete(self) -> bool:
        """Whether every example is reproduced."""
        return self.outcome.complete


class Generator:
    """A source of moves; subclasses override what they offer (every hook defaults to none)."""

    name = "generator"
    reserve_only = False  # offered only once the beams are spent (the systematic generator)
    per_problem = False  # asked once per sub-problem, in the agenda's order (else once a state)

    def starts(self, ctx: Context) -> Iterable[Move]:
        """Bundles for the empty state."""
        return ()

    def subproblems(self, state: State, failing: Sequence[Example],
                    ctx: Context) -> Iterable[SubProblem]:
        """Sub-problems beyond the failing examples themselves (cuts)."""
        return ()

    def propose(self, state: State, problems: Sequence[SubProblem],
                ctx: Context) -> Iterable[Move]:
        """Moves for the state, read off its sub-problems."""
        return ()


@dataclass
class Context:
    """What generators and plugins may read: the demonstration, settings, budget, caches."""

    examples: tuple[Example, ...]
    background: Program
    kinds: frozenset[str]
    settings: SearchSettings
    budget: Budget
    plugins: tuple[Plugin, ...] = ()
    max_rules: int = 64  # learned rules at most (the domain's max_rules less the background)
    sources: dict[Rule, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.algebra = self.background.algebra
        self.background_size = size(self.background)  # ``types.size``, which ranking adds
        self.shown = frozenset(w for e in self.examples for w in e.input)
        self.cooccur = cooccurring(self.examples) if self.algebra == "seq" else {}

    def program(self, learned: Sequence[Rule]) -> Program:
        """The background followed by ``learned``."""
        return Program(self.background.rules + tuple(learned), self.algebra)

    def note(self, rules: Iterable[Rule], source: str) -> None:
        """Record where rules were first proposed."""
        for rule in rules:
            self.sources.setdefault(rule, source)


class Plugin:
    """A domain bias: hooks the search calls (each a no-op here)."""

    name = "plugin"
    settings: dict[str, int] = {}

    def generators(self, ctx: Context) -> list[Generator]:
        """Extra generators."""
        return []

    def sum_rules(self, current: Program, lhs: tuple[LhsItem, ...], values: dict[Var, object],
                  output: int) -> tuple[list[Rule], bool]:
        """Integer rules for ``lhs`` named without a solver, and whether Z3 should still fit."""
        return [], True

    def bundles(self, current: Program, rule: Rule, ctx: Context) -> list[tuple[Rule, ...]]:
        """Bundles to try beside ``rule`` alone (each ends with ``rule``)."""
        return []

    def admits(self, current: Program, rule: Rule) -> bool:
        """Whether an abduced word meaning is believable."""
        return True

    def positions(self, learned: tuple[Rule, ...], rule: Rule, order: list[int]) -> list[int]:
        """The insertion points for ``rule``, reordered."""
        return order

    def rank_terms(self, learned: tuple[Rule, ...]) -> tuple[int, ...]:
        """Ranking tie-breaks after description length (smaller first)."""
        return ()

    def finish(self, program: Program, learned: tuple[Rule, ...],
               examples: Sequence[Example]) -> tuple[Rule, ...]:
        """A complete program's learned rules in the preferred order (the caller checks)."""
        return learned



def quoted(ex: Example, with_output: bool = False, most: int = 8) -> str:
    """An example's input in quotes, with its output when asked (long ones shortened)."""
    text = " ".join(ex.input)
    if with_output:
        out = ex.output if isinstance(ex.output, int) else ex.output[:most]
        shown = str(out) if isinstance(out, int) else " ".join(out)
        more = " …" if not isinstance(ex.output, int) and len(ex.output) > most else ""
        text += f" -> {shown}{more}"
    return f"“{text}”"
