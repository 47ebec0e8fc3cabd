"""The systematic generator: every rule the grammar allows, by size; and the systematic lane,
which enumerates whole programs by size and so makes the search complete in the limit.

A rule's size is one plus its items (``metarlm.types.size``). Rules are made of the
demonstration's own symbols: left-hand words from the examples' inputs, output tokens from
their outputs, variables of the kinds the domain allows, numbered in order of appearance (a
renaming is never enumerated twice). Integer right-hand sides are sums of ``[v]``, ``[v] * ?``
and ``?`` terms whose holes Z3 fills from the examples, so constants no word names are
reachable. A left-hand side that matches no span of any example is never offered: such a rule
changes nothing the examples show. Right-hand sides are at most as long as the longest output
plus two (a longer one can never be part of a derivation the examples show), so the space up
to the domain's max_rules is finite and the lane can say when it is exhausted.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Iterator, Sequence

from metarlm.exec.holes import fill_all
from metarlm.exec.incremental import DemoChecker, Outcome
from metarlm.lang.dsl import Call, Copy, Hole, LhsItem, Program, RhsItem, Rule, Token, Var, Word
from metarlm.synth.base import Context, Generator, Move, State, SubProblem


class Vocabulary:
    """The symbols and bounds of one demonstration's rule space."""

    def __init__(self, ctx: Context) -> None:
        self.words = tuple(sorted(ctx.shown))
        outputs = [e.output for e in ctx.examples]
        self.tokens = tuple(sorted({t for o in outputs if isinstance(o, tuple) for t in o}))
        self.kinds = tuple(k for k in "uxy" if k in ctx.kinds)
        self.algebra = ctx.algebra
        self.inputs = [e.input for e in ctx.examples]
        self.longest_input = max((len(i) for i in self.inputs), default=1)
        longest_output = max((len(o) for o in outputs if isinstance(o, tuple)), default=0)
        self.longest_rhs = longest_output + 2

    @functools.lru_cache(maxsize=64)  # noqa: B019 (one vocabulary per search)
    def lhs_of_length(self, n: int) -> tuple[tuple[LhsItem, ...], ...]:
        """Left-hand sides of ``n`` items that match some span of some example, sorted."""
        found: set[tuple[str, ...]] = set()
        for words in self.inputs:
            for i in range(len(words)):
                for j in range(i + 1, len(words) + 1):
                    found.update(_patterns(words[i:j], n, self.kinds))
        return tuple(_numbered(items) for items in sorted(found))

    def rhs_of_length(self, lhs: tuple[LhsItem, ...], n: int) -> Iterator[tuple[RhsItem, ...]]:
        """Right-hand sides of ``n`` items over the tokens and the left side's variables."""
        variables = [v for v in lhs if isinstance(v, Var)]
        if self.algebra == "int":
            yield from _sums(variables, n)
            return
        pieces: list[RhsItem] = [Token(t) for t in self.tokens]
        pieces += [Call(v) for v in variables] + [Copy(v) for v in variables]
        for items in itertools.product(pieces, repeat=n):
            yield tuple(items)

    def rules_of_size(self, k: int) -> Iterator[Rule]:
        """Every rule of size ``k`` (one plus its items), left sides shortest first."""
        for n_lhs in range(1, min(k - 1, self.longest_input) + 1):
            n_rhs = k - 1 - n_lhs
            if n_rhs > self.longest_rhs:
                continue
            for lhs in self.lhs_of_length(n_lhs):
                for rhs in self.rhs_of_length(lhs, n_rhs):
                    yield Rule(lhs, rhs)

    @functools.lru_cache(maxsize=1 << 16)  # noqa: B019 (one vocabulary per search)
    def spans(self, lhs: tuple[LhsItem, ...]) -> frozenset[tuple[int, int, int]]:
        """The spans of the examples' inputs that ``lhs`` matches: (example, start, end)."""
        return frozenset((k, i, j) for k, words in enumerate(self.inputs)
                         for i in range(len(words)) for j in range(i + 1, len(words) + 1)
                         if _matches(lhs, words[i:j]))

    def commuted(self, first: Rule, second: Rule) -> bool:
        """Whether two adjacent rules stand out of their canonical order although no span of
        the examples is matched by both: on the examples either order means the same, so one
        order is enough."""
        if self.spans(first.lhs) & self.spans(second.lhs):
            return False
        return repr(second) < repr(first)

    def largest_rule(self) -> int:
        """The size of the largest rule in the space."""
        rhs = self.longest_rhs if self.algebra == "seq" else 2 * self.longest_input + 1
        return 1 + self.longest_input + rhs


def _patterns(words: Sequence[str], n: int, kinds: Sequence[str]) -> Iterator[tuple[str, ...]]:
    """Left sides of ``n`` items (words, and kinds for variables) that match ``words``."""
    def go(pos: int, left: int) -> Iterator[tuple[str, ...]]:
        if left == 0:
            if pos == len(words):
                yield ()
            return
        rest = len(words) - pos
        if rest:
            for tail in go(pos + 1, left - 1):
                yield (words[pos], *tail)
        for kind in kinds:
            lengths = {"u": (1,), "x": range(1, rest + 1), "y": range(rest + 1)}[kind]
            for length in lengths:
                if length <= rest:
                    for tail in go(pos + length, left - 1):
                        yield (kind, *tail)

    return go(0, n)


def _matches(lhs: tuple[LhsItem, ...], words: Sequence[str]) -> bool:
    """Whether ``lhs`` matches exactly ``words``."""
    def go(k: int, pos: int) -> bool:
        if k == len(lhs):
            return pos == len(words)
        item = lhs[k]
        if isinstance(item, Word):
            return pos < len(words) and words[pos] == item.text and go(k + 1, pos + 1)
        low = {"u": 1, "x": 1, "y": 0}[item.kind]
        high = 1 if item.kind == "u" else len(words) - pos
        return any(go(k + 1, pos + m) for m in range(low, high + 1))

    return go(0, 0)


def _numbered(items: Sequence[str]) -> tuple[LhsItem, ...]:
    """Words and variable kinds as a left-hand side, variables numbered by appearance."""
    counts = {"u": 0, "x": 0, "y": 0}
    out: list[LhsItem] = []
    for item in items:
        if item in counts and len(item) == 1:
            counts[item] += 1
            out.append(Var(item, counts[item]))  # type: ignore[arg-type]
        else:
            out.append(Word(item))
    return tuple(out)


def _sums(variables: list[Var], n: int) -> Iterator[tuple[RhsItem, ...]]:
    """Integer right-hand sides of ``n`` terms: each variable at most once, as ``[v]`` or
    ``[v] * ?``, and at most one constant ``?`` last; holes numbered left to right."""
    for k in (n, n - 1):  # n calls, or n - 1 calls and a constant
        if k < 0 or k > len(variables):
            continue
        for chosen in itertools.combinations(variables, k):
            for scaled in itertools.product((False, True), repeat=k):
                terms: list[RhsItem] = []
                holes = 0
                for var, sc in zip(chosen, scaled):
                    terms.append(Call(var, Hole(holes)) if sc else Call(var))
                    holes += sc
                if k == n - 1:
                    terms.append(Hole(holes))
                yield tuple(terms)


def _filled(ctx: Context, learned: tuple[Rule, ...], examples: Sequence) -> tuple[Rule, ...] | None:
    """The rule list with its holes filled by Z3 to reproduce ``examples`` (None if none)."""
    program = ctx.program(learned)
    if not program.holes():
        return learned
    ctx.budget.z3_calls += 1
    found = fill_all(_renumbered(program), list(examples), limit=1,
                     timeout_ms=ctx.budget.solver_ms())
    return found[0].rules[len(ctx.background):] if found else None


def _renumbered(program: Program) -> Program:
    """The program with its holes numbered left to right across all rules."""
    count = itertools.count()

    def item(it: RhsItem) -> RhsItem:
        if isinstance(it, Hole):
            return Hole(next(count))
        if isinstance(it, Call) and isinstance(it.scale, Hole):
            return Call(it.var, Hole(next(count)))
        return it

    return Program(tuple(Rule(r.lhs, tuple(item(i) for i in r.rhs)) for r in program.rules),
                   program.algebra)


class Systematic(Generator):
    """Rules by size whose left side covers a sub-problem's whole span, once the beams are
    spent; each sub-problem's enumeration resumes where the last state left it."""

    name = "systematic"
    reserve_only = True
    per_problem = True

    def __init__(self) -> None:
        self.cursors: dict[tuple[str, ...], Iterator[Rule]] = {}
        self.vocabulary: Vocabulary | None = None

    def propose(self, state: State, problems: Sequence[SubProblem],
                ctx: Context) -> Iterable[Move]:
        vocab = self.vocabulary = self.vocabulary or Vocabulary(ctx)
        for problem in problems:
            words = problem.example.input
            cursor = self.cursors.setdefault(words, self._rules(vocab, words))
            for rule in itertools.islice(cursor, ctx.settings.systematic_rules):
                filled = _filled(ctx, state.learned + (rule,), [problem.example])
                if filled is not None:
                    yield Move((filled[-1],), f"the systematic generator, for {problem.where()}")
                if ctx.budget.exhausted():
                    return

    @staticmethod
    def _rules(vocab: Vocabulary, words: tuple[str, ...]) -> Iterator[Rule]:
        for k in range(2, vocab.largest_rule() + 1):
            for rule in vocab.rules_of_size(k):
                if _matches(rule.lhs, words):
                    yield rule


class SystematicLane:
    """Whole learned rule lists by total size (``step`` checks the next chunk).

    Rule lists come in groups that share all rules but the last, and each group is checked
    as the children of its parent (``DemoChecker.extend``): one kernel call per group.
    """

    def __init__(self, ctx: Context, checker: DemoChecker) -> None:
        self.ctx, self.checker = ctx, checker
        self.vocabulary = Vocabulary(ctx)
        self.groups = self._groups()
        self.parents: dict[tuple[Rule, ...], Outcome] = {}
        self.open = True
        self.checks = 0

    def step(self) -> list[State]:
        """The next chunk of rule lists, checked; ``open`` turns False when none are left."""
        out: list[State] = []
        for head, lasts in self.groups:
            out += self._children(head, lasts)
            if len(out) >= self.ctx.settings.chunk or self.ctx.budget.exhausted():
                return out
        self.open = False
        return out

    def _children(self, head: tuple[Rule, ...], lasts: list[Rule]) -> list[State]:
        ctx = self.ctx
        if ctx.algebra == "int":  # sketches: each filled by Z3, then checked whole
            lists = []
            for rule in lasts:
                if ctx.budget.exhausted():
                    break
                filled = _filled(ctx, head + (rule,), ctx.examples)
                if filled is not None:
                    lists.append(filled)
            self.checks += len(lists)
            ctx.budget.candidates += len(lists)
            return [State(ls, o) for ls, o in zip(lists, self.checker.check(lists))]
        known = self.parents.get(head)
        if known is None:
            if len(self.parents) > 100_000:  # heads come depth first: old ones are done with
                self.parents.clear()
            known = self.parents[head] = self.checker.check([head])[0]
            ctx.budget.candidates += 1
        pos = len(head)
        outcomes = self.checker.extend(head, known, [(pos, r) for r in lasts])
        self.checks += len(lasts)
        ctx.budget.candidates += len(lasts)
        return [State(head + (r,), o) for r, o in zip(lasts, outcomes)]

    def _groups(self) -> Iterator[tuple[tuple[Rule, ...], list[Rule]]]:
        most = self.ctx.max_rules
        largest = self.vocabulary.largest_rule()
        for total in itertools.count(2):
            if total > most * largest:
                return
            yield from self._of_size(total, most, ())

    def _of_size(self, total: int, room: int,
                 head: tuple[Rule, ...]) -> Iterator[tuple[tuple[Rule, ...], list[Rule]]]:
        """Groups of rule lists extending ``head`` whose rules' sizes add up to ``total``:
        (all rules but the last, the last rules)."""
        if room == 0 or total < 2:
            return
        lasts = (r for r in self.vocabulary.rules_of_size(total) if self._fits(head, r))
        while chunk := list(itertools.islice(lasts, self.ctx.settings.chunk)):
            yield head, chunk
        if room == 1:
            return
        for k in range(2, total - 1):  # a rule of size k, then rules of total - k >= 2
            for rule in self.vocabulary.rules_of_size(k):
                if self._fits(head, rule):
                    yield from self._of_size(total - k, room - 1, head + (rule,))

    def _fits(self, head: tuple[Rule, ...], rule: Rule) -> bool:
        """A rule may follow ``head``: not already in it, in canonical order after its last."""
        return rule not in head and not (head and self.vocabulary.commuted(head[-1], rule))
