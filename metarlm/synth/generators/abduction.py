"""The abduction generator: a word no rule reads gets holes that Z3 fills from the examples.

``jump around left twice -> ...`` with the SCAN rules but ``jump`` known gives the sketch
``jump -> ?``, and the one example pins the hole down to ``I_JUMP``. ``joint`` abduces new
words together with a rule of calls that reads them (`turn left -> I_TURN_LEFT` gives
`u1 u2 -> [u2] [u1]`, `turn ->` and `left -> I_TURN_LEFT`). How many words, tokens and
calls are tried are the settings ``abduction_words``, ``hole_tokens``, ``joint_words`` and
``joint_tokens``; every sketch posed counts in the budget's ``z3_calls``, though the kernels
rule out most of them (``fillable``) before the hole solver would see them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence

from metarlm.exec.check import fillable
from metarlm.exec.holes import fill_all
from metarlm.exec.incremental import RIGHT
from metarlm.lang.demo import Example
from metarlm.lang.dsl import Call, Hole, LhsItem, Program, Rule, Token, Var, Word
from metarlm.synth.base import Context, Generator, Move, State, SubProblem, quoted
from metarlm.synth.rule_prior import is_primitive
from metarlm.synth.templates import Binding, bindings, call_patterns, function_words, lhs_templates
from metarlm.types import Budget


def abduce(current: Program, ex: Example, examples: Sequence[Example], lengths: Iterable[int],
           budget: Budget, words: int = 2) -> Iterator[Rule]:
    """Sketches ``w -> ? ...`` (each length in ``lengths``) for words of ``ex`` no rule
    understands, filled by Z3 from the examples.

    The examples that decide are those whose every other word some rule understands; the
    holes must be pinned down uniquely by them.
    """
    mentioned = understood(current)
    unknown = [w for w in dict.fromkeys(ex.input) if w not in mentioned]
    for word in unknown[:words]:
        relevant = [e for e in examples if set(e.input) <= mentioned | {word}]
        # All of them first; when the current rules cannot read some of them (no filling
        # fits all), each of the shortest showing the word alone: the scorer judges the result.
        showing = [e for e in relevant if word in e.input][:3]
        for group in [relevant, *([e] for e in showing)] if showing else []:
            found = False
            sketches = [Program(current.rules + (Rule((Word(word),), tuple(
                Hole(i) for i in range(n))),), current.algebra) for n in lengths]
            for solutions in solved(sketches, group, budget):
                found = found or bool(solutions)
                if len(solutions) == 1:
                    yield solutions[0].rules[-1]
            if found or budget.exhausted():
                break


def solved(sketches: Sequence[Program], examples: Sequence[Example],
           budget: Budget) -> Iterator[list[Program]]:
    """Each sketch's fillings (at most 2) in turn, until the budget ends; a sketch the kernels
    show no filling can fit (``fillable``, one batch for all) gets none without the solver.
    Every sketch counts as a solver call, whichever rules it out."""
    may = fillable(sketches, examples)
    for sketch, ok in zip(sketches, may):
        if budget.exhausted():
            return
        budget.z3_calls += 1
        yield fill_all(sketch, examples, limit=2, timeout_ms=budget.solver_ms()) if ok else []


def joint(background: Program, learned: tuple[Rule, ...], lhs: tuple[LhsItem, ...],
          binding: Binding, ex: Example, examples: Sequence[Example],
          max_calls: int, budget: Budget, most_words: int = 2,
          most_tokens: int = 2) -> Iterator[tuple[Rule, ...]]:
    """Joint abduction: new one-word primitives (holes) and a rule of calls, filled together.

    ``turn left -> I_TURN_LEFT`` with neither word known gives ``u1 u2 -> [u2] [u1]``,
    ``turn ->`` and ``left -> I_TURN_LEFT`` when the examples pin every hole down. Each
    bundle is the new primitives, then the rule of (at most ``max_calls``) calls.
    """
    current = Program(background.rules + learned, background.algebra)
    mentioned = {it.text for r in current.rules for it in r.lhs if isinstance(it, Word)}
    new_words: list[str] = []
    for s, e in binding.values():
        word = ex.input[s] if e - s == 1 else None
        if e - s == 1 and word not in mentioned and word not in new_words:
            new_words.append(word)  # type: ignore[arg-type]
    unknown = [v for v, (s, e) in binding.items() if e - s != 1 or ex.input[s] in new_words]
    if not new_words or len(new_words) > most_words or any(
            binding[v][1] - binding[v][0] != 1 for v in unknown):
        return
    known = mentioned | set(new_words) | {w.text for w in lhs if isinstance(w, Word)}
    relevant = [e for e in examples if set(e.input) <= known]
    variables = [v for v in lhs if isinstance(v, Var)]
    bundles, sketches = [], []
    made: dict[tuple[str, int, int], Rule] = {}  # one object a primitive: lowered once
    calls, every = {v: Call(v) for v in variables}, set(variables)
    for pattern in call_patterns(variables, max_calls):
        if set(pattern) != every:  # every part of the input counts
            continue
        rule = Rule(lhs, tuple(map(calls.__getitem__, pattern)))
        for lengths in itertools.product(range(most_tokens + 1), repeat=len(new_words)):
            prims, k = [], 0
            for word, n in zip(new_words, lengths):
                prim = made.get((word, k, n))
                if prim is None:
                    prim = made[word, k, n] = Rule((Word(word),),
                                                   tuple(Hole(k + i) for i in range(n)))
                prims.append(prim)
                k += n
            bundles.append((len(prims), rule))
            sketches.append(Program(background.rules + tuple(prims) + learned + (rule,)))
    n_bg = len(background)
    for (n_prims, rule), solutions in zip(bundles, solved(sketches, relevant, budget)):
        if len(solutions) == 1:
            yield solutions[0].rules[n_bg:n_bg + n_prims] + (rule,)


def understood(program: Program) -> set[str]:
    """Words with a meaning of their own: those of primitives and of rules that spell no
    token. A word only a memorising rule names (`x1 turn u1 -> I_TURN_LEFT I_JUMP [u1]`)
    can still be abduced (`turn ->`), and the memorising rule is pruned once unneeded."""
    return {it.text for r in program.rules
            if is_primitive(r) or not any(isinstance(i, Token) for i in r.rhs)
            for it in r.lhs if isinstance(it, Word)}


class Abduction(Generator):
    """Unknown words' meanings (``abduce``), one by one and all together."""

    name = "abduction"

    def propose(self, state: State, problems: Sequence[SubProblem],
                ctx: Context) -> Iterable[Move]:
        current = ctx.program(state.learned)
        s = ctx.settings
        lengths = range(s.hole_tokens + 1) if ctx.algebra == "seq" else (1,)
        abduced: dict[tuple[LhsItem, ...], Rule] = {}
        # A language with many new words then needs one step, not one step per word.
        failing = [e for e, v in zip(ctx.examples, state.outcome.verdicts) if v != RIGHT]
        for ex in failing[: s.abduction_examples]:
            for rule in abduce(current, ex, ctx.examples, lengths, ctx.budget,
                               s.abduction_words):
                if all(p.admits(current, rule) for p in ctx.plugins):
                    abduced.setdefault(rule.lhs, rule)
                    ctx.note([rule], f"abduced with Z3 from {quoted(ex)}")
        yield from (Move((rule,), ctx.sources[rule]) for rule in abduced.values())
        if len(abduced) > 1:
            yield Move(tuple(abduced.values()), "abduced with Z3, all together")


class JointAbduction(Generator):
    """New words abduced together with a rule of calls that reads them (``joint``), for
    each sub-problem (sequence algebra)."""

    name = "joint abduction"
    per_problem = True

    def propose(self, state: State, problems: Sequence[SubProblem],
                ctx: Context) -> Iterable[Move]:
        if ctx.algebra != "seq":
            return
        for problem in problems:
            yield from self._joint(state, problem, ctx)

    @staticmethod
    def _joint(state: State, problem: SubProblem, ctx: Context) -> Iterator[Move]:
        ex, s = problem.example, ctx.settings
        if len(ex.input) == 1:
            return
        anchors = function_words(ctx.program(state.learned), ex.input)
        for lhs in lhs_templates(ex.input, s.max_anchors, ctx.kinds, anchors,
                                 bool(s.head_words)):
            for binding in bindings(lhs, ex.input, s.bindings):
                for bundle in joint(ctx.background, state.learned, lhs, binding, ex,
                                    ctx.examples, s.hole_tokens + 1, ctx.budget,
                                    s.joint_words, s.joint_tokens):
                    yield Move(bundle, problem.where())
                if ctx.budget.exhausted():
                    return
