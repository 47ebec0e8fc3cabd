"""Integer right-hand sides for a left-hand side read off an example: named, or fitted by Z3.

For a left-hand side whose every bound part the current rules read, a plugin may name the
right-hand sides outright (``Plugin.sum_rules``: ``numerals`` takes constants from what the
words name); otherwise, or when the plugin asks for it, a sketch ``[v] * ? + ... + ?`` has its
constants fitted by Z3 to the examples it applies to, and kept only when they pin them down
(``fitted_rules``). Every solver call counts in the budget's ``z3_calls``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from metarlm.exec.holes import fill_all
from metarlm.lang.demo import Example
from metarlm.lang.dsl import LhsItem, Program, Rule, Var
from metarlm.synth.base import Context, Plugin
from metarlm.synth.placement import positions
from metarlm.synth.templates import int_shapes, known_parts, normal
from metarlm.types import Budget


def sum_rules(ctx: Context, learned: tuple[Rule, ...], lhs: tuple[LhsItem, ...],
              values: dict[Var, object], ex: Example, fit: bool) -> Iterator[Rule]:
    """Integer rules for ``lhs`` that give ``ex`` its value; Z3 fits only when ``fit``."""
    if any(isinstance(v, Var) and v not in values for v in lhs):
        return  # every part of a number counts: no rule may ignore a part it binds
    current = ctx.program(learned)
    if not known_parts(current, lhs, ex.input):
        return
    also_fit = True
    for plugin in ctx.plugins:
        rules, wants = plugin.sum_rules(current, lhs, values, ex.output)  # type: ignore[arg-type]
        yield from rules
        also_fit = also_fit and wants
    if fit and also_fit:
        yield from fitted_rules(ctx.background, learned, lhs, ex, ctx.examples, ctx.budget,
                                ctx.plugins)


def fitted_rules(background: Program, learned: tuple[Rule, ...], lhs: tuple[LhsItem, ...],
                 ex: Example, examples: Sequence[Example], budget: Budget,
                 plugins: Sequence[Plugin] = ()) -> Iterator[Rule]:
    """Integer right-hand sides whose constants the examples determine uniquely (Z3).

    The sketch is tried at each place among the ``learned`` rules (precedence changes which
    examples it sees); the constants must be pinned down by more examples than holes.
    When the examples it applies to disagree (Italian `due cento` is 200, not 2 + 100,
    until a rule for `cento` comes first), those as long as ``ex`` are fitted instead, then
    ``ex`` alone; the scorer then counts what such a rule explains.
    """
    def program(rules: tuple[Rule, ...]) -> Program:
        return Program(background.rules + rules, "int")

    current = program(learned)
    applicable = [e for e in examples if known_parts(current, lhs, e.input)]
    alike = [e for e in applicable if len(e.input) == len(ex.input)]
    # each group strictly smaller than the one before (a group fitted again fits no better)
    groups = [g for g, bigger in ((applicable, None), (alike, applicable), ([ex], alike))
              if bigger is None or len(g) < len(bigger)]
    fitted: set[Rule] = set()
    for shape in int_shapes([v for v in lhs if isinstance(v, Var)]):
        sketch = Rule(lhs, shape)
        holes = Program((sketch,), "int").holes()
        if len(applicable) <= holes:
            continue  # constants fitted to as many examples as they are predict nothing
        # Filled at the outermost place and at the innermost: the constants fitted where
        # the rule nests wrongly (`x1 thousand x2` under `x1 hundred and x2`) differ from
        # the right ones, and the scorer then places both where they do best. (Every
        # place in between was measured to cost 2-3x the time for no better programs.)
        places = positions(learned, sketch, plugins)
        for pos in dict.fromkeys([places[-1], places[0]]):
            if budget.exhausted():
                return
            trial = learned[:pos] + (sketch,) + learned[pos:]
            for group in groups:
                if len(group) <= holes:
                    break
                solutions = fill_all(program(trial), group, limit=2,
                                     timeout_ms=budget.solver_ms(), keep=True)
                budget.z3_calls += 1
                # Two solutions: the examples do not pin the constants down, and a guess
                # would only memorise; the sketch waits until more is explained.
                if len(solutions) == 1:
                    rule = normal(solutions[0].rules[len(background) + pos])
                    if rule not in fitted:
                        fitted.add(rule)
                        yield rule
                if solutions:
                    break
