"""Generated suites: number words in many languages (num2words) and infix → prefix translation.

``numbers``: one task per language. The background gives every word that names a number alone
("seven -> 7"), the demonstrations are numbers of two to five digits, the queries are held-out
numbers below 10**6; those with six digits (more than any demonstration) are out of
distribution. Languages written without spaces are split into characters; Italian, which
writes a number as one compound word, into its morphemes with elided vowels restored.
``curriculum_demo`` gives the same kind of demonstration from a fixed list of numbers.

``code``: expressions over a few identifiers and binary operators, one operator per
precedence level, all left-associative, brackets only where the structure needs them. The
demonstrations have at most two operators; queries with three to five are out of distribution.
``code_reference`` is a program that translates every generated expression correctly.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from metarlm.eval.tasks import Pair, SuiteOptions, Task, make_task, subsample, task_count

LANGUAGES = ("en", "es", "fr", "it", "pt", "ca", "id", "vi", "ru", "pl", "eo", "ja", "ko")
CHARACTER_LANGUAGES = frozenset({"ja", "ko"})  # written without spaces between words
COMPOUNDING_LANGUAGES = frozenset({"it"})  # one word per number: split into morphemes
MORE_DIGITS = "more digits than any demonstration"
MORE_OPERATORS = "more operators than any demonstration"
EXAMPLE_DIGITS = {2: 8, 3: 10, 4: 10, 5: 12}  # digits -> demonstrations drawn (40 in all)
QUERIES = 200
BINARY = ("+", "-", "*", "/", "%", "^", "&", "|")
IDENTIFIERS = ("a", "b", "c", "d", "e", "f", "g", "h", "p", "q", "r", "s")


def spoken(n: int, lang: str) -> str:
    """``n`` in words of ``lang``, characters spaced apart where the language has no spaces."""
    from metarlm.data import number_words

    text = number_words(n, lang)
    if lang in CHARACTER_LANGUAGES:
        return " ".join(ch for ch in text if not ch.isspace())
    if lang in COMPOUNDING_LANGUAGES:
        return " ".join(" ".join(morphemes(word, lang)) for word in text.split())
    return text


@functools.cache
def morpheme_forms(lang: str) -> dict[str, str]:
    """The pieces a compounding language builds its numbers from: surface form -> morpheme.

    The names of 0-19, the tens, 100 and 1000 stand for themselves; the tens and 100 with the
    final vowel dropped before a vowel (``vent|uno``, ``cent|ottanta``) and the forms met only
    inside compounds (Italian ``tré``, num2words' ``dicotto``) stand for their full names, so
    that a split number reads as the language's number words (``venti uno``); ``mila``, the
    plural of ``mille``, stays a word of its own.
    """
    from metarlm.data import number_words

    names = {n: number_words(n, lang) for n in [*range(20), *range(20, 100, 10), 100, 1000]}
    elided = {names[n][:-1]: names[n] for n in [*range(20, 100, 10), 100]}
    extra = {"it": {"mila": "mila", "tré": "tre", "dicotto": "diciotto"}}.get(lang, {})
    return {**elided, **{name: name for name in names.values()}, **extra}


def morphemes(word: str, lang: str) -> tuple[str, ...]:
    """A compound number word cut into the fewest known pieces, each written in full
    (ValueError if it cannot be cut)."""
    forms = morpheme_forms(lang)

    @functools.cache
    def cut(i: int) -> tuple[str, ...] | None:
        if i == len(word):
            return ()
        options = [(word[i:j], *rest) for j in range(len(word), i, -1)
                   if word[i:j] in forms and (rest := cut(j)) is not None]
        return min(options, key=len) if options else None

    pieces = cut(0)
    if pieces is None:
        raise ValueError(f"{word!r} is not made of the {lang} number morphemes")
    return tuple(forms[p] for p in pieces)


def _lexicon_values() -> list[int]:
    """Numbers whose names may be a single word: 0..1000 and round thousands."""
    return [*range(1001), *(1000 * k for k in range(2, 10)), *(10**4 * k for k in range(1, 11))]


@functools.cache
def lexicon(lang: str) -> tuple[tuple[str, int], ...]:
    """Each word that names a number alone, with that number (the smallest, if several)."""
    found: dict[str, int] = {}
    for n in _lexicon_values():
        text = spoken(n, lang)
        if " " not in text:
            found.setdefault(text, n)
    return tuple(found.items())


def lexicon_rules(lang: str) -> str:
    """The lexicon as background rules (`seven -> 7`, one per line)."""
    return "\n".join(f"{w} -> {v}" for w, v in lexicon(lang))


def _draw(rng: random.Random, digits: int) -> int:
    """A uniform number with exactly ``digits`` digits."""
    return rng.randrange(10 ** (digits - 1), 10**digits)


def _numbers(rng: random.Random, plan: dict[int, int], taken: set[int], lang: str,
             single: set[str]) -> list[int]:
    """Fresh numbers per digit count, skipping those a single background word names."""
    out: list[int] = []
    for digits, count in plan.items():
        got = 0
        while got < count:
            n = _draw(rng, digits)
            if n in taken or spoken(n, lang) in single:
                continue
            taken.add(n)
            out.append(n)
            got += 1
    return out


def number_task(lang: str, seed: int, opts: SuiteOptions) -> Task:
    """One language: background words, 40 demonstrations, 200 held-out queries."""
    rng = random.Random(f"numbers/{seed}/{lang}")
    single = {w for w, _ in lexicon(lang)}
    taken: set[int] = set()
    shown = _numbers(rng, EXAMPLE_DIGITS, taken, lang, single)
    rng.shuffle(shown)
    inside = {d: QUERIES // 8 for d in EXAMPLE_DIGITS}  # half the queries: 2..5 digits
    asked = _numbers(rng, {**inside, 6: QUERIES // 2}, taken, lang, set())
    asked = subsample(asked, opts, rng)
    longest = max(len(str(n)) for n in shown)
    examples: list[Pair] = [(spoken(n, lang), n) for n in shown]
    queries: list[Pair] = [(spoken(n, lang), n) for n in asked]
    return make_task("numbers", f"numbers/s{seed}/{lang}", seed, "numbers", examples, queries,
                     [len(str(n)) > longest for n in asked], MORE_DIGITS, lexicon_rules(lang))


# A teacher's curriculum: the same numbers for every language, chosen to show each way of
# building a number below a million once or twice (teens, tens, hundreds with and without a
# rest, thousands alone and as multipliers, round numbers). Numbers a single background word
# names are left out.
CURRICULUM = (13, 21, 45, 68, 99, 100, 105, 117, 200, 342, 580, 999, 1000, 1005, 1100, 2000,
              2019, 2300, 7654, 10000, 20000, 45678, 80000, 99999, 100000, 110000, 123456,
              200000, 500100, 999999)


def curriculum_demo(lang: str, queries: int = QUERIES, seed: int = 0) -> dict[str, Any]:
    """A demo object: single words as background, the curriculum as examples and ``queries``
    random numbers below a million (none of the examples) as scored queries."""
    single = {w for w, _ in lexicon(lang)}
    shown = [n for n in CURRICULUM if spoken(n, lang) not in single]
    rng = random.Random(f"curriculum/{seed}/{lang}")
    asked: list[int] = []
    while len(asked) < queries:
        n = rng.randrange(10**6)
        if n not in shown and n not in asked and spoken(n, lang) not in single:
            asked.append(n)
    return {"domain": "numbers",
            "background": lexicon_rules(lang),
            "examples": [{"input": spoken(n, lang), "output": n} for n in shown],
            "queries": [{"input": spoken(n, lang), "output": n} for n in asked]}


def numbers_suite(seed: int, opts: SuiteOptions) -> list[Task]:
    """One task per language (the first ``episodes`` languages when that is given)."""
    return [number_task(lang, seed, opts) for lang in LANGUAGES[:task_count(opts, len(LANGUAGES))]]


@dataclass(frozen=True)
class Expr:
    """A binary expression tree; a leaf has an identifier and no operator."""

    name: str
    left: Expr | None = None
    right: Expr | None = None

    @property
    def operators(self) -> int:
        """How many binary operators the tree holds."""
        if self.left is None or self.right is None:
            return 0
        return 1 + self.left.operators + self.right.operators


def random_expr(rng: random.Random, operators: int, ops: Sequence[str],
                names: Sequence[str]) -> Expr:
    """A uniform-ish random tree with exactly ``operators`` binary operators."""
    if operators == 0:
        return Expr(rng.choice(names))
    left = rng.randrange(operators)
    return Expr(rng.choice(ops), random_expr(rng, left, ops, names),
                random_expr(rng, operators - 1 - left, ops, names))


def infix(expr: Expr, levels: Sequence[str]) -> str:
    """Infix text with the brackets precedence and left-associativity require."""
    if expr.left is None or expr.right is None:
        return expr.name
    level = levels.index(expr.name)

    def side(child: Expr, right: bool) -> str:
        """A child's text, bracketed when it binds looser (or as tight, on the right)."""
        text = infix(child, levels)
        if child.left is None:
            return text
        inner = levels.index(child.name)
        needs = inner < level or (right and inner == level)
        return f"( {text} )" if needs else text

    return f"{side(expr.left, False)} {expr.name} {side(expr.right, True)}"


def prefix(expr: Expr) -> str:
    """Prefix (Polish) notation, no brackets."""
    if expr.left is None or expr.right is None:
        return expr.name
    return f"{expr.name} {prefix(expr.left)} {prefix(expr.right)}"


def code_reference(levels: Sequence[str]) -> str:
    """Rules that translate infix to prefix for these levels (lowest precedence first)."""
    rules = [f"x1 {op} x2 -> {op} [x1] [x2]" for op in levels]
    return "\n".join([*rules, "( x1 ) -> [x1]", "u1 -> u1"])


def _distinct(rng: random.Random, sizes: Sequence[int], count: int, levels: Sequence[str],
              names: Sequence[str], taken: set[str]) -> list[Expr]:
    """``count`` expressions with fresh infix texts, operator counts drawn from ``sizes``."""
    out: list[Expr] = []
    for _ in range(100 * count):
        if len(out) == count:
            break
        expr = random_expr(rng, rng.choice(sizes), levels, names)
        text = infix(expr, levels)
        if text not in taken:
            taken.add(text)
            out.append(expr)
    return out


def code_levels(rng: random.Random) -> list[str]:
    """Two or three binary operators, lowest precedence first (the first draws of a task)."""
    return rng.sample(BINARY, rng.choice((2, 3)))


def code_rng(seed: int, index: int) -> random.Random:
    """The random stream of one code task."""
    return random.Random(f"code/{seed}/{index}")


def code_task(seed: int, index: int, opts: SuiteOptions) -> Task:
    """Infix → prefix with 2-3 precedence levels: 12 short demonstrations, longer queries."""
    rng = code_rng(seed, index)
    levels = code_levels(rng)
    names = rng.sample(IDENTIFIERS, 4)
    taken: set[str] = set()
    shown = [Expr(names[0])] + _distinct(rng, (1, 1, 2), 11, levels, names, taken)
    taken.add(names[0])
    asked = (_distinct(rng, (1, 2), 30, levels, names, taken)
             + _distinct(rng, (3, 4, 5), 30, levels, names, taken))
    rng.shuffle(shown)
    asked = subsample(asked, opts, rng)
    most = max(e.operators for e in shown)
    examples: list[Pair] = [(infix(e, levels), prefix(e)) for e in shown]
    queries: list[Pair] = [(infix(e, levels), prefix(e)) for e in asked]
    return make_task("code", f"code/s{seed}/{index}-{''.join(levels)}", seed, "code", examples,
                     queries, [e.operators > most for e in asked], MORE_OPERATORS)


def code_suite(seed: int, opts: SuiteOptions) -> list[Task]:
    """Infix → prefix translation tasks (10 per seed by default)."""
    return [code_task(seed, i, opts) for i in range(task_count(opts, 10))]
