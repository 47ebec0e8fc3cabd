"""Where new rules go in a learned rule list: the one place that decides rule placement.

Ordered choice makes a rule's place part of its meaning, so a new rule is tried at several
places, preferred first: a rule of words alone (a primitive) goes first; any other rule goes
anywhere after the primitives, last first (a rule read off a larger example is tried after the
rules learned before it unless the examples say otherwise). A bundle's primitives go first,
its other rules but the last right after the primitives (a plugin's guards), and its last rule
at each place. Plugins may reorder the places (``Plugin.positions``).
"""

from __future__ import annotations

from collections.abc import Sequence

from metarlm.lang.dsl import Rule
from metarlm.synth.base import Plugin
from metarlm.synth.rule_prior import is_primitive


def positions(learned: tuple[Rule, ...], rule: Rule, plugins: Sequence[Plugin] = ()) -> list[int]:
    """Insertion points for ``rule`` in ``learned``, preferred first."""
    if is_primitive(rule):
        return [0]
    n_prims = sum(1 for r in learned if is_primitive(r))
    order = list(range(len(learned), n_prims - 1, -1))
    for plugin in plugins:
        order = plugin.positions(learned, rule, order)
    return order


def placements(learned: tuple[Rule, ...], bundle: tuple[Rule, ...],
               plugins: Sequence[Plugin] = ()) -> list[tuple[Rule, ...]]:
    """The rule lists that add ``bundle`` to ``learned``, preferred first."""
    prims = tuple(r for r in bundle if is_primitive(r))
    rules = [r for r in bundle if not is_primitive(r)]
    base = prims + learned  # new primitives go first
    if len(rules) > 1:  # the bundle's other rules right after the primitives
        n = sum(map(is_primitive, base))
        base = base[:n] + tuple(rules[:-1]) + base[n:]
    if not rules:
        return [base]
    return [base[:pos] + (rules[-1],) + base[pos:]
            for pos in positions(base, rules[-1], plugins)]
