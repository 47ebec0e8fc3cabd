"""Revisions of a learned rule list: drop a rule, move one earlier, widen a variable, and
put the rules in precedence order.

The enumerator adds rules one at a time, each read off the examples at hand; a guess that
fitted the few examples seen then (`thrice -> I_JUMP I_JUMP` from "jump thrice", `u1 and u2`
from "walk and look") can stand in the way of the general rule found later. Revisions are
scored like new rules: the enumerator keeps those that reproduce more of the demonstration.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace

from metarlm.lang.demo import Example
from metarlm.lang.dsl import Call, Copy, Program, Rule, Var
from metarlm.lang.interp import derive
from metarlm.synth.rule_prior import anchored, is_primitive


def repairs(learned: tuple[Rule, ...]) -> list[tuple[Rule, ...]]:
    """The rule list less one rule, with one rule moved earlier, or with one rule widened."""
    out = []
    for i in range(len(learned)):
        rest = learned[:i] + learned[i + 1:]
        out.append(rest)
        out += [rest[:j] + (learned[i],) + rest[j:] for j in range(i)]
        out += [rest[:i] + (wide,) + rest[i:] for wide in widened(learned[i])]
    return out


def widened(rule: Rule) -> Iterator[Rule]:
    """The rule with one ``u`` made a span variable ``x`` (`u1 and u2` → `u1 and x1`), when
    it has a word: the one-word reading was all the examples seen so far showed."""
    if is_primitive(rule) or not anchored(rule):
        return
    wide = Var("x", max((v.index for v in rule.variables() if v.kind == "x"), default=0) + 1)
    for var in (v for v in rule.variables() if v.kind == "u"):
        yield Rule(tuple(_renamed(it, var, wide) for it in rule.lhs),  # type: ignore[misc]
                   tuple(_renamed(it, var, wide) for it in rule.rhs))  # type: ignore[misc]


def _renamed(item: object, old: Var, new: Var) -> object:
    """The item with variable ``old`` made ``new``."""
    if item == old:
        return new
    if isinstance(item, (Call, Copy)) and item.var == old:
        return replace(item, var=new)
    return item


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
