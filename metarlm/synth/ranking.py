"""How the search ranks states: reproduced examples first, then description length.

A state ranks by examples reproduced less examples given a wrong value (a rule that reads too
much is worse than one that reads too little), then by its description length (symbols plus
the prior's surcharges, ``rule_prior.prior_cost``, read off cached rule features) less what
the generators' scores say, then by each plugin's terms, then by general tie-breaks: more
rules (at one description length, the finer decomposition), fewer rules of variables alone,
and the more general variables in anchored rules (`y1 twice` over `x1 twice` over
`u1 twice`) and the narrower ones in rules of variables alone (`u1 u2` over `x1 x2`, which
fits anything).

Among consistent programs (``general_variants_first``) the score (the policy's
log-probability less the description length) ranks, except between variants, programs that
differ only in whether a variable is a ``u`` or an ``x``: the demonstration cannot tell those
apart, and the same preference for variable kinds as between states decides.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

from metarlm.lang.dsl import Call, Copy, Program, Rule, Var
from metarlm.synth.base import Context, State
from metarlm.synth.rule_prior import features, prior_of
from metarlm.types import DL_WEIGHT

T = TypeVar("T")


def rank(state: State, ctx: Context) -> tuple:
    """The state's sort key: smaller ranks first."""
    learned = state.learned
    feats = [features(r) for r in learned]
    loose = sum(1 for f in feats if not f.anchored)
    narrow = sum(f.narrow for f in feats)
    terms: tuple = ()
    for plugin in ctx.plugins:
        terms += plugin.rank_terms(learned)
    # ``types.size`` of the whole program, the background's part counted once per context
    length = (ctx.background_size + sum(f.size for f in feats)
              + prior_of(learned, feats, ctx.settings))
    # the policy's log-probability is worth two symbols a nat (``types.DL_WEIGHT``)
    return (-state.solved + state.wrong, length - state.score / DL_WEIGHT, *terms,
            -len(learned), loose, narrow)


def variant_key(program: Program) -> tuple:
    """The program with ``u`` and ``x`` told apart no more, each variable named by where it
    first appears on its rule's left: programs of one key differ only in how long a span
    their variables bind (`ter u1 -> [u1] [u1]` and `ter x1 -> [x1] [x1]`). A ``y`` stays
    itself: binding nothing, it makes a rule read inputs that lack the argument altogether
    (`lem` alone for `y1 lem y2`), a different hypothesis that the score ranks."""
    def rule_key(rule: Rule) -> tuple:
        order: dict[Var, tuple[int, bool]] = {}
        for it in rule.lhs:
            if isinstance(it, Var):
                order.setdefault(it, (len(order), it.kind == "y"))
        lhs = tuple(order[it] if isinstance(it, Var) else it for it in rule.lhs)
        rhs = tuple(_erased(it, order) for it in rule.rhs)
        return lhs, rhs
    return program.algebra, tuple(map(rule_key, program.rules))


def _erased(item: object, order: dict[Var, tuple[int, bool]]) -> object:
    """A right-side item with its variable (if any) replaced by its place on the left."""
    if isinstance(item, Call):
        return "call", order.get(item.var, item.var), item.scale
    if isinstance(item, Copy):
        return "copy", order.get(item.var, item.var)
    return item


def generality(program: Program) -> int:
    """``rule_prior.narrowness`` summed over the program's rules: smaller is preferred
    (`x1` over `u1` beside a word, `u1 u2` over `x1 x2` in a rule of variables alone)."""
    return sum(features(r).narrow for r in program.rules)


def general_variants_first(ranked: Sequence[T], key: Callable[[T], Hashable],
                           general: Callable[[T], int]) -> list[T]:
    """``ranked`` (best first) with each set of variants (one ``key``) reordered by
    ``general`` (smallest first, rank breaking ties) in the places the set holds.

    The demonstration cannot tell variants apart (all are consistent), so the choice among
    them is the search's own preference for variable kinds (``generality``), not what the
    policy learned of how often each kind occurs in random grammars; programs that differ
    in anything else keep the places their scores gave them.
    """
    groups: dict[Hashable, list[int]] = {}
    for i, item in enumerate(ranked):
        groups.setdefault(key(item), []).append(i)
    out = list(ranked)
    for places in groups.values():
        if len(places) > 1:
            best = sorted(places, key=lambda i: (general(ranked[i]), i))
            for place, i in zip(places, best):
                out[place] = ranked[i]
    return out
