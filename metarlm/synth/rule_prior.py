"""The search's preferences among rule lists: a description-length prior and word evidence.

``metarlm.types.size`` counts symbols; ``prior_cost`` adds what plain counts miss (synonyms,
rules of variables alone, spelled-out tokens, empty words), weighted by the search settings;
``narrowness`` breaks ties (general variables); ``plausible`` is cross-situational evidence
(a word means only tokens that every example showing it has).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from metarlm.lang.demo import Example
from metarlm.lang.dsl import Rule, Token, Var
from metarlm.types import SearchSettings, rule_size

FEATURES_KEPT = 1 << 16  # rules whose features are cached before the cache starts afresh


class Features(NamedTuple):
    """What the prior and the ranking read of one rule (``features``)."""

    size: int  # ``types.rule_size``
    anchored: bool
    primitive: bool
    empty: bool  # a primitive with nothing on its right
    tokens: tuple[str, ...]  # the right side's literal tokens, in order
    token_set: frozenset[str]
    narrow: int  # ``narrowness`` summed over the left side's variables


# by id of the rule object, the object kept beside its features: the search makes equal rules
# as separate objects, and comparing them field by field would cost more than the features
_FEATURES: dict[int, tuple[Rule, Features]] = {}


def features(rule: Rule) -> Features:
    """The rule's features, computed once per rule object: the search ranks the same
    rules in many states."""
    found = _FEATURES.get(id(rule))
    if found is not None and found[0] is rule:
        return found[1]
    if len(_FEATURES) >= FEATURES_KEPT:
        _FEATURES.clear()
    is_anchored = anchored(rule)
    tokens = tuple(t.text for t in rule.rhs if isinstance(t, Token))
    primitive = is_primitive(rule)
    made = Features(rule_size(rule), is_anchored, primitive,
                    primitive and not rule.rhs, tokens, frozenset(tokens),
                    sum(narrowness(v, is_anchored) for v in rule.variables()))
    _FEATURES[id(rule)] = (rule, made)
    return made


def prior_cost(learned: Sequence[Rule], settings: SearchSettings | None = None) -> int:
    """Description-length surcharges beyond symbol counts, weighted by the settings'
    ``synonym_cost``, ``loose_cost``, ``empty_cost`` and ``spelled_cost``."""
    return prior_of(learned, [features(r) for r in learned], settings)


def prior_of(learned: Sequence[Rule], feats: Sequence[Features],
             settings: SearchSettings | None = None) -> int:
    """``prior_cost`` from the rules' ``features`` (the ranking has them already)."""
    w = settings or SearchSettings()
    loose = sum(1 for f in feats if not f.anchored)
    empty = sum(1 for f in feats if f.empty)
    spelled = sum(len(f.tokens) for f in feats if not f.primitive)
    return (w.synonym_cost * _synonyms(learned, feats) + w.loose_cost * loose
            + w.empty_cost * empty + w.spelled_cost * spelled)


def synonyms(learned: Sequence[Rule]) -> int:
    """Mutual exclusivity: how many literal tokens of a rule some *other* primitive already
    produces (`thrice -> I_LOOK I_LOOK` and `u1 left -> I_TURN_LEFT [u1]` lose to rules that
    call)."""
    return _synonyms(learned, [features(r) for r in learned])


def _synonyms(learned: Sequence[Rule], feats: Sequence[Features]) -> int:
    """``synonyms`` in one pass: per token, how many primitives spell it, less the rule's
    own (at every place the same rule object holds, as "other" means another object)."""
    held: dict[str, int] = {}
    for f in feats:
        if f.primitive:
            for t in f.token_set:
                held[t] = held.get(t, 0) + 1
    if not held:
        return 0
    places = Counter(map(id, learned)) if len(set(map(id, learned))) < len(learned) else None
    cost = 0
    for rule, f in zip(learned, feats):
        if not f.tokens:
            continue
        own = (places[id(rule)] if places is not None else 1) if f.primitive else 0
        for t in f.tokens:
            if held.get(t, 0) - (own if t in f.token_set else 0) > 0:
                cost += 1
    return cost


def narrowness(var: Var, anchored: bool) -> int:
    """How much a variable narrows its rule where narrow is worse: in a rule with a word,
    ``u`` (one word) over ``x`` (a span) over ``y`` (a span or nothing: `u1 hundred y1` also
    reads "six hundred"); in a rule of variables alone the other way round."""
    rank = {"u": 2, "x": 1, "y": 0}[var.kind]
    return rank if anchored else 2 - rank


def anchored(rule: Rule) -> bool:
    """A rule with a word on its left (`x1 twice`), not of variables alone (`u1 u2`)."""
    return len(rule.variables()) < len(rule.lhs)  # a left side holds words and variables


def is_primitive(rule: Rule) -> bool:
    """A rule of words alone (`dax -> RED`, `turn ->`)."""
    return not rule.variables()  # the rule's own memo: asked of every rule at every state


def cooccurring(examples: Sequence[Example]) -> dict[str, set[str]]:
    """Per input word, the output tokens that every example showing the word has (sequence
    algebra): the only tokens the word itself can mean."""
    out: dict[str, set[str]] = {}
    for ex in examples:
        for word in ex.input:
            out.setdefault(word, set(ex.output)).intersection_update(ex.output)  # type: ignore[arg-type]
    return out


def plausible(bundle: Sequence[Rule], cooccur: dict[str, set[str]]) -> bool:
    """False when a word's new meaning spells a token that some example showing the word
    lacks (`thrice -> I_RUN I_RUN`, read off "run thrice" beside "walk thrice")."""
    for rule in bundle:
        if is_primitive(rule) and len(rule.lhs) == 1:
            seen = cooccur.get(rule.lhs[0].text)  # type: ignore[union-attr]
            if seen is not None and any(isinstance(t, Token) and t.text not in seen
                                        for t in rule.rhs):
                return False
    return True


EVERY_KIND = frozenset("uxy")


def in_grammar(rules: Sequence[Rule], kinds: frozenset[str]) -> bool:
    """Whether every variable of these rules is of a kind the domain allows."""
    # most domains allow every kind: then no rule is walked (the search asks for every move)
    return kinds >= EVERY_KIND or all(v.kind in kinds for rule in rules for v in rule.variables())
