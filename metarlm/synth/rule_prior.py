"""The enumerator's preferences among rule lists: a description-length prior and rule placement.

``size`` counts symbols; ``prior_cost`` adds what plain counts miss (synonyms, rules of
variables alone, spelled-out tokens, empty words); ``narrowness`` and ``inversions`` break ties
(general variables, factors nested by size); ``positions`` says where a new rule is tried.
"""

from __future__ import annotations

from collections.abc import Sequence

from metarlm.lang.demo import Example
from metarlm.lang.dsl import Call, Rule, Token, Var, Word

SYNONYM_COST = 4  # description-length cost of a token spelled out that a word already means


LOOSE_COST = 2  # a rule with no word on its left applies everywhere: it must earn its keep
SPELLED_COST = 1  # a token written out in a rule with variables: calls generalise, tokens don't
EMPTY_COST = 4  # a word that means nothing is rarer than one that means something


def prior_cost(learned: Sequence[Rule]) -> int:
    """Description-length surcharges beyond symbol counts (see the constants above)."""
    loose = sum(1 for r in learned if not anchored(r))
    empty = sum(1 for r in learned if is_primitive(r) and not r.rhs)
    spelled = sum(1 for r in learned if not is_primitive(r) for i in r.rhs
                  if isinstance(i, Token))
    return (synonyms(learned) + LOOSE_COST * loose + EMPTY_COST * empty
            + SPELLED_COST * spelled)


def synonyms(learned: Sequence[Rule]) -> int:
    """Mutual exclusivity: a word's meaning is not spelled out again by another rule.

    Each literal token of a rule that some *other* primitive already produces costs extra:
    `thrice -> I_LOOK I_LOOK` and `u1 left -> I_TURN_LEFT [u1]` lose to rules that call.
    """
    prims = [r for r in learned if is_primitive(r)]
    cost = 0
    for rule in learned:
        others = {t.text for p in prims if p is not rule for t in p.rhs if isinstance(t, Token)}
        cost += sum(1 for t in rule.rhs if isinstance(t, Token) and t.text in others)
    return SYNONYM_COST * cost


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


def positions(learned: tuple[Rule, ...], rule: Rule) -> list[int]:
    """Insertion points, preferred first: primitives go first; other rules anywhere after
    the primitives, last first (a rule learned from a larger example is tried after those
    learned before it unless the examples say otherwise: `x1 twice` before `x1 around x2`)."""
    n_prims = sum(1 for r in learned if is_primitive(r))
    if is_primitive(rule):
        return [0]
    order = list(range(len(learned), n_prims - 1, -1))
    factor = scale(rule)
    if factor > 1:
        # A number's parts nest by size (`x1 thousand x2` holds `x1 hundred x2`, not the
        # reverse), so a rule that multiplies goes first before the rules of smaller factors;
        # the examples decide when they can, this only breaks their ties.
        at = next((i for i in range(n_prims, len(learned)) if scale(learned[i]) < factor),
                  len(learned))
        order.remove(at)
        order.insert(0, at)
    return order


def inversions(learned: Sequence[Rule]) -> int:
    """Pairs of rules where one with a smaller factor comes first (0 in sequence programs)."""
    scales = [scale(r) for r in learned if not is_primitive(r)]
    return sum(a < b for i, a in enumerate(scales) for b in scales[i + 1:])


def scale(rule: Rule) -> int:
    """The largest constant factor of the rule's calls (1 when none)."""
    return max((it.scale for it in rule.rhs if isinstance(it, Call) and isinstance(it.scale, int)),
               default=1)


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
