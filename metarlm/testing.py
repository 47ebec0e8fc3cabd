"""Hypothesis strategies over a domain: programs, inputs and demonstrations (``metarlm[testing]``).

Every strategy takes a domain: a ``Domain``, a built-in name or a path to a ``.lark`` file.

- ``programs(domain)``: programs built from the domain's algebra, words, tokens, variable
  kinds and rule limit, so that ``domain.parse(print_program(p)) == p`` for every one drawn
  (open vocabularies draw from a small pool of words the grammar lexes as words);
- ``inputs(domain, program)``: inputs over the domain's words (and the program's), or with
  ``covered=True`` inputs that the program evaluates without failing;
- ``demo_cases(domain)`` and ``demos(domain)``: whole demonstrations, as the JSON object of a
  demo file with the program that produced its outputs, or validated as a ``Demo``.

    from hypothesis import given
    from metarlm.testing import inputs, programs

    @given(programs("my.lark"), st.data())
    def test_never_raises(program, data):
        evaluate(program, data.draw(inputs("my.lark", program)))
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    from hypothesis import reject
    from hypothesis import strategies as st
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError("metarlm.testing needs hypothesis: pip install 'metarlm[testing]'") from err

from metarlm.errors import MetarlmError
from metarlm.lang.demo import Demo, format_output, parse_demo
from metarlm.lang.domain import BUILTIN, GRAMMAR_DIR, Domain, load_domain
from metarlm.lang.dsl import (
    Call,
    Const,
    Copy,
    Hole,
    LhsItem,
    Program,
    RhsItem,
    Rule,
    Token,
    Var,
    Word,
    print_program,
)
from metarlm.lang.interp import Ok, evaluate

DomainLike = Domain | str | Path
WORD_POOL = ("a", "b", "c", "and", "after", "twice", "dax", "wif", "lug", "zup")
TOKEN_POOL = ("A", "B", "C", "RED", "BLUE", "a")  # "a": a copied word can equal a token
BIG_INTS = (2**61, 2**62 - 1, 2**62, 2**63 - 1, 2**63, 10**30)  # around the integer limit
MAX_INDEX = 3  # variables u1..u3, x1..x3, y1..y3
PROBED = 200  # words and tokens of a large vocabulary that programs are built from


@dataclass(frozen=True)
class Vocabulary:
    """What programs of a domain may be built from."""

    algebra: str
    words: tuple[str, ...]  # lexed as WORD on a left-hand side
    tokens: tuple[str, ...]  # lexed as TOKEN on a right-hand side (sequence algebra)
    variables: tuple[Var, ...]  # of the kinds allowed, lexed as variables
    max_rules: int


@dataclass(frozen=True)
class DemoCase:
    """A drawn demonstration: the JSON object of a demo file and the program behind it."""

    data: dict[str, Any]
    program: Program


def domain_of(domain: DomainLike) -> Domain:
    """A loaded domain (the argument itself, a built-in name or a grammar path)."""
    return load_domain(domain if isinstance(domain, Domain) else str(domain))


@functools.lru_cache(maxsize=64)
def vocabulary(domain: Domain) -> Vocabulary:
    """The words, tokens and variables programs of this domain may use (each one checked by
    parsing a one-rule program with it: a grammar's overrides may lex them otherwise)."""
    pool = sorted(domain.words)[:PROBED] if domain.words is not None else list(WORD_POOL)
    words = tuple(w for w in pool if _parses(domain, f"{w} ->", (Word(w),), ()))
    names = [Var(k, i) for k in sorted(domain.var_kinds)  # type: ignore[arg-type]
             for i in range(1, MAX_INDEX + 1)]
    variables = tuple(v for v in names if _parses(domain, f"{v.name} ->", (v,), ()))
    tokens: tuple[str, ...] = ()
    if domain.algebra == "seq" and (words or variables):
        lhs = words[0] if words else variables[0].name
        left = (Word(lhs),) if words else (variables[0],)
        source = sorted(domain.tokens)[:PROBED] if domain.tokens is not None else list(TOKEN_POOL)
        tokens = tuple(t for t in source if _parses(domain, f"{lhs} -> {t}", left, (Token(t),)))
    return Vocabulary(domain.algebra, words, tokens, variables, domain.settings["max_rules"])


def _parses(domain: Domain, text: str, lhs: tuple | None = None,
            rhs: tuple | None = None) -> bool:
    """Whether ``text`` parses as one rule (with these sides, when given)."""
    try:
        program = domain.parse(text)
    except MetarlmError:
        return False
    if len(program) != 1:
        return False
    rule = program.rules[0]
    return (lhs is None or rule.lhs == lhs) and (rhs is None or rule.rhs == rhs)


def integers() -> st.SearchStrategy[int]:
    """Integer literals: small mostly, sometimes near or past the 2^62 limit."""
    return st.one_of(st.integers(0, 12), st.sampled_from((100, 1000)), st.sampled_from(BIG_INTS))


@st.composite
def _lhs(draw: st.DrawFn, vocab: Vocabulary, max_items: int) -> tuple[LhsItem, ...]:
    size = draw(st.integers(1, max_items))
    chosen: list[Var] = []
    if vocab.variables:
        chosen = draw(st.lists(st.sampled_from(vocab.variables), max_size=size, unique=True))
        if not vocab.words and not chosen:
            chosen = [vocab.variables[0]]
    items: list[LhsItem] = list(chosen)
    for _ in range(size - len(chosen) if vocab.words else 0):
        items.insert(draw(st.integers(0, len(items))), Word(draw(st.sampled_from(vocab.words))))
    return tuple(items)


def _rhs_item(vocab: Vocabulary, variables: Sequence[Var], holes: bool,
              copies: bool) -> st.SearchStrategy[RhsItem]:
    options: list[st.SearchStrategy[Any]] = []
    var = st.sampled_from(list(variables)) if variables else None
    if vocab.algebra == "seq":
        if vocab.tokens:
            options.append(st.sampled_from(vocab.tokens).map(Token))
        if var is not None:
            options += [var.map(Call), var.map(Call)] + ([var.map(Copy)] if copies else [])
    else:
        options.append(integers().map(Const))
        if var is not None:
            options += [var.map(Call), st.builds(Call, var, integers())]
            if holes:
                options.append(st.builds(Call, var, st.just(Hole(0))))
    if holes:
        options.append(st.just(Hole(0)))
    return st.one_of(options) if options else st.nothing()


@st.composite
def rules(draw: st.DrawFn, domain: DomainLike, holes: bool = False, copies: bool = True,
          max_lhs: int = 4, max_rhs: int = 4) -> Rule:
    """One rule of the domain whose right-hand side names only its left-hand variables."""
    vocab = vocabulary(domain_of(domain))
    lhs = draw(_lhs(vocab, max_lhs))
    variables = [it for it in lhs if isinstance(it, Var)]
    item = _rhs_item(vocab, variables, holes, copies)
    rhs = draw(st.lists(item, max_size=max_rhs)) if not item.is_empty else []
    return Rule(lhs, tuple(rhs))


def number_holes(program: Program) -> Program:
    """The program with its holes numbered left to right, as the parser numbers them."""
    count = 0

    def fresh() -> Hole:
        nonlocal count
        count += 1
        return Hole(count - 1)

    def renumber(item: RhsItem) -> RhsItem:
        if isinstance(item, Hole):
            return fresh()
        if isinstance(item, Call) and isinstance(item.scale, Hole):
            return Call(item.var, fresh())
        return item

    return Program(tuple(Rule(r.lhs, tuple(renumber(it) for it in r.rhs))
                         for r in program.rules), program.algebra)


def _cycle(vocab: Vocabulary) -> Rule | None:
    """A rule that calls its own span (``x1 -> [x1]``), the cycle guard's case."""
    var = next((v for v in vocab.variables if v.kind in ("x", "y")), None)
    return None if var is None else Rule((var,), (Call(var),))


@st.composite
def programs(draw: st.DrawFn, domain: DomainLike, holes: bool = False, copies: bool = True,
             max_rules: int = 6, max_lhs: int = 4, max_rhs: int = 4) -> Program:
    """A program of the domain (1 to ``max_rules`` rules, within the domain's own limit),
    sometimes with a self-call ``x1 -> [x1]``; ``holes`` adds ``?``, numbered as parsed."""
    dom = domain_of(domain)
    vocab = vocabulary(dom)
    if not (vocab.words or vocab.variables):
        raise MetarlmError(f"the {dom.name} domain lexes no word and no variable: "
                           "it has no programs to draw")
    limit = max(1, min(max_rules, vocab.max_rules))
    body = draw(st.lists(rules(dom, holes, copies, max_lhs, max_rhs), min_size=1,
                         max_size=limit))
    cycle = _cycle(vocab)
    if cycle is not None and len(body) < limit and draw(st.integers(0, 3)) == 0:
        body.insert(draw(st.integers(0, len(body))), cycle)
    return number_holes(Program(tuple(body), dom.algebra))  # type: ignore[arg-type]


def program_words(program: Program) -> tuple[str, ...]:
    """The words a program's left-hand sides mention, sorted."""
    return tuple(sorted({it.text for r in program.rules for it in r.lhs if isinstance(it, Word)}))


def _pool(dom: Domain, program: Program | None) -> tuple[str, ...]:
    """Words inputs are made of: the domain's (or the open pool), the program's first."""
    base = sorted(dom.words) if dom.words is not None else list(vocabulary(dom).words or
                                                                    WORD_POOL)
    mentioned = program_words(program) if program is not None else ()
    return tuple(dict.fromkeys([*mentioned, *base]))


@st.composite
def inputs(draw: st.DrawFn, domain: DomainLike, program: Program | None = None,
           covered: bool = False, max_words: int = 8) -> tuple[str, ...]:
    """An input the domain accepts (its words, at most its ``max_words``); with ``covered``,
    one that ``program`` evaluates to a value (built from a derivation, then checked)."""
    dom = domain_of(domain)
    longest = max(1, min(max_words, dom.settings["max_words"]))
    pool = _pool(dom, program)
    if not pool:
        raise MetarlmError(f"the {dom.name} domain has no words to make inputs of")
    if not covered or program is None:
        return tuple(draw(st.lists(st.sampled_from(pool), min_size=1, max_size=longest)))
    words = tuple(_derived(draw, program, pool, depth=3))
    if not 1 <= len(words) <= dom.settings["max_words"] or not evaluate(program, words).ok:
        reject()
    return words


def _derived(draw: st.DrawFn, program: Program, pool: Sequence[str], depth: int) -> list[str]:
    """Words that some rule of ``program`` derives: its left-hand side with each called
    variable replaced by words derived in turn (single words at the bottom)."""
    rule = draw(st.sampled_from(program.rules))
    called = {it.var for it in rule.rhs if isinstance(it, Call)}
    out: list[str] = []
    for item in rule.lhs:
        if isinstance(item, Word):
            out.append(item.text)
        elif item.kind == "u" or depth == 0:
            if item.kind != "y" or draw(st.booleans()):
                out.append(draw(st.sampled_from(pool)))
        elif item in called:
            out += _derived(draw, program, pool, depth - 1)
        else:
            low = 1 if item.kind == "x" else 0
            out += draw(st.lists(st.sampled_from(pool), min_size=low, max_size=3))
    return out


def domain_field(domain: Domain) -> str:
    """How a demo file names the domain: the built-in name, else the grammar's path."""
    if domain.name in BUILTIN and domain.path.parent == GRAMMAR_DIR:
        return domain.name
    return str(domain.path)


@st.composite
def demo_cases(draw: st.DrawFn, domain: DomainLike, max_examples: int = 4,
               max_queries: int = 2, background: bool = True) -> DemoCase:
    """A demonstration drawn from a hole-free program: examples and scored queries on inputs
    it covers, and (with ``background``) sometimes its first rules given as known."""
    dom = domain_of(domain)
    open_tokens = dom.tokens is None
    program = draw(programs(dom, copies=open_tokens))
    items = draw(st.lists(inputs(dom, program, covered=True), min_size=1,
                          max_size=max_examples + max_queries, unique=True))
    split = max(1, min(max_examples, len(items) - draw(st.integers(0, max_queries))))
    rows = [{"input": " ".join(w), "output": _output(program, w)} for w in items]
    data: dict[str, Any] = {"domain": domain_field(dom), "examples": rows[:split]}
    if rows[split:]:
        data["queries"] = rows[split:]
    known = draw(st.integers(0, len(program) - 1)) if background and len(program) > 1 else 0
    if known:
        data["background"] = print_program(Program(program.rules[:known], program.algebra))
    return DemoCase(data, program)


def _output(program: Program, words: tuple[str, ...]) -> str | int:
    result = evaluate(program, words)
    assert isinstance(result, Ok)  # inputs(covered=True) checked it
    value = result.value
    return value if isinstance(value, int) else format_output(value)  # type: ignore[arg-type]


def demos(domain: DomainLike, max_examples: int = 4, max_queries: int = 2,
          background: bool = True) -> st.SearchStrategy[Demo]:
    """``demo_cases`` validated as a ``Demo`` (as ``load_demo`` would read the file)."""
    return demo_cases(domain, max_examples, max_queries, background).map(
        lambda case: parse_demo(case.data))


def fuels() -> st.SearchStrategy[int]:
    """Fuel values: small ones (exhaustion happens) and the default."""
    return st.one_of(st.integers(0, 40), st.integers(41, 400), st.just(200_000))


def max_outputs() -> st.SearchStrategy[int]:
    """Output limits: tight ones and the default."""
    return st.one_of(st.integers(0, 6), st.just(10_000))


__all__ = ["DemoCase", "Vocabulary", "demo_cases", "demos", "domain_field", "fuels", "inputs",
           "integers", "max_outputs", "number_holes", "program_words", "programs", "rules",
           "vocabulary"]
