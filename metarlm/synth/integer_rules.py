"""Integer rules for number words: constants read off what the words name, or fitted by Z3.

Number words compose the values their words name. A rule's scales and constant term are
therefore drawn from the values of its own words (``named_values``): `x1 cent y1 -> [x1] *
100 + [y1]`, `quatre vingt y1 -> 80 + [y1]`. Such a rule needs no solver and no second
example (``grounded_rules``), and a constant no word names (`y1 dix mille -> [y1] * 1100`,
what fitting a few examples by rote gives) is never proposed. A word no rule reads but that
looks like an inflection of a known one (`cents`, `vingts`, `mila`, `ciento`) means what that
one does (``stem_values``). Rules whose words name nothing (English `hundred` when only the
digits are known) have their constants fitted by Z3 instead, where the examples pin them
down (``fitted_rules``). A rule that multiplies the part it starts with comes with rules that
read each larger base said alone first (``base_guards``), and a finished program reads such
bases first, larger first (``bases_first``): a multiplier is smaller than its base.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, NamedTuple

from metarlm.lang.demo import Example
from metarlm.lang.dsl import Call, Const, LhsItem, Program, RhsItem, Rule, Var, Word
from metarlm.lang.interp import Ok, evaluate
from metarlm.synth.rule_prior import is_primitive, positions
from metarlm.synth.templates import int_shapes, known_parts, normal

if TYPE_CHECKING:
    from metarlm.types import Budget


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


def stem_values(word: str, lexicon: dict[str, int]) -> set[int]:
    """Values of known words that ``word`` looks like an inflection of: French `cents` and
    `vingts` (plural of `cent`, `vingt`), Italian `mila` (`mille`), Spanish `ciento`; not
    compounds such as Esperanto `milcent` (1100, not `mil`)."""
    out = set()
    for known, value in lexicon.items():
        shared = len(os.path.commonprefix([word, known]))
        if (known != word and shared >= STEM and len(known) - shared <= STEM_TAIL
                and len(word) - shared <= ENDING):
            out.add(value)
    return out


def lexicon(program: Program) -> dict[str, int]:
    """The program's one-word rules that name an integer: `cent -> 100`."""
    return {r.lhs[0].text: r.rhs[0].value for r in program.rules  # type: ignore[union-attr]
            if is_primitive(r) and len(r.lhs) == 1 and len(r.rhs) == 1
            and isinstance(r.rhs[0], Const)}


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
    known = lexicon(current)
    own: list[int] = []
    guessed: list[int] = []
    leading: list[int] = []
    for k, item in enumerate(lhs):
        if not isinstance(item, Word):
            continue
        result = evaluate(current, (item.text,))
        if isinstance(result, Ok):
            own.append(result.value)  # type: ignore[arg-type]
            if k == 0 and is_base(result.value):  # type: ignore[arg-type]
                leading.append(result.value)  # type: ignore[arg-type]
            continue
        stems = stem_values(item.text, known)
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
    """False for an integer word meaning other than the one its look-alike words have
    (`vingts -> 76`, read off one example by rote, where `vingt` means 20)."""
    named = word_values(current, rule.lhs)
    return named is None or all(isinstance(c, Const) and c.value in named_values(*named)[1]
                                for c in rule.rhs)


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


def fitted_rules(background: Program, learned: tuple[Rule, ...], lhs: tuple[LhsItem, ...],
                 ex: Example, examples: Sequence[Example], budget: Budget) -> Iterator[Rule]:
    """Integer right-hand sides whose constants the examples determine uniquely (Z3).

    The sketch is tried at each place among the ``learned`` rules (precedence changes which
    examples it sees); the constants must be pinned down by more examples than holes.
    When the examples it applies to disagree (Italian `due cento` is 200, not 2 + 100,
    until a rule for `cento` comes first), those as long as ``ex`` are fitted instead, then
    ``ex`` alone; the scorer then counts what such a rule explains.
    """
    from metarlm.exec.holes import fill_all

    def program(rules: tuple[Rule, ...]) -> Program:
        return Program(background.rules + rules, "int")

    current = program(learned)
    applicable = [e for e in examples if known_parts(current, lhs, e.input)]
    alike = [e for e in applicable if len(e.input) == len(ex.input)]
    # each group strictly smaller than the one before (a group fitted again fits no better)
    groups = [g for g, bigger in ((applicable, None), (alike, applicable), ([ex], alike))
              if bigger is None or len(g) < len(bigger)]
    fitted: set[Rule] = set()
    for shape in int_shapes([v for v in lhs if isinstance(v, Var)]):
        sketch = Rule(lhs, shape)
        holes = Program((sketch,), "int").holes()
        if len(applicable) <= holes:
            continue  # constants fitted to as many examples as they are predict nothing
        # Filled at the outermost place and at the innermost: the constants fitted where
        # the rule nests wrongly (`x1 thousand x2` under `x1 hundred and x2`) differ from
        # the right ones, and the scorer then places both where they do best. (Every
        # place in between was measured to cost 2-3x the time for no better programs.)
        places = positions(learned, sketch)
        for pos in dict.fromkeys([places[-1], places[0]]):
            if budget.exhausted():
                return
            trial = learned[:pos] + (sketch,) + learned[pos:]
            for group in groups:
                if len(group) <= holes:
                    break
                solutions = fill_all(program(trial), group, limit=2)
                budget.candidates += 1
                # Two solutions: the examples do not pin the constants down, and a guess
                # would only memorise; the sketch waits until more is explained.
                if len(solutions) == 1:
                    rule = normal(solutions[0].rules[len(background) + pos])
                    if rule not in fitted:
                        fitted.add(rule)
                        yield rule
                if solutions:
                    break
