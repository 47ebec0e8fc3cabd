"""Random number-word languages: their words for each integer and their rule programs.

A ``NumberLanguage`` fixes words for the digits, the tens, the teens and the multiplier bases
(hundred, thousand, million, or a myriad 10^4 as in Japanese and Chinese), plus connecting words
("and", "y", "und") and the order of units and tens ("ein und zwanzig"). ``render`` writes an
integer in the language; ``language_program`` writes the integer-algebra program that reads it
back, so that ``evaluate(language_program(L), render(L, n)) == n`` for ``0 <= n < max_value(L)``.
Bases are tried largest first: that order is what makes ``x1 thousand y1`` see the whole
multiplier of "two hundred thousand".
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from metarlm.lang.dsl import Call, Const, Program, RhsItem, Rule, Var, Word

U1, U2, X1, X2, Y1 = Var("u", 1), Var("u", 2), Var("x", 1), Var("x", 2), Var("y", 1)
LINK_WORDS = ("and", "y", "und", "e", "og", "et", "i", "en")


@dataclass(frozen=True)
class NumberLanguage:
    """Words and word order of one number-word language (see the module docstring)."""

    digits: tuple[str, ...]  # words for 1..9
    zero: str | None  # word for 0, or None when the language has no zero
    tens: tuple[str, ...] | None  # words for 10, 20, ..., 90; None: tens are "u1 ten" via bases
    teens: tuple[str, ...] | None  # words for 11..19; None: said like 21..99
    tens_link: str | None  # word between tens and units ("treinta y uno"); None: juxtaposed
    units_first: bool  # units before tens ("ein und zwanzig"); only with irregular tens
    bases: tuple[tuple[str, int], ...]  # multiplier words, largest first
    implicit_one: frozenset[int]  # bases said alone for one times the base ("hundred" = 100)
    base_link: str | None  # word before a remainder under 100 ("hundred and five")
    tens_var: str = "u"  # "u": tens and units compose as `u1 u2`; "x": as `u1 x1`

    def words(self) -> tuple[str, ...]:
        """Every word of the language, in a fixed order."""
        out = [*self.digits, *(self.tens or ()), *(self.teens or ()), *(w for w, _ in self.bases)]
        out += [w for w in (self.zero, self.tens_link, self.base_link) if w is not None]
        return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class LanguagePrior:
    """Probabilities of the features of a random number language."""

    p_zero: float = 0.8  # the language has a word for 0
    p_irregular_tens: float = 0.7  # own words for 10..90 (else "two ten three", Chinese style)
    p_irregular_teens: float = 0.6  # own words for 11..19, given irregular tens
    p_tens_link: float = 0.3  # a word joins tens and units ("y", "und")
    p_units_first: float = 0.3  # units before tens, given irregular tens
    p_myriad: float = 0.2  # bases 10^2, 10^3, 10^4 (Japanese/Chinese 万) instead of 10^3, 10^6
    p_implicit_one: float = 0.3  # each base may be said alone for one times itself
    p_base_link: float = 0.3  # "hundred and five"
    p_tens_x: float = 0.5  # tens compose with `u1 x1 -> [u1] + [x1]` instead of `u1 u2`
    western_sizes: tuple[float, float, float] = (0.3, 0.4, 0.3)  # up to 10^2, 10^3, 10^6


def max_value(lang: NumberLanguage) -> int:
    """One more than the largest integer the language writes."""
    top = lang.bases[0][1]
    return top * min(top, 1000)


def render(lang: NumberLanguage, n: int) -> tuple[str, ...]:
    """The words for ``n`` (ValueError outside ``[0, max_value)`` or 0 without a zero word)."""
    if not 0 <= n < max_value(lang) or (n == 0 and lang.zero is None):
        raise ValueError(f"{n} has no words in this language")
    return (lang.zero,) if n == 0 else _positive(lang, n)  # type: ignore[return-value]


def _positive(lang: NumberLanguage, n: int) -> tuple[str, ...]:
    """The words for ``n >= 1``: the largest base that fits, else tens and units."""
    for word, base in lang.bases:
        if n >= base:
            q, r = divmod(n, base)
            head = () if q == 1 and base in lang.implicit_one else _positive(lang, q)
            link = (lang.base_link,) if lang.base_link and base >= 100 and 0 < r < 100 else ()
            return head + (word,) + link + (_positive(lang, r) if r else ())
    return _below_hundred(lang, n)


def _below_hundred(lang: NumberLanguage, n: int) -> tuple[str, ...]:
    """The words for ``1 <= n < 100`` with irregular tens (or ``n < 10``)."""
    if n < 10:
        return (lang.digits[n - 1],)
    assert lang.tens is not None
    if lang.teens is not None and 11 <= n <= 19:
        return (lang.teens[n - 11],)
    t, u = divmod(n, 10)
    if u == 0:
        return (lang.tens[t - 1],)
    link = (lang.tens_link,) if lang.tens_link else ()
    pair = (lang.digits[u - 1],) + link + (lang.tens[t - 1],)
    return pair if lang.units_first else pair[::-1]


def language_program(lang: NumberLanguage) -> Program:
    """The integer-algebra program that reads the language: primitives, bases, tens."""
    rules: list[Rule] = []
    if lang.zero is not None:
        rules.append(Rule((Word(lang.zero),), (Const(0),)))
    rules += [Rule((Word(w),), (Const(k + 1),)) for k, w in enumerate(lang.digits)]
    rules += [Rule((Word(w),), (Const(10 * (k + 1)),)) for k, w in enumerate(lang.tens or ())]
    rules += [Rule((Word(w),), (Const(11 + k),)) for k, w in enumerate(lang.teens or ())]
    for k, (word, base) in enumerate(lang.bases):
        rules += _base_rules(lang, word, base, lang.bases[k - 1][1] if k else None)
    if lang.tens is not None:
        second = X1 if lang.tens_var == "x" else U2
        mid = (Word(lang.tens_link),) if lang.tens_link else ()
        rules.append(Rule((U1, *mid, second), (Call(U1), Call(second))))
    return Program(tuple(rules), "int")


def _base_rules(lang: NumberLanguage, word: str, base: int, above: int | None) -> list[Rule]:
    """``M word LINK x -> [M] * base + [x]``, ``M word y1 -> …`` and the implicit-one forms."""
    # the multiplier is one digit word exactly when the next base up is at most ten times larger
    mult = U1 if above is not None and above // base <= 10 else X1
    rest = X2 if mult == X1 else X1
    heads: list[tuple[tuple[Word | Var, ...], RhsItem]] = [((mult,), Call(mult, base))]
    if base in lang.implicit_one:
        heads.append(((), Const(base)))
    rules = []
    for lhs_head, term in heads:
        if lang.base_link and base >= 100:
            rules.append(Rule((*lhs_head, Word(word), Word(lang.base_link), rest),
                              (term, Call(rest))))
        rules.append(Rule((*lhs_head, Word(word), Y1), (term, Call(Y1))))
    return rules


def sample_language(rng: random.Random, fresh: Callable[[], str],
                    prior: LanguagePrior = LanguagePrior()) -> NumberLanguage:
    """A random language; ``fresh()`` returns a new unused word on each call."""
    irregular = rng.random() < prior.p_irregular_tens
    myriad = rng.random() < prior.p_myriad
    if myriad:
        sizes = [100, 1000, 10_000]
    else:
        top = rng.choices((100, 1000, 1_000_000), weights=prior.western_sizes)[0]
        sizes = [b for b in (100, 1000, 1_000_000) if b <= top]
    if not irregular:
        sizes = [10, *sizes]
    links = rng.sample(LINK_WORDS, 2)
    tens_link = links[0] if irregular and rng.random() < prior.p_tens_link else None
    base_link = None
    if rng.random() < prior.p_base_link:
        base_link = rng.choice((tens_link, links[1])) if tens_link else links[1]

    def new() -> str:
        word = fresh()
        while word in links:  # the link words are real words, the others are generated
            word = fresh()
        return word

    bases = tuple((new(), b) for b in sorted(sizes, reverse=True))
    implicit = frozenset(b for b in sizes if rng.random() < prior.p_implicit_one)
    return NumberLanguage(
        digits=tuple(new() for _ in range(9)),
        zero=new() if rng.random() < prior.p_zero else None,
        tens=tuple(new() for _ in range(9)) if irregular else None,
        teens=tuple(new() for _ in range(9))
        if irregular and rng.random() < prior.p_irregular_teens else None,
        tens_link=tens_link,
        units_first=irregular and rng.random() < prior.p_units_first,
        bases=bases, implicit_one=implicit, base_link=base_link,
        tens_var="x" if rng.random() < prior.p_tens_x else "u")


def sample_number(lang: NumberLanguage, rng: random.Random) -> int:
    """A random integer the language writes: small ones often, large ones log-uniformly."""
    top, low = max_value(lang), 0 if lang.zero is not None else 1
    kind = rng.random()
    if kind < 0.25:
        return rng.randrange(low, 20)
    if kind < 0.55:
        return rng.randrange(low, 100)
    if kind < 0.75:
        return rng.randrange(low, min(1000, top))
    digits = rng.uniform(0, len(str(top - 1)))
    return max(low, min(top - 1, int(10 ** digits)))


def lexicon_numbers(lang: NumberLanguage, rng: random.Random) -> list[int]:
    """One random integer per word of the language that uses that word, zero first."""
    top = max_value(lang)
    values = list(range(1, 10))
    if lang.tens is not None:
        values += list(range(10, 100, 10)) + (list(range(11, 20)) if lang.teens else [])
    out = [0] if lang.zero is not None else []
    for v in values:
        n = v + (rng.randrange(1, 10) if v >= 20 and v % 10 == 0 and rng.random() < 0.5 else 0)
        if top > 1000 and rng.random() < 0.4:  # also inside a larger number
            n += rng.randrange(1, 10) * 100
        out.append(n)
    for _, base in lang.bases:  # alone and multiplied, with a short and a long remainder
        for q in (1, rng.randrange(2, 10)):
            out.append(q * base + rng.randrange(1, min(base, 100)))
            out.append(q * base + (rng.randrange(100, base) if base > 100 else 0))
    return out
