"""Enumerative rule induction: find rules that reproduce a demonstration, with no model.

The enumerator grows a program one rule at a time (a beam over rule lists), in order of size:

1. Primitives. A one-word example ``w -> out`` gives the rule ``w -> out`` directly; a word
   and a token that occur in exactly the same examples give one too (cross-situational).
2. Decomposition. For an example the current rules do not reproduce, left-hand sides are
   drawn from its input: one or two *anchor* words kept literally, the gaps between them
   turned into variables (``u`` for one word, ``x`` for a longer or any gap), plus the
   anchor-free ``u1 u2``, ``u1 x1`` and ``x1 u1``. Each binding cuts the example into
   sub-demonstrations (the gaps), which the current rules interpret; the right-hand side is
   then read off the output by segmenting it into sub-values ``[v]``, copies ``v`` and
   literal tokens (sequence algebra, every variable used), or, in the integer algebra, made
   a sum of ``[v] * k`` terms whose constants the rule's words name, or that Z3 fits when
   they name none (``metarlm.synth.integer_rules``).
3. Cuts. The rules already learned cut a failing example top-down into the span they cannot
   read yet and the output it must have (``metarlm.synth.decompose``): "jump left twice after
   walk" yields "jump left -> I_TURN_LEFT I_JUMP", from which step 2 reads ``u1 u2``;
   "cinq cent quatre vingts" (580) yields "quatre vingts -> 80".
4. Abduction. A word no rule covers gets a sketch ``w -> ? ...`` whose holes Z3 fills from
   the examples that mention it (the one-shot case: background rules plus one example); the
   words abduced in one step are also tried all together. A word may only mean tokens that
   every example showing it has.
5. Revisions (``metarlm.synth.revise``): a learned rule dropped, moved earlier or widened.

Candidates that behave identically on the demonstration are merged (observational
equivalence); each new rule is tried at every position among the learned rules, and a beam
keeps the rule lists that reproduce the most examples, less those they give a wrong value
(a rule that reads too much is worse than one that reads too little), with the fewest
symbols. A complete program is put in precedence order where the examples allow it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from metarlm.lang.demo import Example
from metarlm.lang.dsl import Call, Const, Copy, LhsItem, Program, Rule, Token, Var, Word
from metarlm.lang.interp import Ok, evaluate
from metarlm.synth.abduction import abduce, joint
from metarlm.synth.integer_rules import (
    base_guards,
    bases_first,
    fitted_rules,
    grounded_rules,
    inflection_kept,
    word_values,
)
from metarlm.synth.revise import precedence_order, repairs
from metarlm.synth.rule_prior import (
    anchored,
    cooccurring,
    inversions,
    is_primitive,
    narrowness,
    plausible,
    positions,
    prior_cost,
    scale,
)
from metarlm.synth.templates import (
    bindings,
    known_parts,
    lhs_templates,
    segmentations,
)
from metarlm.types import Budget, size

Scorer = Callable[[Sequence[Program]], list[tuple[bool, ...]]]


@dataclass(frozen=True)
class EnumConfig:
    """Knobs of the enumerator: beam width, anchors, right-hand side length, segmentations."""

    beam: int = 4
    max_anchors: int = 2
    max_rhs: int = 12
    max_segmentations: int = 24
    max_hole_tokens: int = 3
    examples_per_step: int = 3
    # Integer rules with constants the words name cost no solver, so more failing examples
    # are read per step: a rule such as `x1 cent y1` that explains many of them at once is
    # then seen before narrower ones crowd the beam.
    int_examples_per_step: int = 6
    abduction_examples: int = 8  # failing examples whose unknown words are abduced per step
    cut_examples: int = 8  # failing examples cut into sub-demonstrations per step


def reference_scorer(examples: Sequence[Example]) -> Scorer:
    """Per-example verdicts of each program, by the reference interpreter."""

    def score(programs: Sequence[Program]) -> list[tuple[bool, ...]]:
        return [tuple(_reproduces(p, e) for e in examples) for p in programs]

    return score


def kernel_scorer(examples: Sequence[Example]) -> Scorer:
    """Per-example verdicts of each program, checked in batches by the kernels."""
    from metarlm.exec.check import example_verdicts

    def score(programs: Sequence[Program]) -> list[tuple[bool, ...]]:
        return [tuple(row) for row in example_verdicts(programs, examples).tolist()]

    return score


def _reproduces(program: Program, example: Example) -> bool:
    result = evaluate(program, example.input)
    return isinstance(result, Ok) and result.value == example.output


@dataclass(frozen=True)
class _State:
    learned: tuple[Rule, ...]
    verdicts: tuple[bool, ...]
    wrong: int = 0  # examples given a value other than their output

    @property
    def solved(self) -> int:
        return sum(self.verdicts)


class Enumerator:
    """Rule-by-rule enumeration over one demonstration (see the module docstring)."""

    def __init__(self, examples: Sequence[Example], background: Program | None,
                 algebra: str, budget: Budget, config: EnumConfig | None = None,
                 scorer: Scorer | None = None, kinds: frozenset[str] = frozenset("ux")) -> None:
        self.examples = tuple(sorted(examples, key=lambda e: len(e.input)))
        self.background = background or Program((), algebra)  # type: ignore[arg-type]
        self.algebra = algebra
        self.budget, self.config = budget, config or EnumConfig()
        self.scorer = scorer or kernel_scorer(self.examples)
        self.kinds = kinds
        self.seen: set[tuple[bool, ...] | tuple[Rule, ...]] = set()
        self.cooccur = cooccurring(self.examples) if algebra == "seq" else {}
        self.shown = {w for e in self.examples for w in e.input}
        self.sources: dict[Rule, str] = {}  # where each rule was first proposed

    def origins(self, learned: Sequence[Rule]) -> dict[Rule, str]:
        """Where each learned rule came from: the example or cut (with its level) it was
        read off, abduction, a one-word example, or a revision of an earlier rule."""
        return {r: self.sources.get(r, "a revision of a learned rule") for r in learned}

    def _note(self, rules: Sequence[Rule], source: str) -> None:
        for rule in rules:
            self.sources.setdefault(rule, source)

    @property
    def _per_step(self) -> int:
        """Failing examples (and as many cuts) read for new rules per step."""
        return (self.config.int_examples_per_step if self.algebra == "int"
                else self.config.examples_per_step)

    def program(self, learned: Sequence[Rule]) -> Program:
        return Program(self.background.rules + tuple(learned), self.algebra)  # type: ignore[arg-type]

    def run(self) -> Iterator[Program]:
        """Yield consistent programs (a level's smallest first) until the budget ends.

        With cross-situational primitives, the search starting from them runs first and the
        one without them after: in one beam, the cheap memorising rules of the bare start
        crowd out the branch whose general rules pay off only later.
        """
        prims = tuple(self._primitives())
        paired = tuple(self._paired_primitives(prims))
        given: set[tuple[Rule, ...]] = set()
        for start in ([paired + prims, prims] if paired else [prims]):
            self.seen.clear()
            for learned in self._beam(self._score([start])[0]):
                if learned not in given:
                    given.add(learned)
                    yield self.program(learned)
            if self.budget.exhausted():
                return

    def _beam(self, start: _State) -> Iterator[tuple[Rule, ...]]:
        """Learned rule lists that complete the demonstration, grown from ``start``."""
        if all(start.verdicts):
            yield self._pruned(start)
            return
        beam = [start]
        for _ in range(64):
            beam = [s for s in beam if not all(s.verdicts)]
            if not beam or self.budget.exhausted():
                return
            # States far behind the best of their level are not grown: on number words each
            # growth costs seconds of hole filling, and they rarely catch up.
            lead = max(s.solved for s in beam)
            successors: list[_State] = []
            for state in (s for s in beam if 4 * s.solved >= 3 * lead):  # best first
                grown = self._expand(state)
                successors.extend(grown)
                # A complete program is given at once, before the rest of the level is grown:
                # the first answer then costs one branch, not a whole level.
                yield from sorted((self._pruned(s) for s in grown if all(s.verdicts)),
                                  key=lambda ls: size(self.program(ls)))
                if self.budget.exhausted():
                    return
            beam = sorted(successors, key=self._rank)[: self.config.beam]

    def _pruned(self, state: _State) -> tuple[Rule, ...]:
        """Drop learned rules the demonstration does not need (latest first), after putting
        the rules in their order of precedence where the demonstration allows it."""
        learned = self._by_precedence(state.learned)
        for rule in reversed(learned):
            trial = tuple(r for r in learned if r is not rule)
            if all(self._score([trial])[0].verdicts):
                learned = trial
        return learned

    def _by_precedence(self, learned: tuple[Rule, ...]) -> tuple[Rule, ...]:
        """The rules in precedence order (``revise.precedence_order``; integer algebra:
        ``integer_rules.bases_first``) if the demonstration still holds in that order, else
        as they are."""
        if self.algebra == "seq":
            ordered = precedence_order(self.program(learned), learned, self.examples)
        else:
            ordered = bases_first(learned)
        if ordered != learned and all(self._score([ordered])[0].verdicts):
            return ordered
        return learned

    def _rank(self, state: _State) -> tuple[int, ...]:
        # Ties in size go to factors nested by size (`x1 thousand x2` before `x1 hundred x2`),
        # then to larger factors (the part after a multiplier word is smaller than it: `two
        # thousand three hundred` is 2*1000+300, not 2*10+3 read by the hundreds rule),
        # then to rules anchored on a word (`u1 fep` over `u1 u2`), then to the
        # more general variables in anchored rules (`y1 twice` over `x1 twice` over `u1 twice`)
        # and the narrower ones in rules of variables alone (`u1 u2` over `x1 x2`, which fits
        # anything).
        loose = sum(1 for r in state.learned if not anchored(r))
        narrow = sum(narrowness(v, anchored(r)) for r in state.learned for v in r.variables())
        return (-state.solved + state.wrong,
                size(self.program(state.learned)) + prior_cost(state.learned),
                inversions(state.learned), -sum(map(scale, state.learned)), loose, narrow)

    def _contradicted(self, state: _State) -> _State:
        """The state with ``wrong`` counted: failing examples the rules give some value."""
        from metarlm.exec.check import run_many

        failing = [e for e, ok in zip(self.examples, state.verdicts) if not ok]
        results = run_many(self.program(state.learned), [e.input for e in failing])
        return replace(state, wrong=sum(isinstance(r, Ok) for r in results))

    def _score(self, learned_lists: Sequence[tuple[Rule, ...]]) -> list[_State]:
        self.budget.candidates += len(learned_lists)
        verdicts = self.scorer([self.program(ls) for ls in learned_lists])
        return [_State(ls, v) for ls, v in zip(learned_lists, verdicts)]

    def _primitives(self) -> list[Rule]:
        """Rules read straight off one-word examples: `dax -> RED`, or `u1 -> u1` (kept last)
        when a word stands for itself, as identifiers do in code."""
        rules, covered, copies = [], set(), False
        for ex in self.examples:
            if len(ex.input) != 1 or ex.input[0] in covered or _reproduces(self.background, ex):
                continue
            covered.add(ex.input[0])
            if isinstance(ex.output, int):
                if ex.output >= 0:  # no literal of the language is negative
                    rules.append(Rule((Word(ex.input[0]),), (Const(ex.output),)))
            elif ex.output == ex.input and "u" in self.kinds:
                copies = True
            else:
                rules.append(_word_meaning(ex))
        if copies:
            u1 = Var("u", 1)
            rules.append(Rule((u1,), (Copy(u1),)))
        self._note(rules, "a one-word example")
        return rules

    def _paired_primitives(self, known: Sequence[Rule]) -> Iterator[Rule]:
        """Cross-situational primitives: ``w -> t`` when word w and output token t occur in
        exactly the same examples, at least two of them (sequence algebra only).

        SCAN's `jump` is the one word of every example whose output holds I_JUMP, even when no
        example shows `jump` alone; such a guess starts a second branch of the search, beside
        the one without it, so the examples still decide.
        """
        if self.algebra != "seq":
            return
        covered = {it.text for r in (*self.background.rules, *known) for it in r.lhs
                   if isinstance(it, Word)}
        outputs = [set(ex.output) for ex in self.examples]  # type: ignore[arg-type]
        inputs = [set(ex.input) for ex in self.examples]
        tokens = set().union(*outputs)
        for word in sorted(set().union(*inputs) - covered):
            where = [word in words for words in inputs]
            if sum(where) < 2:
                continue
            paired = [t for t in sorted(tokens) if t != word
                      and [t in out for out in outputs] == where]
            if len(paired) == 1:
                rule = Rule((Word(word),), (Token(paired[0]),))
                self._note([rule], "a word and a token shown in the same examples")
                yield rule

    def _expand(self, state: _State) -> list[_State]:
        """Successor states: the state plus a bundle of new rules, strictly better.

        Cheap candidates (abduced words, right-hand sides read off the output) are generated
        first, then the joint abductions of new words, so a tight budget still scores them.
        """
        failing = [e for e, ok in zip(self.examples, state.verdicts) if not ok]
        bundles: dict[tuple[Rule, ...], None] = {}
        # Abduced words one by one, and all of them at once: a language with many new words
        # (Italian `vent`, `trent`, `tré`, ...) then needs one step, not one step per word.
        current = self.program(state.learned)
        abduced: dict[tuple[LhsItem, ...], Rule] = {}
        for ex in failing[: self.config.abduction_examples]:
            for rule in self._abduce(current, ex):
                abduced.setdefault(rule.lhs, rule)
                self._note([rule], f"abduced with Z3 from {_quoted(ex)}")
        bundles.update({(rule,): None for rule in abduced.values()})
        if len(abduced) > 1:
            bundles[tuple(abduced.values())] = None
        sources = [(ex, 0) for ex in failing[: self._per_step]] + self._cuts(current, failing)
        for k, (ex, cuts) in enumerate(sources):
            where = (f"level {cuts + 1}: read off "
                     + (f"{_quoted(ex)}" if not cuts else f"the cut {_quoted(ex, True)}"))
            if len(ex.input) == 1:  # a word's meaning, read off a cut
                meaning = _word_meaning(ex)
                if self.algebra == "seq" or inflection_kept(current, meaning):
                    bundles.setdefault((meaning,), None)
                    self._note([meaning], where)
                continue
            # Z3 fits (seconds on number words) for the first few failing examples only
            fit = k < min(self.config.examples_per_step, len(failing))
            for bundle in self._candidate_rules(state, ex, fit):
                bundles.setdefault(bundle, None)
                self._note(bundle, where)
                if self.budget.exhausted():
                    break
        # Revisions in the sequence algebra only: an integer rule list's revisions cost Z3
        # fits that number words (Italian at 20 s) cannot spare.
        lists = repairs(state.learned) if self.algebra == "seq" else []
        for bundle in (b for b in bundles if plausible(b, self.cooccur)):
            prims = tuple(r for r in bundle if is_primitive(r))
            rules = [r for r in bundle if not is_primitive(r)]
            base = prims + state.learned  # new primitives go first
            if len(rules) > 1:  # guards (`integer_rules.base_guards`) right after primitives
                n = sum(map(is_primitive, base))
                base = base[:n] + tuple(rules[:-1]) + base[n:]
            if rules:
                lists += [base[:pos] + (rules[-1],) + base[pos:]
                          for pos in positions(base, rules[-1])]
            else:
                lists.append(base)
        scored: list[_State] = []
        for chunk in _chunks(lists, 256):
            scored.extend(c for c in self._score(chunk) if c.solved > state.solved)
            if self.budget.exhausted():
                break
        scored = [self._contradicted(c) for c in scored]
        out = []
        # Observational equivalence: of the rule lists with the same verdicts and size, keep
        # the best ranked one only.
        for cand in sorted(scored, key=self._rank):
            key = cand.verdicts + (size(self.program(cand.learned)),)
            if key not in self.seen:
                self.seen.add(key)
                out.append(cand)
        return out

    def _cuts(self, current: Program, failing: Sequence[Example]) -> list[tuple[Example, int]]:
        """The shortest sub-demonstrations that cutting failing examples at the learned rules
        gives (``decompose.cut_levels``), each with how many cuts deep it lies."""
        from metarlm.synth.decompose import cut_levels

        subs: dict[Example, int] = {}
        for ex in failing[: self.config.cut_examples]:
            for sub, cuts in cut_levels(current, ex).items():
                subs[sub] = min(cuts, subs.get(sub, cuts))
        return sorted(subs.items(), key=lambda item: len(item[0].input))[: self._per_step]

    def _candidate_rules(self, state: _State, ex: Example,
                         fit: bool = True) -> Iterator[tuple[Rule, ...]]:
        current = self.program(state.learned)
        # Function words (those no rule interprets alone) make the anchors when there are any.
        loose = frozenset(w for w in ex.input if not isinstance(evaluate(current, (w,)), Ok))
        templates = list(lhs_templates(ex.input, self.config.max_anchors, self.kinds,
                                       loose or None))
        for lhs in templates:
            for binding in bindings(lhs, ex.input):
                yield from self._rhs_for(state, lhs, binding, ex, fit)
        for lhs in templates:
            for binding in bindings(lhs, ex.input):
                yield from self._joint(state, lhs, binding, ex)

    def _rhs_for(self, state: _State, lhs: tuple[LhsItem, ...],
                 binding: dict[Var, tuple[int, int]], ex: Example,
                 fit: bool = True) -> Iterator[tuple[Rule, ...]]:
        current = self.program(state.learned)
        values: dict[Var, object] = {}
        for var, (s, e) in binding.items():
            if s == e:
                values[var] = () if self.algebra == "seq" else 0
                continue
            result = evaluate(current, ex.input[s:e])
            if isinstance(result, Ok):
                values[var] = result.value
        if self.algebra == "seq":
            words = {v: ex.input[s:e] for v, (s, e) in binding.items()}
            assert isinstance(ex.output, tuple)
            bound = {v for v in lhs if isinstance(v, Var)}
            for rhs in segmentations(ex.output, values, words, self.config.max_segmentations,
                                     self.config.max_rhs):  # type: ignore[arg-type]
                if {i.var for i in rhs if isinstance(i, (Call, Copy))} == bound:
                    yield (Rule(lhs, rhs),)
        else:
            for rule in self._int_rules(state, lhs, values, ex, fit):
                yield (rule,)
                guards = base_guards(current, rule, self.shown) if "y" in self.kinds else ()
                if guards:
                    yield guards + (rule,)

    def _joint(self, state: _State, lhs: tuple[LhsItem, ...],
               binding: dict[Var, tuple[int, int]], ex: Example) -> Iterator[tuple[Rule, ...]]:
        """Joint abduction (``abduction.joint``), sequence algebra only."""
        if self.algebra == "seq":
            yield from joint(self.background, state.learned, lhs, binding, ex, self.examples,
                             self.config.max_hole_tokens + 1, self.budget)

    def _int_rules(self, state: _State, lhs: tuple[LhsItem, ...], values: dict[Var, object],
                   ex: Example, fit: bool = True) -> Iterator[Rule]:
        """Integer right-hand sides for ``lhs`` that give ``ex`` its value.

        When every word of ``lhs`` names a value (its own, or that of the word it inflects),
        the constants are what the words name (``integer_rules.grounded_rules``), so one
        example is evidence enough; otherwise, or when those give nothing for an
        inflection's guess, Z3 fits constants the examples pin down if ``fit`` is set.
        """
        if any(isinstance(v, Var) and v not in values for v in lhs):
            return  # every part of a number counts: no rule may ignore a word it binds
        current = self.program(state.learned)
        if not known_parts(current, lhs, ex.input):
            return
        named = word_values(current, lhs)
        found = False
        if named is not None:
            for rule in grounded_rules(lhs, values, ex.output, named):  # type: ignore[arg-type]
                found = True
                yield rule
        if fit and (named is None or (named.guessed and not found)):
            yield from fitted_rules(self.background, state.learned, lhs, ex, self.examples,
                                    self.budget)

    def _abduce(self, current: Program, ex: Example) -> Iterator[Rule]:
        """Meanings for the words of ``ex`` no rule reads (``metarlm.synth.abduction.abduce``); in
        the integer algebra, a word that looks like an inflection of a known one means what
        that one does (`vingts -> 20`, never a value fitted by rote such as `vingts -> 76`)."""
        lengths = range(self.config.max_hole_tokens + 1) if self.algebra == "seq" else (1,)
        yield from (rule for rule in abduce(current, ex, self.examples, lengths, self.budget)
                    if self.algebra == "seq" or inflection_kept(current, rule))


def _word_meaning(ex: Example) -> Rule:
    """The rule a one-word example states: `dax -> RED`, `vingts -> 20`."""
    if isinstance(ex.output, int):
        return Rule((Word(ex.input[0]),), (Const(ex.output),))
    return Rule((Word(ex.input[0]),), tuple(Token(t) for t in ex.output))


def _quoted(ex: Example, with_output: bool = False, most: int = 8) -> str:
    """An example's input in quotes, with its output when asked (long ones shortened)."""
    text = " ".join(ex.input)
    if with_output:
        out = ex.output if isinstance(ex.output, int) else ex.output[:most]
        shown = str(out) if isinstance(out, int) else " ".join(out)
        more = " …" if not isinstance(ex.output, int) and len(ex.output) > most else ""
        text += f" -> {shown}{more}"
    return f"“{text}”"


def _chunks(items: list, n: int) -> Iterator[list]:
    for i in range(0, len(items), n):
        yield items[i:i + n]
