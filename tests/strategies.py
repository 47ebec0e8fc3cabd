"""Hypothesis strategies: programs of both algebras over small vocabularies, and their inputs.

Vocabularies are tiny so that rules actually fire; a word and a token share the text ``a``
(a copied word must equal that token). Programs use every item kind, cycles such as
``x1 -> [x1]``, ``y`` variables, empty right-hand sides, holes (numbered left to right, as
the parser numbers them) and integers past the kernels' int64 range.
"""

from __future__ import annotations

from hypothesis import strategies as st

from metarlm.lang.dsl import Call, Const, Copy, Hole, Program, Rule, Token, Var, Word
from metarlm.testing import number_holes

WORDS = ("a", "b", "and", "twice")
TOKENS = ("A", "B", "a")
UNKNOWN = "zz"  # an input word that no program mentions
VARS = tuple(Var(k, i) for k in "uxy" for i in range(1, 5))
BIG_INTS = (2**61, 2**62 - 1, 2**62, 2**63 - 1, 2**63, 2**64 + 7, 10**30)
CYCLES = ("x1 -> [x1]", "y1 -> [y1]", "x1 -> [x1] [x1]", "u1 x1 -> [x1] [u1]")


@st.composite
def lhs_items(draw: st.DrawFn) -> tuple[Word | Var, ...]:
    """A left-hand side: 1-4 words and distinct variables."""
    size = draw(st.integers(1, 4))
    chosen = draw(st.lists(st.sampled_from(VARS), max_size=size, unique=True))
    items: list[Word | Var] = list(chosen)
    for _ in range(size - len(chosen)):
        items.insert(draw(st.integers(0, len(items))), Word(draw(st.sampled_from(WORDS))))
    return tuple(items)


def int_value() -> st.SearchStrategy[int]:
    """Small integers mostly, sometimes near or past 2**62 and 2**63."""
    return st.one_of(st.integers(0, 12), st.sampled_from((100, 1000)), st.sampled_from(BIG_INTS))


def seq_item(variables: tuple[Var, ...], holes: bool) -> st.SearchStrategy:
    """One sequence-algebra right-hand item (holes get their index later)."""
    options = [st.sampled_from(TOKENS).map(Token)]
    if holes:
        options.append(st.just(Hole(0)))
    if variables:
        var = st.sampled_from(variables)
        options += [var.map(Call), var.map(Call), var.map(Copy)]
    return st.one_of(options)


def int_item(variables: tuple[Var, ...], holes: bool) -> st.SearchStrategy:
    """One integer-algebra term (holes get their index later)."""
    options = [int_value().map(Const)]
    if holes:
        options.append(st.just(Hole(0)))
    if variables:
        var = st.sampled_from(variables)
        options += [var.map(Call), st.builds(Call, var, int_value())]
        if holes:
            options.append(st.builds(Call, var, st.just(Hole(0))))
    return st.one_of(options)


@st.composite
def rules(draw: st.DrawFn, algebra: str, holes: bool) -> Rule:
    """One rule whose right-hand side uses only the left-hand side's variables."""
    lhs = draw(lhs_items())
    variables = tuple(it for it in lhs if isinstance(it, Var))
    item = seq_item(variables, holes) if algebra == "seq" else int_item(variables, holes)
    return Rule(lhs, tuple(draw(st.lists(item, max_size=4))))


def _cycle(text: str, algebra: str) -> Rule:
    from metarlm.lang.domain import parse_program

    rule = parse_program(text, "rules").rules[0]
    if algebra == "int":
        return Rule(rule.lhs, tuple(it for it in rule.rhs if isinstance(it, Call)))
    return rule


@st.composite
def programs(draw: st.DrawFn, algebra: str | None = None, holes: bool = True,
             max_rules: int = 5) -> Program:
    """A program of 1..max_rules rules (sometimes with a cycle rule inserted)."""
    alg = algebra or draw(st.sampled_from(("seq", "int")))
    body = draw(st.lists(rules(alg, holes), min_size=1, max_size=max_rules))
    if draw(st.integers(0, 3)) == 0:
        body.insert(draw(st.integers(0, len(body))), _cycle(draw(st.sampled_from(CYCLES)), alg))
    return number_holes(Program(tuple(body), alg))  # type: ignore[arg-type]


def program_words(program: Program) -> tuple[str, ...]:
    """The words a program's left-hand sides mention, plus the shared vocabulary."""
    seen = {it.text for r in program.rules for it in r.lhs if isinstance(it, Word)}
    return tuple(sorted(seen | set(WORDS)))


@st.composite
def inputs(draw: st.DrawFn, program: Program, max_words: int = 6) -> tuple[str, ...]:
    """An input over the program's words, with an occasional unknown word."""
    known = program_words(program)
    word = st.sampled_from(known * 4 + (UNKNOWN,))  # about one word in 4 * len(known) unknown
    return tuple(draw(st.lists(word, min_size=1, max_size=max_words)))


def fuels() -> st.SearchStrategy[int]:
    """Small fuel values (exhaustion happens) and the default."""
    return st.one_of(st.integers(0, 40), st.integers(41, 400), st.just(200_000))


def max_outputs() -> st.SearchStrategy[int]:
    """Tight output limits and the default."""
    return st.one_of(st.integers(0, 6), st.just(10_000))
