"""The read-off generator: rules read straight off a sub-problem's input and output.

Left-hand sides come from the input: one or two *anchor* words kept literally (function
words, those no rule reads alone, when there are any), the gaps between them made variables
(``u`` for one word, ``x`` for a longer or any gap, ``y`` at an edge where allowed), plus the
anchor-free ``u1 u2``, ``u1 x1`` and ``x1 u1``. Each binding cuts the input into parts that
the current rules interpret; the right-hand side is then read off the output: in the
sequence algebra by segmenting it into the parts' values ``[v]``, copies ``v`` and literal
tokens, every variable used; in the integer algebra as a sum (``generators.sums``). A
sub-problem of one word states that word's meaning outright.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from metarlm.lang.demo import Example
from metarlm.lang.dsl import Call, Const, Copy, LhsItem, Rule, Token, Var, Word
from metarlm.lang.interp import Ok
from metarlm.synth.base import Context, Generator, Move, State, SubProblem
from metarlm.synth.generators.sums import sum_rules
from metarlm.synth.templates import (
    Binding,
    bindings,
    function_words,
    lhs_templates,
    segmentations,
    value,
)


def word_meaning(ex: Example) -> Rule:
    """The rule a one-word example states: `dax -> RED`, `vingts -> 20`."""
    if isinstance(ex.output, int):
        return Rule((Word(ex.input[0]),), (Const(ex.output),))
    return Rule((Word(ex.input[0]),), tuple(Token(t) for t in ex.output))


class ReadOff(Generator):
    """Rules read off each sub-problem (module docstring)."""

    name = "read-off"
    per_problem = True

    def propose(self, state: State, problems: Sequence[SubProblem],
                ctx: Context) -> Iterable[Move]:
        for problem in problems:
            if len(problem.example.input) == 1:
                yield from self._meaning(state, problem, ctx)
                continue
            # Z3 fits (seconds on number words) for the first few failing examples only
            fit = problem.level == 1 and problem.index < ctx.settings.fit_examples
            for bundle in self._rules(state, problem.example, ctx, fit):
                yield Move(bundle, problem.where())
                if ctx.budget.exhausted():
                    return

    @staticmethod
    def _meaning(state: State, problem: SubProblem, ctx: Context) -> Iterator[Move]:
        """The meaning a one-word sub-problem states, if the plugins believe it (a cut can
        read a word by rote: `vingts -> 76` where `vingt` means 20)."""
        ex = problem.example
        if isinstance(ex.output, int) and ex.output < 0:
            return  # no literal of the language is negative
        rule = word_meaning(ex)
        if problem.level == 1 or all(p.admits(ctx.program(state.learned), rule)
                                     for p in ctx.plugins):
            yield Move((rule,), problem.where())

    def _rules(self, state: State, ex: Example, ctx: Context,
               fit: bool) -> Iterator[tuple[Rule, ...]]:
        current = ctx.program(state.learned)
        s = ctx.settings
        anchors = function_words(current, ex.input)
        for lhs in lhs_templates(ex.input, s.max_anchors, ctx.kinds, anchors,
                                 bool(s.head_words)):
            for binding in bindings(lhs, ex.input, s.bindings):
                yield from self._rhs(state, lhs, binding, ex, ctx, fit)

    def _rhs(self, state: State, lhs: tuple[LhsItem, ...], binding: Binding,
             ex: Example, ctx: Context, fit: bool) -> Iterator[tuple[Rule, ...]]:
        current = ctx.program(state.learned)
        values: dict[Var, object] = {}
        for var, (s, e) in binding.items():
            if s == e:
                values[var] = () if ctx.algebra == "seq" else 0
                continue
            result = value(current, tuple(ex.input[s:e]))
            if isinstance(result, Ok):
                values[var] = result.value
        if ctx.algebra == "seq":
            words = {v: ex.input[s:e] for v, (s, e) in binding.items()}
            assert isinstance(ex.output, tuple)
            bound = {v for v in lhs if isinstance(v, Var)}
            for rhs in segmentations(ex.output, values, words,  # type: ignore[arg-type]
                                     ctx.settings.max_segmentations, ctx.settings.max_rhs):
                if {i.var for i in rhs if isinstance(i, (Call, Copy))} == bound:
                    yield (Rule(lhs, rhs),)
            return
        for rule in sum_rules(ctx, state.learned, lhs, values, ex, fit):
            yield (rule,)
            for plugin in ctx.plugins:
                yield from plugin.bundles(current, rule, ctx)
