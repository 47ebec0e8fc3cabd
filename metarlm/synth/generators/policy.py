"""The policy generator: the meta-trained decomposition policy inside the search.

For a state's first sub-problems (a failing example or a cut, with the other failing examples
and the rules in force that touch them) the policy proposes its most likely next rules by
grammar-constrained beam search (or by sampling), each scored by its log-probability, and
scores every other generator's candidate rules in one batched pass per sub-problem
(``score``); the core checks moves best scored first and stops an expansion early once it has
enough children that reproduce more. Every forward pass counts in the budget's
``model_calls``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from metarlm.errors import MetarlmError
from metarlm.exec.incremental import RIGHT
from metarlm.lang.domain import Domain
from metarlm.lang.dsl import Rule
from metarlm.synth.base import Context, Generator, Move, State, SubProblem


class PolicyGuide(Generator):
    """Proposes rules with the policy and scores the other generators' moves.

    ``loading`` starts reading the checkpoint in a background thread, so the search starts
    at once; until the policy is ready the guide offers and scores nothing (``available``).
    """

    name = "policy"
    per_problem = True

    def __init__(self, policy: Any, domain: Domain, samples: int = 16, problems: int = 2,
                 seed: int = 0, greedy: bool = False, decoding: str = "beam") -> None:
        self.policy, self.domain = policy, domain
        self.samples, self.problems, self.seed = (1 if greedy else samples), problems, seed
        self.greedy = greedy
        self.decoding = "sample" if greedy else decoding  # greedy: the argmax draw
        self._ready = threading.Event()
        if policy is not None:
            self._ready.set()
        self.error: Exception | None = None

    @classmethod
    def loading(cls, checkpoint: str | Path | None, domain: Domain, samples: int = 16,
                seed: int = 0, greedy: bool = False, decoding: str = "beam") -> PolicyGuide:
        """A guide whose policy loads in the background (MetarlmError at once if there is no
        checkpoint at the path)."""
        from metarlm.neural.policy import Policy, checkpoint_dir

        path = checkpoint_dir(checkpoint)
        guide = cls(None, domain, samples, seed=seed, greedy=greedy, decoding=decoding)

        def load() -> None:
            try:
                guide.policy = Policy.load(path)
            except MetarlmError as err:  # reported by wait(), never lost
                guide.error = err
            except Exception as err:  # noqa: BLE001 (a corrupt checkpoint)
                guide.error = MetarlmError(f"cannot load the policy at {path}: {err}")
            finally:
                guide._ready.set()

        threading.Thread(target=load, name="metarlm-policy", daemon=True).start()
        return guide

    @property
    def available(self) -> bool:
        """Whether the policy is loaded and usable."""
        return self._ready.is_set() and self.policy is not None

    def wait(self, seconds: float | None = None) -> bool:
        """Wait for the load (at most ``seconds``); raise what the load raised."""
        self._ready.wait(seconds)
        if self.error is not None:
            raise self.error
        return self.available

    def _problem(self, state: State, problem: SubProblem, ctx: Context) -> Any:
        from metarlm.neural.policy import Problem

        others = [e for e, v in zip(ctx.examples, state.outcome.verdicts)
                  if v != RIGHT and e.input != problem.example.input][:2]
        return Problem((problem.example, *others), ctx.program(state.learned))

    def propose(self, state: State, problems: Sequence[SubProblem],
                ctx: Context) -> Iterable[Move]:
        if self.greedy:
            self.wait()  # greedy decoding is nothing without the policy
        if not self.available:
            return
        for problem in problems:
            if problem.index >= self.problems:
                continue
            ctx.budget.model_calls += 1
            drawn = self.policy.propose(self._problem(state, problem, ctx), self.domain,
                                        self.samples, self.seed + problem.index,
                                        temperature=0.0 if self.greedy else 1.0,
                                        decoding=self.decoding)
            for rule, logp in drawn:
                # scored again with every other move, in one batch under one view
                yield Move((rule,), f"the policy, for {problem.where()}", score=logp)

    def score(self, state: State, problems: Sequence[SubProblem], rules: Sequence[Rule],
              ctx: Context) -> list[float]:
        """Each rule's best log-probability as the next rule of one of the state's first
        sub-problems."""
        best = [float("-inf")] * len(rules)
        if not self.available:
            return [0.0] * len(rules)
        for problem in problems[: self.problems]:
            ctx.budget.model_calls += 1
            scores = self.policy.score(self._problem(state, problem, ctx), rules, self.seed)
            best = [max(a, b) for a, b in zip(best, scores)]
        return best
