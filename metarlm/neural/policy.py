"""The decomposition policy: a trained model that proposes and scores the next rule.

For a sub-problem of the search (its span and the output it must give, first, then a few
other failing examples) and the rules in force that can touch them, the policy reads an
episode encoded as in training (``metarlm.neural.states``) under a fresh per-episode
abstraction of just these symbols, so the number of words in the whole demonstration never
switches it off. It proposes rules by grammar-constrained beam search over one rule
(``metarlm.neural.beam``; sampling on request), and scores
any rules (the other generators' candidates) by teacher-forced log-probability in one batched
pass. ``decomposition_logprob`` replays how a consistent program decomposes its
demonstration, rule by rule, and sums the policy's log-probabilities: the learned prior that
ranks consistent programs. The search runs the network in numpy (``metarlm.neural.runtime``):
loading a policy never imports torch.
"""

from __future__ import annotations

import functools
import os
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from metarlm.errors import MetarlmError
from metarlm.lang.demo import Example
from metarlm.lang.domain import Domain
from metarlm.lang.dsl import Program, Rule
from metarlm.neural.runtime import NumpyBart, log_softmax
from metarlm.neural.states import OTHERS, failing, label, relevant
from metarlm.neural.tokens import (
    Abstraction,
    abstraction_for,
    encode_episode,
    encode_target,
    episode_symbols,
)

TREE_NODES = 384  # prefixes read in one scoring pass (its attention mask is nodes²)
MAX_RULE_IDS = 48  # one rule: a 3-word left side and a 12-token right side fit easily
_LOADING = threading.Lock()


@dataclass
class Problem:
    """What the policy reads: the sub-problem and other failing examples, the rules in force."""

    examples: tuple[Example, ...]  # the sub-problem first
    in_force: Program  # background and learned rules (only those touching the inputs are shown)

    @property
    def shown(self) -> Program | None:
        """The rules in force that can touch the examples' inputs."""
        rules = relevant(self.in_force.rules, [e.input for e in self.examples])
        return Program(rules, self.in_force.algebra) if rules else None


def checkpoint_dir(checkpoint: str | Path | None) -> Path:
    """The directory of a policy checkpoint (None: the shipped one); MetarlmError if none is
    there."""
    from metarlm.neural.checkpoint_info import SHIPPED

    path = Path(checkpoint) if checkpoint is not None else SHIPPED
    if not os.path.isfile(path / "config.json"):  # False, not OSError, for a long name
        raise MetarlmError(f"no model checkpoint at {path}; train one with `metarlm "
                           "train` or search without a model (--no-model)")
    return path


@dataclass
class Policy:
    """A loaded policy checkpoint."""

    model: NumpyBart  # the network, run in numpy (``metarlm.neural.runtime``)
    meta: dict[str, Any]
    path: Path

    @classmethod
    def load(cls, checkpoint: str | Path | None = None) -> Policy:
        """Load a policy checkpoint directory (default: the shipped one; cached per process);
        MetarlmError if absent or if it writes whole programs instead."""
        path = checkpoint_dir(checkpoint)
        with _LOADING:  # one load at a time: a second caller waits for the cached one
            policy = _load(path.resolve(), (path / "model.safetensors").stat().st_mtime_ns)
        if policy.meta.get("task", "program") != "policy":
            raise MetarlmError(f"{path} writes whole programs, not rules: it is no policy "
                               "(use it as the sampler of the nye system)")
        return policy

    @property
    def symbols(self) -> str:
        """``episode`` (meta-trained, per-episode slots) or ``fixed`` (the nometa twin)."""
        return str(self.meta.get("symbols", "episode"))

    def view(self, problem: Problem, rules: Sequence[Rule], seed: int) -> Abstraction | None:
        """Slots for the problem's and the rules' symbols (None when they do not fit)."""
        extra = Program(tuple(rules), problem.in_force.algebra)
        words, tokens = episode_symbols(problem.examples, [problem.shown, extra])
        try:
            return abstraction_for(self.symbols, words, tokens, random.Random(seed))
        except ValueError:
            return None

    def source(self, problem: Problem, view: Abstraction) -> list[int] | None:
        """The encoder's ids for a problem under a view (None when it does not fit)."""
        try:
            return encode_episode(problem.examples, view, problem.in_force.algebra,
                                  problem.shown)
        except (ValueError, KeyError):
            return None

    def score(self, problem: Problem, rules: Sequence[Rule], seed: int = 0) -> list[float]:
        """Teacher-forced log-probability of each rule as the next one, read over the rules'
        prefix tree in a pass or a few (-inf for a rule the view cannot write)."""
        view = self.view(problem, rules, seed)
        src = None if view is None else self.source(problem, view)
        if view is None or src is None or not rules:
            return [float("-inf")] * len(rules)
        targets = []
        for rule in rules:
            try:
                targets.append(encode_target(Program((rule,), problem.in_force.algebra), view))
            except (KeyError, ValueError):
                targets.append([])
        logp = [0.0] * len(rules)
        memory = self.model.encode(src)
        # Rules share prefixes (a left-hand side, its arrow): in sorted order they share
        # them within a chunk's prefix tree, which reads each prefix once.
        order = sorted((k for k in range(len(targets)) if targets[k]), key=targets.__getitem__)
        for tree, chunk, paths in _tree_chunks([targets[k] for k in order], TREE_NODES):
            tree_logp = log_softmax(self.model.tree_logits(memory, tree.ids, tree.parents))
            for k, path in zip(chunk, paths):
                logp[order[k]] = float(tree_logp[path, targets[order[k]][1:]].sum())
        return [v if t else float("-inf") for v, t in zip(logp, targets)]

    def propose(self, problem: Problem, domain: Domain, n: int, seed: int = 0,
                temperature: float = 1.0, decoding: str = "beam") -> list[tuple[Rule, float]]:
        """Up to ``n`` distinct rules under the grammar, each with its log-probability, most
        likely first: by beam search of width ``n`` (``decoding="beam"``) or drawn
        (``"sample"``, at ``temperature``; 0 is greedy). ``seed`` picks the view (and the
        draws)."""
        from metarlm.neural.decode import ProgramConstraint

        view = self.view(problem, (), seed)
        src = None if view is None else self.source(problem, view)
        if view is None or src is None:
            return []
        try:
            constraint = ProgramConstraint.for_abstraction(domain, view, max_rules=1,
                                                           max_len=MAX_RULE_IDS,
                                                           allow_holes=False)
        except ValueError:
            return []
        drawn = proposals(self.model, src, constraint, n, decoding, seed, temperature)
        out: dict[Rule, float] = {}
        for cand in drawn:
            try:
                program = view.decode(cand.ids, problem.in_force.algebra)
            except (ValueError, IndexError):
                continue
            if len(program.rules) == 1:
                out.setdefault(program.rules[0], cand.logprob)
        return sorted(out.items(), key=lambda kv: -kv[1])

    def decomposition_logprob(self, program: Program, background: Program | None,
                              examples: Sequence[Example],
                              memo: dict[tuple, Any] | None = None) -> float:
        """The log-probability of the program's decomposition: starting from the background,
        each time the rule its own derivation of the shortest failing example needs next,
        scored in the state the search would be in. Programs ranked together share their
        first steps: pass one ``memo`` dict for all of them and each step is scored once."""
        memo = {} if memo is None else memo
        learned_from = len(background) if background is not None else 0
        in_force = Program(program.rules[:learned_from], program.algebra)
        # the rules in force keep the program's order, as in the states the policy is trained
        # on: appended in the order they are needed, a rule read first (`u1 x1`) could take
        # the inputs of one that the program puts before it (`y1 pa y2`), and the program's
        # own derivation would then find no next rule
        chosen = set(in_force.rules)
        total, steps = 0.0, 0
        while steps <= len(program.rules):
            bad = memo.get(("failing", in_force.rules))
            if bad is None:
                bad = memo["failing", in_force.rules] = failing(in_force, examples)
            if not bad:
                return total
            found = label(program, frozenset(in_force.rules), bad[0])
            if found is None:
                return float("-inf")
            sub, rule, _ = found
            others = tuple(e for e in bad[1:] if e.input != sub.input)[:OTHERS]
            key = ("score", in_force.rules, sub, others, rule)
            if key not in memo:
                memo[key] = self.score(Problem((sub, *others), in_force), [rule])[0]
            total += memo[key]
            chosen.add(rule)
            in_force = Program(tuple(r for r in program.rules if r in chosen), program.algebra)
            steps += 1
        return total


class _PrefixTree:
    """Distinct prefixes of id sequences as nodes: a node's id and its parent's index."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.parents: list[int] = []
        self._child: dict[tuple[int, int], int] = {}  # (parent, id) -> node

    def walk(self, seq: Sequence[int]) -> int:
        """How many nodes adding seq would make."""
        node = -1
        for k, i in enumerate(seq):
            node = self._child.get((node, i), -2)
            if node == -2:
                return len(seq) - k
        return 0

    def add(self, seq: Sequence[int]) -> list[int]:
        """The nodes of seq's prefixes (made where missing), shortest first."""
        node, path = -1, []
        for i in seq:
            found = self._child.get((node, i))
            if found is None:
                found = self._child[node, i] = len(self.ids)
                self.ids.append(i)
                self.parents.append(node)
            node = found
            path.append(node)
        return path


def _tree_chunks(targets: Sequence[list[int]], limit: int
                 ) -> list[tuple[_PrefixTree, list[int], list[list[int]]]]:
    """Consecutive runs of the targets, each as (the prefix tree of the targets' inputs, the
    run's target indices, each target's path in the tree), a tree holding at most ``limit``
    nodes unless one target alone needs more."""
    chunks: list[tuple[_PrefixTree, list[int], list[list[int]]]] = []
    for k, target in enumerate(targets):
        if not chunks or len(chunks[-1][0].ids) + chunks[-1][0].walk(target[:-1]) > limit:
            chunks.append((_PrefixTree(), [], []))
        tree, indices, paths = chunks[-1]
        indices.append(k)
        paths.append(tree.add(target[:-1]))
    return chunks


def proposals(model: Any, src: Sequence[int], constraint: Any, n: int, decoding: str = "beam",
              seed: int = 0, temperature: float = 1.0) -> list[Any]:
    """Up to ``n`` distinct candidate programs (``decode.Candidate``): the beam's (width
    ``n``) or those of ``n`` draws."""
    from metarlm.neural.beam import beam_programs
    from metarlm.neural.decode import dedupe, sample_programs

    if decoding == "beam":
        return beam_programs(model, src, constraint, n)
    if decoding == "sample":
        return dedupe(sample_programs(model, src, constraint, n, seed=seed,
                                      temperature=temperature))
    raise ValueError(f"unknown decoding {decoding!r}: beam or sample")


def rule_ranks(model: Any, items: Sequence[Any], samples: int = 16, seed: int = 0,
               progress: Callable[[], None] | None = None,
               decoding: str = "beam") -> list[int | None]:
    """For each encoded state, the true rule's rank (1 = first) among the policy's ``samples``
    distinct proposals by log-probability (None when it is not among them)."""
    from metarlm.lang.domain import load_domain
    from metarlm.neural.decode import ProgramConstraint

    model = getattr(model, "module", model)
    ranks: list[int | None] = []
    for item in items:
        if progress is not None:
            progress()
        try:
            constraint = ProgramConstraint.for_abstraction(
                load_domain(item.episode.domain), item.abstraction, max_rules=1,
                max_len=MAX_RULE_IDS, allow_holes=False)  # next rules are never sketches
        except ValueError:
            ranks.append(None)
            continue
        drawn = sorted(proposals(model, list(item.src), constraint, samples, decoding, seed),
                       key=lambda c: -c.logprob)
        rows = [tuple(c.ids) for c in drawn]
        ranks.append(rows.index(tuple(item.tgt)) + 1 if tuple(item.tgt) in rows else None)
    return ranks


def validate_policy(model: Any, items: Sequence[Any], samples: int = 16, max_len: int = 0,
                    seed: int = 0,
                    progress: Callable[[], None] | None = None) -> dict[str, float]:
    """Validation figures of a policy on held-out states: ``loss`` (teacher-forced token loss)
    and ``top1``/``top10``: shares whose true rule ranks first / in the first ten among
    ``samples`` grammar-constrained proposals."""
    from metarlm.neural.model import token_loss

    del max_len  # one rule always fits MAX_RULE_IDS
    was_training = model.training
    model.eval()
    loss = token_loss(model, items)
    ranks = rule_ranks(model, items, max(samples, 10), seed, progress)
    model.train(was_training)
    n = max(1, len(ranks))
    return {"loss": loss, "top1": sum(r == 1 for r in ranks) / n,
            "top10": sum(r is not None and r <= 10 for r in ranks) / n}


@functools.lru_cache(maxsize=4)
def _load(path: Path, stamp: int) -> Policy:
    """The policy of a checkpoint directory (``stamp`` changes when its weights do), run by
    the numpy runtime: the search never imports torch."""
    from metarlm.neural.model import loadable_meta

    return Policy(NumpyBart.load(path), loadable_meta(path), path)
