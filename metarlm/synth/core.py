"""The search core: best-first search over partial programs; it knows no domain.

A *state* is a learned rule list (after the background) with its ``Outcome``: the value every
example gets under it, hence each example's verdict (right, wrong value, no value). A *move*
is a bundle of rules that a generator proposes for a state, with the generator's score; a
*sub-problem* is what generators read: a failing example, or a sub-demonstration that a cut
gives (a span and the output it must have). Generators sit behind one interface
(``Generator.propose(state, problems, ctx)``); the domain's plugins add generators and
preferences; the core orders, places, checks and keeps.

1. Starts. The bundles the generators offer the empty state (``Generator.starts``), in order.
2. Beams. Each start grows as a beam: every level expands the best states, checks their
   children in batches (``metarlm.exec.incremental``), merges children that behave alike on
   the examples (observational equivalence: the same value on every example) and keeps the
   ``beam`` best of those that reproduce more examples than their parent. Every other child
   goes to the reserve.
3. Reserve and systematic lane. When every beam is spent without a consistent program (or
   always, with ``persist``), the search goes on best-first from the reserve, and shares its
   checks with the systematic lane, which enumerates whole programs by size
   (``generators.systematic``): given time, every program of the grammar up to a size is
   reached.

It ends on the time limit, on the candidate budget, or when the reserve and the systematic
lane are both exhausted, and ``stopped`` says which. Consistent programs are yielded as they
are found, in the order the plugins prefer where the examples allow it, pruned of rules the
demonstration does not need.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from metarlm.exec.incremental import RIGHT, DemoChecker
from metarlm.lang.demo import Example
from metarlm.lang.dsl import Program, Rule
from metarlm.synth.base import Context, Generator, Move, Plugin, State, SubProblem
from metarlm.synth.generators import default_generators
from metarlm.synth.generators.systematic import SystematicLane
from metarlm.synth.placement import placements
from metarlm.synth.ranking import rank
from metarlm.synth.rule_prior import in_grammar, plausible
from metarlm.types import Budget, SearchSettings, size

EXHAUSTED = "search space exhausted up to {} rules"
BEAMS_SPENT = "every beam spent after finding consistent programs"
BEAMS_ONLY = "every beam spent (no reserve, no systematic lane: greedy)"


class Search:
    """Best-first search for rule lists that complete a demonstration (module docstring)."""

    def __init__(self, examples: Sequence[Example], background: Program | None, algebra: str,
                 budget: Budget, settings: SearchSettings | None = None,
                 kinds: frozenset[str] = frozenset("ux"), plugins: Sequence[Plugin] = (),
                 generators: Sequence[Generator] | None = None, max_rules: int = 64,
                 checker: DemoChecker | None = None, persist: bool = False,
                 observer: Callable[[tuple[Rule, ...]], None] | None = None,
                 guide: Any = None) -> None:
        ordered = tuple(sorted(examples, key=lambda e: len(e.input)))
        bg = background if background is not None else Program((), algebra)  # type: ignore[arg-type]
        base = settings or SearchSettings()
        for plugin in plugins:  # a plugin's defaults, unless the caller set them
            if settings is None:
                base = replace(base, **plugin.settings)
        self.ctx = Context(ordered, bg, kinds, base, budget, tuple(plugins),
                           max(0, max_rules - len(bg)))
        self.generators = list(generators if generators is not None
                               else default_generators(self.ctx))
        for plugin in plugins:
            self.generators += plugin.generators(self.ctx)
        self.checker = checker or DemoChecker(ordered, bg)
        self.stopped: str | None = None
        # Once the beams have found consistent programs, the reserve is searched for more
        # only when asked: it is the search's way on when the beams find nothing.
        self.persist = persist
        self.observer = observer  # told every state the search grows (training traces)
        self.beams_only = False  # stop when the beams are spent (the greedy baseline)
        # The policy (``generators.policy.PolicyGuide``): it proposes rules, scores every
        # move, and the expansion checks moves best scored first, stopping early.
        self.guide = guide
        if guide is not None:
            self.generators.append(guide)
        self.checked = 0  # rule lists checked by this search (not the systematic lane)
        self.unchecked = 0  # rule lists made but never checked (an expansion stopped early)
        self.seen: dict[tuple, tuple] = {}
        self.profiles: set[tuple] = set()
        self._ranks: dict[tuple, tuple] = {}
        self._reserve: list[tuple[tuple, int, State]] = []
        self._tick = itertools.count()

    @property
    def budget(self) -> Budget:
        return self.ctx.budget

    def origins(self, learned: Sequence[Rule]) -> dict[Rule, str]:
        """Where each learned rule came from (a revision when no generator proposed it)."""
        return {r: self.ctx.sources.get(r, "a revision of a learned rule") for r in learned}

    def run(self) -> Iterator[Program]:
        """Consistent programs, each once, until the search ends (``stopped`` says why)."""
        return (p for p in self.steps() if p is not None)

    def steps(self) -> Iterator[Program | None]:
        """``run``, with a None after every expansion: a caller that runs two searches in turn
        (``metarlm.synth.lanes``) takes turns at these points."""
        given: set[tuple[Rule, ...]] = set()
        for learned in self._search():
            if learned is None:
                yield None
            elif learned not in given:
                given.add(learned)
                yield self.ctx.program(learned)
        if self.stopped is None:
            self.stopped = self.budget.reason()

    def _search(self) -> Iterator[tuple[Rule, ...] | None]:
        starts = [m for g in self.generators for m in g.starts(self.ctx)] or [Move((), "start")]
        found = 0
        for move in starts:
            self.ctx.note(move.rules, move.origin)
            self.seen.clear()
            self.profiles.clear()
            state = self._check([move.rules])[0]
            for learned in self._beam(state):
                found += learned is not None
                yield learned
            if self.budget.exhausted():
                return
        if found and not self.persist:
            self.stopped = BEAMS_SPENT
            return
        if self.beams_only:
            self.stopped = BEAMS_ONLY
            return
        self.seen.clear()
        yield from self._best_first()

    def _beam(self, start: State) -> Iterator[tuple[Rule, ...] | None]:
        """Complete rule lists grown from ``start`` by a beam; the rest goes to the reserve."""
        if start.complete:
            yield self._finished(start)
            return
        beam = [start]
        for _ in range(self.ctx.settings.levels):
            beam = [s for s in beam if not s.complete]
            if not beam or self.budget.exhausted():
                return
            # States far behind the best of their level wait in the reserve: growing each
            # can cost seconds of hole filling, and they rarely catch up.
            lead = max(s.solved for s in beam)
            successors: list[State] = []
            for state in beam:
                if 4 * state.solved < 3 * lead:
                    self._keep(state)
                    continue
                children = self._expand(state)
                yield None
                done = [c for c in children if c.complete]
                better = self._merged([c for c in children
                                       if c.solved > state.solved and not c.complete])
                for child in children:
                    if child.solved <= state.solved:
                        self._keep(child)
                successors += self._diverse(better)
                # A complete program is given at once: the first answer costs one branch.
                # (Complete programs are never merged: they are the alternatives to rank.)
                yield from sorted((self._finished(c) for c in done),
                                  key=lambda ls: size(self.ctx.program(ls)))
                if self.budget.exhausted():
                    return
            ranked = sorted(successors, key=self._rank)
            beam = ranked[: self.ctx.settings.beam]
            for state in ranked[self.ctx.settings.beam:]:
                self._keep(state)
        for state in beam:
            self._keep(state)

    def _best_first(self) -> Iterator[tuple[Rule, ...] | None]:
        """The reserve, best first, sharing checks with the systematic lane."""
        lane = SystematicLane(self.ctx, self.checker)
        share = self.ctx.settings.systematic_share / 100
        start = self.checked  # this search's own checks: another may share the budget
        while not self.budget.exhausted():
            spent = self.checked - start + lane.checks
            if lane.open and (not self._reserve or lane.checks <= share * spent):
                yield from (self._finished(s) for s in lane.step() if s.complete)
                yield None
                continue
            if not self._reserve:
                self.stopped = EXHAUSTED.format(self.ctx.max_rules + len(self.ctx.background))
                return
            state = heapq.heappop(self._reserve)[2]
            for child in self._merged(self._expand(state, reserve=True)):
                if child.complete:
                    yield self._finished(child)
                else:
                    self._keep(child)
            yield None

    def _keep(self, state: State) -> None:
        """Put a state in the reserve (the worst half is dropped when it is full)."""
        heapq.heappush(self._reserve, (self._rank(state), next(self._tick), state))
        if len(self._reserve) > self.ctx.settings.reserve:
            self._reserve = heapq.nsmallest(self.ctx.settings.reserve // 2, self._reserve)
            heapq.heapify(self._reserve)

    def _rank(self, state: State) -> tuple:
        key = (state.learned, state.outcome.verdicts, state.score)
        found = self._ranks.get(key)
        if found is None:
            if len(self._ranks) > 1 << 17:
                self._ranks.clear()
            found = self._ranks[key] = rank(state, self.ctx)
        return found

    def _check(self, lists: Sequence[tuple[Rule, ...]],
               scores: Sequence[float] | None = None) -> list[State]:
        """States of rule lists, checked in one batch (each list counts as a candidate)."""
        self.budget.candidates += len(lists)
        self.checked += len(lists)
        outcomes = self.checker.check(lists)
        scores = scores or [0.0] * len(lists)
        return [State(ls, o, s) for ls, o, s in zip(lists, outcomes, scores)]

    def agenda(self, state: State) -> list[SubProblem]:
        """The state's sub-problems: its first failing examples, then the shortest cuts."""
        per_step = self.ctx.settings.examples_per_step
        failing = [e for e, v in zip(self.ctx.examples, state.outcome.verdicts) if v != RIGHT]
        problems = [e for e in failing[:per_step]]
        cuts: dict[Example, int] = {}
        for gen in self.generators:
            for sub in gen.subproblems(state, failing, self.ctx):
                cuts[sub.example] = min(sub.level, cuts.get(sub.example, sub.level))
        shortest = sorted(cuts.items(), key=lambda item: len(item[0].input))[:per_step]
        levels = [(e, 1) for e in problems] + shortest
        return [SubProblem(e, level, k) for k, (e, level) in enumerate(levels)]

    def _moves(self, state: State, problems: list[SubProblem], reserve: bool) -> Iterator[Move]:
        """Every generator's moves: those of whole states first, then sub-problem by
        sub-problem those of the generators that read one at a time."""
        active = [g for g in self.generators if reserve or not g.reserve_only]
        for gen in active:
            if not gen.per_problem:
                yield from gen.propose(state, problems, self.ctx)
        for problem in problems:
            for gen in active:
                if gen.per_problem:
                    yield from gen.propose(state, [problem], self.ctx)

    def _expand(self, state: State, reserve: bool = False) -> list[State]:
        """The state's children, best ranked first: every generator's moves, placed and
        checked in batches."""
        if len(state.learned) >= self.ctx.max_rules:
            return []
        if self.observer is not None:
            self.observer(state.learned)
        problems = self.agenda(state)
        moves = []
        for move in self._moves(state, problems, reserve):
            self.ctx.note(move.rules, move.origin)
            # (a generator may guess a rule the domain's grammar cannot write: `x1` where
            # the domain allows only u and y)
            if in_grammar(move.rules if move.learned is None else move.learned,
                          self.ctx.kinds) and (move.learned is not None
                                               or plausible(move.rules, self.ctx.cooccur)):
                moves.append(move)
            if self.budget.exhausted():
                break
        if self.guide is not None and self.guide.available:
            moves = self._scored(state, problems, moves)
        lists: dict[tuple[Rule, ...], float] = {}
        for move in moves:
            placed = ([move.learned] if move.learned is not None
                      else placements(state.learned, move.rules, self.ctx.plugins))
            for ls in placed:
                lists.setdefault(ls, state.score + move.score)
        room = [ls for ls in lists if len(ls) <= self.ctx.max_rules]
        return sorted(self._checked(state, room, lists), key=self._rank)

    def _checked(self, state: State, room: list[tuple[Rule, ...]],
                 scores: dict[tuple[Rule, ...], float]) -> list[State]:
        """The rule lists checked in chunks, until the budget ends or, when a policy orders
        them, once enough do better than their parent."""
        guided = self.guide is not None and self.guide.available
        step = self.ctx.settings.guided_chunk if guided else self.ctx.settings.chunk
        children: list[State] = []
        better = 0
        for k in range(0, len(room), step):
            chunk = room[k:k + step]
            fresh = self._check(chunk, [scores[ls] for ls in chunk])
            children += fresh
            better += sum(c.solved > state.solved for c in fresh)
            if self.budget.exhausted():
                break
            if guided and better >= self.ctx.settings.guided_keep:
                break
        # Making a list costs about what checking it does: the work done for the lists a
        # guided expansion leaves unchecked is counted where two searches take turns.
        self.unchecked += len(room) - len(children)
        return children

    def _scored(self, state: State, problems: list[SubProblem], moves: list[Move]) -> list[Move]:
        """The moves with the policy's scores, best first; revisions get the median score
        (the policy writes new rules, not revised lists)."""
        rules = list(dict.fromkeys(m.rules[-1] for m in moves
                                   if not m.scored and m.learned is None and m.rules))
        scores = dict(zip(rules, self.guide.score(state, problems, rules, self.ctx)))
        known = sorted(s for s in [*scores.values(), *(m.score for m in moves if m.scored)]
                       if s != float("-inf"))
        median = known[len(known) // 2] if known else 0.0
        out = []
        for m in moves:
            if m.scored:
                out.append(m)
            elif m.learned is not None or not m.rules:
                out.append(replace(m, score=median, scored=True))
            else:
                out.append(replace(m, score=scores.get(m.rules[-1], median), scored=True))
        return sorted(out, key=lambda m: -m.score)

    def _diverse(self, ranked: list[State]) -> list[State]:
        """The states whose profile (which examples they reproduce, and their size) no state
        of this beam had before; the others wait in the reserve. Without this, variants that
        differ only in the wrong values they give crowd out other decompositions."""
        out = []
        for state in ranked:
            profile = (*state.outcome.verdicts, size(self.ctx.program(state.learned)))
            if profile in self.profiles:
                self._keep(state)
            else:
                self.profiles.add(profile)
                out.append(state)
        return out

    def _merged(self, ranked: list[State]) -> list[State]:
        """Observational equivalence: of states of one size with the same value on every
        example, the best ranked only (a later one passes if it ranks strictly better).

        Size is part of the key: `y1 cents y2` may behave on the examples as `y1 cents` does
        and still be the rule that generalises, so the larger is kept beside the smaller.
        """
        out = []
        for state in ranked:
            key = (*state.outcome.values, len(state.learned), size(self.ctx.program(state.learned)))
            best = self.seen.get(key)
            mine = self._rank(state)
            if best is None or mine < best:
                self.seen[key] = mine
                out.append(state)
        return out

    def _finished(self, state: State) -> tuple[Rule, ...]:
        """A complete state's rules in the plugins' preferred order (where the examples
        still hold), then pruned of rules they do not need, latest first."""
        learned = state.learned
        for plugin in self.ctx.plugins:
            ordered = plugin.finish(self.ctx.program(learned), learned, self.ctx.examples)
            if ordered != learned and self._check([ordered])[0].complete:
                learned = ordered
        for rule in reversed(learned):
            trial = tuple(r for r in learned if r is not rule)
            if self._check([trial])[0].complete:
                learned = trial
        return learned
