"""Types every stage shares: the budget accountant, the search configuration, a candidate.

They live here, below every stage, so that the search core, the neural proposer and the
evaluation can all speak of them without importing one another.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from typing import Any

from metarlm.lang.dsl import Program, Rule

DL_WEIGHT = 0.5  # nats per symbol of description length in the ranking score

TIME_LIMIT, CANDIDATE_BUDGET = "time limit", "candidate budget"


@dataclass
class Budget:
    """One account of a search's costs: candidates checked in the kernels, Z3 calls and model
    calls, each counted apart; ``seconds`` of wall time is the hard limit.

    ``max_candidates`` bounds kernel-checked candidates only: a Z3 call or a model call costs
    far more than a kernel check, so they are counted, reported and bounded by time instead.
    """

    max_candidates: int = 200_000
    seconds: float = 30.0
    candidates: int = 0  # candidate programs checked (kernels or reference)
    z3_calls: int = 0  # hole-filling solver calls
    model_calls: int = 0  # batched forward passes of the policy
    started: float = field(default_factory=time.monotonic)
    lanes: dict[str, dict[str, float]] = field(default_factory=dict)  # per lane, in turns

    def exhausted(self) -> bool:
        """Whether the time limit or the candidate budget is spent."""
        return self.reason() is not None

    def reason(self) -> str | None:
        """``"time limit"`` or ``"candidate budget"`` when one is spent, else None."""
        if time.monotonic() - self.started >= self.seconds:
            return TIME_LIMIT
        if self.candidates >= self.max_candidates:
            return CANDIDATE_BUDGET
        return None

    def elapsed(self) -> float:
        """Seconds since the budget started."""
        return time.monotonic() - self.started

    def account(self) -> Budget:
        """A fresh account of what one part of the run spends, on the run's clock and with
        its candidate budget."""
        return Budget(max_candidates=self.max_candidates, seconds=self.seconds,
                      started=self.started)

    def remaining(self) -> float:
        """Seconds left before the time limit (never negative)."""
        return max(0.0, self.seconds - self.elapsed())

    def solver_ms(self, most: int = 2000) -> int:
        """A solver call's time limit: ``most`` ms, or what is left of the budget."""
        return max(1, min(most, int(self.remaining() * 1000)))

    def costs(self) -> dict[str, Any]:
        """The counts as a dictionary (the report's and ``--json``'s ``costs``), with each
        lane's share when two searches took turns."""
        out: dict[str, Any] = {"candidates": self.candidates, "z3_calls": self.z3_calls,
                               "model_calls": self.model_calls}
        if self.lanes:
            out["lanes"] = {name: dict(costs) for name, costs in self.lanes.items()}
        return out


@dataclass(frozen=True)
class SearchConfig:
    """Budgets and switches of one synthesis run."""

    budget: int = 200_000
    timeout: float = 20.0
    seed: int = 0
    use_model: bool = True  # the policy guides the search
    checkpoint: str | None = None  # the policy (None: the shipped one)
    policy_samples: int = 16  # rules the policy proposes per sub-problem
    policy_decoding: str = "beam"  # how: "beam" (width policy_samples) or "sample"
    sampler: bool = False  # whole programs sampled first (Nye et al.; the ``nye`` system)
    sampler_checkpoint: str | None = None  # the whole-program model (None: the shipped one)
    samples: int = 256  # whole programs sampled at most
    batch: int = 32
    temperature: float = 1.0
    model_share: float = 0.5  # of the budget, for whole-program sampling
    alternatives: int = 3
    use_enumeration: bool = True  # the search runs when sampled programs fail
    greedy: bool = False  # the policy's first rule at each step, no search
    unguided_lane: bool = True  # the unguided search takes turns beside the guided one
    # the guided lane in a second process where there are two cores (the same result, sooner)
    parallel_lanes: bool = True
    # SearchSettings fields set for this run, over the domain's own (``// @beam: 8``)
    search_settings: dict[str, int] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Candidate:
    """A consistent program with its score parts and where it came from."""

    program: Program
    logprob: float | None
    origin: str
    found_after: int = 0  # candidates checked in the run when this program was found
    found_at: float = 0.0  # time.monotonic() when it was found
    rule_origins: tuple[tuple[Rule, str], ...] = ()  # finer than ``origin``, rule by rule

    @property
    def score(self) -> float:
        """Log-probability (0 without a model) less the weighted description length."""
        return (self.logprob or 0.0) - DL_WEIGHT * size(self.program)


def size(program: Program) -> int:
    """Description length: symbols on both sides of every rule, plus one per rule."""
    return sum(map(rule_size, program.rules))


def rule_size(rule: Rule) -> int:
    """One rule's share of ``size``: the symbols on both sides, plus one."""
    return 1 + len(rule.lhs) + len(rule.rhs)


@dataclass(frozen=True)
class SearchSettings:
    """Every cap and weight of the search core, each a documented setting.

    A domain file may set any of them in a comment line (``// @cut_depth: 4``); a domain
    plugin may set its own defaults (``numerals`` reads six failing examples per step).
    """

    beam: int = 4  # states grown per level while a beam lives
    levels: int = 64  # levels a beam grows before it is given up
    examples_per_step: int = 3  # failing examples (and as many cuts) read per state
    fit_examples: int = 3  # of those, the first ones whose integer constants Z3 fits
    cut_examples: int = 8  # failing examples cut into sub-demonstrations per state
    cut_depth: int = 3  # cuts nested at most this deep
    abduction_examples: int = 8  # failing examples whose unknown words are abduced per state
    abduction_words: int = 2  # unknown words abduced per example
    joint_words: int = 2  # new words abduced together with a rule of calls
    joint_tokens: int = 2  # tokens each jointly abduced word may mean (0 to this)
    hole_tokens: int = 3  # tokens an abduced word may mean (0 to this), sequence algebra
    max_anchors: int = 2  # words kept literally in a left-hand side read off an input
    head_words: int = 1  # 1: the gap beside an anchor may be its nearest word and the rest
    bindings: int = 3  # bindings of a left-hand side to an input that are read
    max_rhs: int = 12  # items of a right-hand side read off an output
    max_segmentations: int = 24  # right-hand sides read off one output for one binding
    revisions: int = 1  # 1: learned rules are also dropped, moved earlier or widened
    reserve: int = 50_000  # states kept to go back to when every beam is spent
    systematic_share: int = 50  # percent of checks the systematic lane gets after the beams
    systematic_rules: int = 64  # rules of each size the systematic generator offers a state
    chunk: int = 256  # candidates checked per kernel call
    guided_chunk: int = 32  # candidates checked per call when a policy orders them
    guided_keep: int = 8  # a guided expansion stops once this many children do better
    model_call_cost: int = 100  # candidates a policy pass counts as when two lanes take turns
    guided_delay: int = 0  # what the unguided lane spends alone before the guided lane starts
    synonym_cost: int = 4  # a token spelled out that another word's rule already means
    loose_cost: int = 2  # a rule with no word on its left: it applies everywhere
    spelled_cost: int = 1  # a token written out in a rule with variables
    empty_cost: int = 4  # a word that means nothing

    @classmethod
    def names(cls) -> frozenset[str]:
        """The settings' names (what a domain file may set)."""
        return frozenset(f.name for f in fields(cls))

    @classmethod
    def checked(cls, values: dict[str, int]) -> dict[str, int]:
        """``values`` if every name is a setting and every value a non-negative integer;
        ValueError naming the first that is not."""
        for name, value in values.items():
            if name not in cls.names():
                raise ValueError(f"unknown search setting {name!r}: use one of "
                                 f"{', '.join(sorted(cls.names()))}")
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"search setting {name} must be a non-negative integer, "
                                 f"not {value!r}")
        return values
