"""The ``numerals`` plugin: number words, whose rules' constants are what their words name.

Number words compose the values their words name. A rule's scales and constant term are
therefore drawn from the values of its own words (``named_values``): `x1 cent y1 -> [x1] *
100 + [y1]`, `quatre vingt y1 -> 80 + [y1]`. Such a rule needs no solver and no second
example (``grounded_rules``), and a constant no word names (`y1 dix mille -> [y1] * 1100`,
what fitting a few examples by rote gives) is never proposed. A word no rule reads but that
looks like an inflection of a known one (`cents`, `vingts`, `mila`, `ciento`) means what that
one does (``stem_values``); a word with a value of its own is never an inflection. Rules whose
words name nothing (English `hundred` when only the digits are known) are left to the general
Z3 fitting (``generators.sums``). A rule that multiplies the part it starts with comes with
rules that read each larger base said alone first (``base_guards``), a finished program reads
such bases first, larger first (``bases_first``), and rules that multiply nest by size: a
multiplier is smaller than its base. A domain opts in with ``// @bias: numerals``; these are
assumptions about decimal-style number words (bases are powers of ten from 100 up).
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import NamedTuple

from metarlm.lang.demo import Example
from metarlm.lang.dsl import Call, Const, LhsItem, Program, RhsItem, Rule, Var, Word
from metarlm.lang.interp import Ok
from metarlm.synth.base import Context, Plugin
from metarlm.synth.rule_prior import is_primitive
from metarlm.synth.templates import normal
from metarlm.synth.templates import value as span_value


class WordValues(NamedTuple):
    """What the words of a left-hand side mean (``word_values``)."""

    own: list[int]  # values of words a rule reads alone
    guessed: list[int]  # values of the known words the others look like inflections of
    leading: list[int]  # values the first word may add alone (a base, or a guessed one)


STEM = 3  # letters an inflected word shares with the word it inflects, at least
STEM_TAIL = 2  # letters the known word may have past the shared stem, at most
ENDING = 3  # letters the inflected word may have past the shared stem, at most


def named_values(own: Sequence[int], guessed: Sequence[int] = (),
                 leading: Sequence[int] = ()) -> tuple[set[int], set[int]]:
    """The scales and the constant terms an integer rule with words of these values may use.

    A scale is 1 or a product of some of the values (`x1 cent mille y1 -> [x1] * 100000`).
    A constant term is a product of two or more (`quatre vingt y1 -> 80 + [y1]`), or a
    ``leading`` value: that of a base said alone at the start of the rule (Indonesian
    `seratus y1 -> [y1] + 100`), or of a word there that means nothing alone but looks like
    an inflection (Spanish `ciento y1 -> 100 + [y1]`). Any other word that means a value
    alone is added by the rule that adds parts, so a rule that adds it (`y1 cinq -> [y1] +
    5`, `doscientos y1 -> [y1] + 200`) only memorises.
    """
    products = {(1, 0)}
    for value in [*own, *guessed]:
        products |= {(p * value, n + 1) for p, n in products}
    scales = {p for p, _ in products}
    constants = {p for p, n in products if n >= 2} | set(leading)
    return scales, constants


def stem_values(word: str, lexicon: Mapping[str, int]) -> frozenset[int]:
    """Values of known words that ``word`` looks like an inflection of: French `cents` and
    `vingts` (plural of `cent`, `vingt`), Italian `mila` (`mille`), Spanish `ciento`; not
    compounds such as Esperanto `milcent` (1100, not `mil`)."""
    out = set()
    for known, value in lexicon.items():
        shared = len(os.path.commonprefix([word, known]))
        if (known != word and shared >= STEM and len(known) - shared <= STEM_TAIL
                and len(word) - shared <= ENDING):
            out.add(value)
    return frozenset(out)


# Remembered (read-only) per rule list: every left side the generators read asks again.
@functools.lru_cache(maxsize=1 << 10)
def lexicon(program: Program) -> Mapping[str, int]:
    """The program's one-word rules that name an integer: `cent -> 100`."""
    return MappingProxyType({r.lhs[0].text: r.rhs[0].value  # type: ignore[union-attr]
                             for r in program.rules
                             if is_primitive(r) and len(r.lhs) == 1 and len(r.rhs) == 1
                             and isinstance(r.rhs[0], Const)})


@functools.lru_cache(maxsize=1 << 14)
def _stems(word: str, program: Program) -> frozenset[int]:
    return stem_values(word, lexicon(program))


def is_base(value: int) -> bool:
    """A hundred, a thousand, a myriad...: a power of ten from 100 up."""
    if value < 100:
        return False
    while value % 10 == 0:
        value //= 10
    return value == 1


def word_values(current: Program, lhs: tuple[LhsItem, ...]) -> WordValues | None:
    """The values of the words of ``lhs``: their own, those guessed for words that look like
    an inflection of a known one, and the leading ones: the value of the word ``lhs`` starts
    with, if guessed or a base (Indonesian `seratus y1 -> [y1] + 100`); None when a word
    has neither."""
    own: list[int] = []
    guessed: list[int] = []
    leading: list[int] = []
    for k, item in enumerate(lhs):
        if not isinstance(item, Word):
            continue
        result = span_value(current, (item.text,))
        if isinstance(result, Ok):
            own.append(result.value)  # type: ignore[arg-type]
            if k == 0 and is_base(result.value):  # type: ignore[arg-type]
                leading.append(result.value)  # type: ignore[arg-type]
            continue
        stems = _stems(item.text, current)
        if not stems:
            return None
        guessed.extend(stems)
        if k == 0:
            leading.extend(stems)
    return WordValues(own, guessed, leading)


def grounded_rhs(variables: Sequence[Var], values: dict[Var, object], output: int,
                 scales: set[int], constants: set[int]) -> Iterator[tuple[RhsItem, ...]]:
    """Integer right-hand sides using every variable, with scales from ``scales`` and a
    constant term from ``constants`` (or none), that give ``output`` from the ``values``.

    A part multiplied by k is worth less than k (a multiplier is smaller than its base:
    "quatre vingt" is 4 * 20, not 20 * 4), so `quatre y1 -> [y1] * 4` is never proposed.
    """
    for ks in itertools.product(sorted(scales), repeat=len(variables)):
        if any(k > 1 and values[v] >= k for v, k in zip(variables, ks)):  # type: ignore[operator]
            continue
        rest = output - sum(values[v] * k for v, k in zip(variables, ks))  # type: ignore[operator]
        if rest == 0 or rest in constants:
            calls = tuple(Call(v) if k == 1 else Call(v, k) for v, k in zip(variables, ks))
            yield calls + ((Const(rest),) if rest or not calls else ())


def grounded_rules(lhs: tuple[LhsItem, ...], values: dict[Var, object], output: int,
                   named: WordValues) -> Iterator[Rule]:
    """Rules for ``lhs`` whose constants its words name and that give ``output``."""
    variables = [v for v in lhs if isinstance(v, Var)]
    scales, constants = named_values(*named)
    for rhs in grounded_rhs(variables, values, output, scales, constants):
        yield normal(Rule(lhs, rhs))


def inflection_kept(current: Program, rule: Rule) -> bool:
    """False for an integer word meaning that its look-alike words do not name (`vingts ->
    76`, read off one example by rote, where `vingt` means 20). A look-alike names its own
    value (an inflection: `vingts`, 20) or that value times a known value of ten or more (a
    derivation: `sixty`, 6 * 10, beside `six` and `ten`)."""
    named = word_values(current, rule.lhs)
    if named is None:
        return True
    derived = {g * v for g in named.guessed for v in lexicon(current).values() if v >= 10}
    allowed = named_values(*named)[1] | derived
    return all(isinstance(c, Const) and c.value in allowed for c in rule.rhs)


def base_guards(current: Program, rule: Rule, shown: set[str]) -> tuple[Rule, ...]:
    """Rules that read a larger base said alone first (`mille y1 -> [y1] + 1000`), for a
    rule that multiplies the part it starts with (`x1 cent y1 -> [x1] * 100 + [y1]`); only
    for bases some example (``shown``) has.

    A multiplier is smaller than its base, but ordered choice would let the new rule read
    "mille cent" as 1000 * 100: the two go in together, and pruning drops what no example
    needs.
    """
    first = rule.lhs[0]
    factor = next((it.scale for it in rule.rhs if isinstance(it, Call) and it.var == first
                   and isinstance(it.scale, int)), 1)
    if not isinstance(first, Var) or factor <= 1:
        return ()
    y1 = Var("y", 1)
    guards = [Rule((Word(word), y1), (Call(y1), Const(value)))
              for word, value in lexicon(current).items() if value > factor and word in shown]
    return tuple(g for g in guards if g not in current.rules)


def bases_first(learned: tuple[Rule, ...]) -> tuple[Rule, ...]:
    """The rules with those that read a base said alone (`千 y1 -> [y1] + 1000`) moved, the
    larger bases first, right after the one-word rules: a multiplier is smaller than its
    base, so "千 四 百" is 1000 + 400, never read by `y1 百 x1` as (1000 + 4) * 100."""
    def base(rule: Rule) -> int:
        if len(rule.lhs) != 2 or not isinstance(rule.lhs[0], Word):
            return 0
        consts = [it.value for it in rule.rhs if isinstance(it, Const)]
        return consts[0] if len(consts) == 1 and is_base(consts[0]) else 0

    n = sum(map(is_primitive, learned))
    alone = sorted((r for r in learned[n:] if base(r)), key=base, reverse=True)
    return learned[:n] + tuple(alone) + tuple(r for r in learned[n:] if not base(r))


def scale(rule: Rule) -> int:
    """The largest constant factor of the rule's calls (1 when none)."""
    return max((it.scale for it in rule.rhs if isinstance(it, Call) and isinstance(it.scale, int)),
               default=1)


def inversions(learned: Sequence[Rule]) -> int:
    """Pairs of rules where one with a smaller factor comes first."""
    scales = [scale(r) for r in learned if not is_primitive(r)]
    return sum(a < b for i, a in enumerate(scales) for b in scales[i + 1:])


class Numerals(Plugin):
    """Constants the words name, inflections, larger bases first, factors nested by size."""

    name = "numerals"
    # Rules with constants the words name cost no solver, so more failing examples are read
    # per step (a rule such as `x1 cent y1` that explains many of them is seen before narrower
    # ones crowd the beam); revised integer lists would cost Z3 fits number words cannot spare.
    # In number words a place word scales its whole coefficient (`x1 cento y1`): left sides
    # that read the word beside an anchor apart cost Z3 fits (English number words 1.4 s
    # against 5.1 s, Portuguese 1.7 against 11.7) and misled Italian (189 of 200 right).
    settings = {"examples_per_step": 6, "revisions": 0, "head_words": 0}

    def sum_rules(self, current: Program, lhs: tuple[LhsItem, ...], values: dict[Var, object],
                  output: int) -> tuple[list[Rule], bool]:
        named = word_values(current, lhs)
        if named is None:
            return [], True
        rules = list(grounded_rules(lhs, values, output, named))
        return rules, bool(named.guessed) and not rules

    def bundles(self, current: Program, rule: Rule, ctx: Context) -> list[tuple[Rule, ...]]:
        guards = base_guards(current, rule, set(ctx.shown)) if "y" in ctx.kinds else ()
        return [guards + (rule,)] if guards else []

    def admits(self, current: Program, rule: Rule) -> bool:
        return current.algebra != "int" or inflection_kept(current, rule)

    def positions(self, learned: tuple[Rule, ...], rule: Rule, order: list[int]) -> list[int]:
        factor = scale(rule)
        if factor <= 1 or not order:
            return order
        # A number's parts nest by size (`x1 thousand x2` holds `x1 hundred x2`, not the
        # reverse), so a rule that multiplies goes first before the rules of smaller factors;
        # the examples decide when they can, this only breaks their ties.
        n_prims = min(order)
        at = next((i for i in range(n_prims, len(learned)) if scale(learned[i]) < factor),
                  len(learned))
        return [at] + [k for k in order if k != at]

    def rank_terms(self, learned: tuple[Rule, ...]) -> tuple[int, ...]:
        # factors nested by size, then larger factors: `two thousand three hundred` is
        # 2*1000+300, not 2*10+3 read by the hundreds rule
        return inversions(learned), -sum(map(scale, learned))

    def finish(self, program: Program, learned: tuple[Rule, ...],
               examples: Sequence[Example]) -> tuple[Rule, ...]:
        return bases_first(learned) if program.algebra == "int" else learned
