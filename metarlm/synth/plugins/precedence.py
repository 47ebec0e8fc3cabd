"""The ``precedence`` plugin: a complete program's rules put in precedence levels.

Where the examples leave the order of rules open, it decides how longer inputs read. This
plugin orders them as compositional command languages want (SCAN, MiniSCAN, expression
syntax): words first, connectives before modifiers, rules seen binding single words after
those binding spans, rules of variables alone last. A domain opts in with ``// @bias:
precedence``.
"""

from __future__ import annotations

from collections.abc import Sequence

from metarlm.lang.demo import Example
from metarlm.lang.dsl import Program, Rule
from metarlm.lang.interp import derive
from metarlm.synth.base import Plugin
from metarlm.synth.rule_prior import anchored, is_primitive


class Precedence(Plugin):
    """Connectives before modifiers, words first, loose rules last (``precedence_order``)."""

    name = "precedence"

    def finish(self, program: Program, learned: tuple[Rule, ...],
               examples: Sequence[Example]) -> tuple[Rule, ...]:
        if program.algebra != "seq":
            return learned
        return precedence_order(program, learned, examples)


def precedence_order(program: Program, learned: tuple[Rule, ...],
                     examples: Sequence[Example]) -> tuple[Rule, ...]:
    """``learned`` (the last rules of ``program``) sorted into precedence levels.

    Words first; then rules the examples' derivations show calling spans of several words
    (`x1 and x2`, then `x1 twice`: more span variables first); then rules they show calling
    single words only (`x1 opposite x2`, seen only in "walk opposite left", must not take
    "walk opposite left twice"); then rules of variables alone. The sort is stable, and
    the caller checks that the examples still hold: the order the examples leave open
    decides how longer inputs read.
    """
    offset = len(program.rules) - len(learned)
    spans = [False] * len(program.rules)
    for ex in examples:
        stack = [derive(program, ex.input)[1]]
        while stack:
            step = stack.pop()
            if step is not None:
                spans[step.rule] |= any(k.end - k.start > 1 for k in step.children)
                stack.extend(step.children)

    def level(i: int) -> tuple[int, int]:
        rule = learned[i]
        if is_primitive(rule):
            return 0, 0
        if not anchored(rule):
            return 3, 0
        if not spans[offset + i]:
            return 2, 0
        # among span rules, connectives (`x1 and x2`) before modifiers (`x1 twice`)
        return 1, -sum(1 for v in rule.variables() if v.kind != "u")

    return tuple(learned[i] for i in sorted(range(len(learned)), key=level))
