"""The search's preferences among rule lists: a description-length prior and word evidence.

``metarlm.types.size`` counts symbols; ``prior_cost`` adds what plain counts miss (synonyms,
rules of variables alone, spelled-out tokens, empty words), weighted by the search settings;
``narrowness`` breaks ties (general variables); ``plausible`` is cross-situational evidence
(a word means only tokens that every example showing it has).
"""

from __future__ import annotations

from collections.abc import Sequence

from metarlm.lang.demo import Example
from metarlm.lang.dsl import Rule, Token, Var, Word
from metarlm.types import SearchSettings


def prior_cost(learned: Sequence[Rule], settings: SearchSettings | None = None) -> int:
    """Description-length surcharges beyond symbol counts, weighted by the settings'
    ``synonym_cost``, ``loose_cost``, ``empty_cost`` and ``spelled_cost``."""
    w = settings or SearchSettings()
    loose = sum(1 for r in learned if not anchored(r))
    empty = sum(1 for r in learned if is_primitive(r) and not r.rhs)
    spelled = sum(1 for r in learned if not is_primitive(r) for i in r.rhs
                  if isinstance(i, Token))
    return (w.synonym_cost * synonyms(learned) + w.loose_cost * loose + w.empty_cost * empty
            + w.spelled_cost * spelled)


def synonyms(learned: Sequence[Rule]) -> int:
    """Mutual exclusivity: how many literal tokens of a rule some *other* primitive already
    produces (`thrice -> I_LOOK I_LOOK` and `u1 left -> I_TURN_LEFT [u1]` lose to rules that
    call)."""
    prims = [r for r in learned if is_primitive(r)]
    cost = 0
    for rule in learned:
        others = {t.text for p in prims if p is not rule for t in p.rhs if isinstance(t, Token)}
        cost += sum(1 for t in rule.rhs if isinstance(t, Token) and t.text in others)
    return cost


def narrowness(var: Var, anchored: bool) -> int:
    """How much a variable narrows its rule where narrow is worse: in a rule with a word,
    ``u`` (one word) over ``x`` (a span) over ``y`` (a span or nothing: `u1 hundred y1` also
    reads "six hundred"); in a rule of variables alone the other way round."""
    rank = {"u": 2, "x": 1, "y": 0}[var.kind]
    return rank if anchored else 2 - rank


def anchored(rule: Rule) -> bool:
    """A rule with a word on its left (`x1 twice`), not of variables alone (`u1 u2`)."""
    return any(isinstance(it, Word) for it in rule.lhs)


def is_primitive(rule: Rule) -> bool:
    """A rule of words alone (`dax -> RED`, `turn ->`)."""
    return all(isinstance(it, Word) for it in rule.lhs)


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
