"""The ``precedence`` plugin: a complete program's rules put in precedence levels.

Where the examples leave the order of rules open, it decides how longer inputs read. This
plugin orders them as compositional command languages want (SCAN, MiniSCAN, expression
syntax): words first, connectives before modifiers, rules seen binding single words after
those binding spans, rules of variables alone last. A domain opts in with ``// @bias:
precedence``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from metarlm.lang.demo import Example
from metarlm.lang.dsl import Call, Program, Rule, Word
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
    # Only the levels of anchored rules that call a variable wider than a word depend on the
    # derivations. Where no outcome of them changes the order (one such rule among words,
    # say), nothing is derived; otherwise only examples that can show such a rule calling a
    # span: its words in the input, and room for them, its other variables and two words.
    undecided = {i: need for i, r in enumerate(learned) if (need := _needs(r)) is not None}
    if len(undecided) <= SETTLE_AT and len({
            _sorted(learned, set(seen)) for n in range(len(undecided) + 1)
            for seen in itertools.combinations(undecided, n)}) == 1:
        return _sorted(learned, set())
    spanning: set[int] = set()
    for ex in examples:
        if not undecided:
            break
        words = set(ex.input)
        if not any(len(ex.input) >= least and needs <= words
                   for needs, least in undecided.values()):
            continue
        stack = [derive(program, ex.input)[1]]
        while stack:
            step = stack.pop()
            if step is not None:
                if step.rule >= offset and any(k.end - k.start > 1 for k in step.children):
                    spanning.add(step.rule - offset)
                    undecided.pop(step.rule - offset, None)
                stack.extend(step.children)
    return _sorted(learned, spanning)


SETTLE_AT = 4  # undecided rules up to which every outcome is tried before deriving any


def _needs(rule: Rule) -> tuple[set[str], int] | None:
    """What an input must have for the rule to be seen calling a span of several words: its
    words, and the fewest words it can then cover; None if it never can (no left-hand
    words, or it calls only ``u`` variables)."""
    if is_primitive(rule) or not anchored(rule):
        return None
    called = {it.var for it in rule.rhs if isinstance(it, Call)}
    wide = [v for v in rule.variables() if v in called and v.kind != "u"]
    if not wide:
        return None
    words = {it.text for it in rule.lhs if isinstance(it, Word)}
    # each word and u one word, each x at least one, a y none; one wide variable two
    least = len(rule.lhs) - sum(v.kind == "y" for v in rule.variables())
    return words, least + (1 if any(v.kind == "x" for v in wide) else 2)


def _sorted(learned: tuple[Rule, ...], spanning: set[int]) -> tuple[Rule, ...]:
    """The rules in levels, given which of them (by position) call spans of several words."""

    def level(i: int) -> tuple[int, int]:
        rule = learned[i]
        if is_primitive(rule):
            return 0, 0
        if not anchored(rule):
            return 3, 0
        if i not in spanning:
            return 2, 0
        # among span rules, connectives (`x1 and x2`) before modifiers (`x1 twice`)
        return 1, -sum(1 for v in rule.variables() if v.kind != "u")

    return tuple(learned[i] for i in sorted(range(len(learned)), key=level))
