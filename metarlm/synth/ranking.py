"""How the search ranks states: reproduced examples first, then description length.

A state ranks by examples reproduced less examples given a wrong value (a rule that reads too
much is worse than one that reads too little), then by its description length (symbols plus
the prior's surcharges, ``rule_prior.prior_cost``, read off cached rule features) less what
the generators' scores say, then by each plugin's terms, then by general tie-breaks: more
rules (at one description length, the finer decomposition), fewer rules of variables alone,
and the more general variables in anchored rules (`y1 twice` over `x1 twice` over
`u1 twice`) and the narrower ones in rules of variables alone (`u1 u2` over `x1 x2`, which
fits anything).
"""

from __future__ import annotations

from metarlm.synth.base import Context, State
from metarlm.synth.rule_prior import features, prior_of
from metarlm.types import DL_WEIGHT


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
