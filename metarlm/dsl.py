"""The rule language: AST (frozen dataclasses), parser (Lark, via a domain) and printer.

A program is an ordered tuple of rules ``LHS -> RHS``. The left-hand side is words and
variables (``u`` one word, ``x`` one or more, ``y`` zero or more); the right-hand side is,
in the sequence algebra, output tokens, calls ``[v]``, copies ``v`` and holes ``?``; in the
integer algebra, a sum of constants, calls ``[v]``, scaled calls ``[v] * INT`` and holes.
``print_program(parse_program(s))`` is canonical text and ``parse(print(p)) == p``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from metarlm.errors import ProgramError

if TYPE_CHECKING:
    from metarlm.domain import Domain

Algebra = Literal["seq", "int"]
VAR_KINDS = ("u", "x", "y")


@dataclass(frozen=True)
class Word:
    """A literal input word on a left-hand side."""

    text: str


@dataclass(frozen=True)
class Var:
    """A variable: kind ``u`` (one word), ``x`` (one or more) or ``y`` (zero or more)."""

    kind: Literal["u", "x", "y"]
    index: int

    @property
    def name(self) -> str:
        return f"{self.kind}{self.index}"


@dataclass(frozen=True)
class Token:
    """A literal output token (sequence algebra)."""

    text: str


@dataclass(frozen=True)
class Hole:
    """An unknown output token or integer; ``index`` numbers holes left to right."""

    index: int


@dataclass(frozen=True)
class Call:
    """``[v]``: interpret the span bound to ``v``; ``scale`` multiplies it (integer algebra)."""

    var: Var
    scale: int | Hole = 1


@dataclass(frozen=True)
class Copy:
    """Bare ``v``: copy the words bound to ``v`` verbatim (sequence algebra)."""

    var: Var


@dataclass(frozen=True)
class Const:
    """An integer literal term (integer algebra)."""

    value: int


LhsItem = Word | Var
RhsItem = Token | Call | Copy | Hole | Const


@dataclass(frozen=True)
class Rule:
    """One rewrite rule ``lhs -> rhs``."""

    lhs: tuple[LhsItem, ...]
    rhs: tuple[RhsItem, ...]

    def variables(self) -> tuple[Var, ...]:
        """The left-hand side's variables in order of appearance."""
        return tuple(item for item in self.lhs if isinstance(item, Var))


@dataclass(frozen=True)
class Program:
    """An ordered list of rules in one value algebra."""

    rules: tuple[Rule, ...]
    algebra: Algebra = "seq"

    def __len__(self) -> int:
        return len(self.rules)

    def __add__(self, other: Program) -> Program:
        return Program(self.rules + other.rules, self.algebra)

    def holes(self) -> int:
        """Number of holes in the program."""
        return sum(
            isinstance(it, Hole) or (isinstance(it, Call) and isinstance(it.scale, Hole))
            for rule in self.rules for it in rule.rhs
        )

    def __str__(self) -> str:
        return print_program(self)


def print_item(item: LhsItem | RhsItem) -> str:
    """The canonical text of one left- or right-hand side item."""
    if isinstance(item, (Word, Token)):
        return item.text
    if isinstance(item, Var):
        return item.name
    if isinstance(item, Hole):
        return "?"
    if isinstance(item, Copy):
        return item.var.name
    if isinstance(item, Const):
        return str(item.value)
    scale = item.scale
    if isinstance(scale, Hole):
        return f"[{item.var.name}] * ?"
    return f"[{item.var.name}]" if scale == 1 else f"[{item.var.name}] * {scale}"


def print_rule(rule: Rule, algebra: Algebra = "seq") -> str:
    """The canonical text of one rule; integer right-hand sides are joined with `` + ``."""
    lhs = " ".join(print_item(it) for it in rule.lhs)
    joiner = " + " if algebra == "int" else " "
    rhs = joiner.join(print_item(it) for it in rule.rhs)
    return f"{lhs} -> {rhs}" if rhs else f"{lhs} ->"


def print_program(program: Program) -> str:
    """The canonical text of a program: one rule per line."""
    return "\n".join(print_rule(r, program.algebra) for r in program.rules)


def parse_program(text: str, domain: str | Domain = "rules", source: str = "<program>") -> Program:
    """Parse program text under a domain's grammar; raise ProgramError with line and column."""
    from metarlm.domain import load_domain

    dom = load_domain(domain) if isinstance(domain, str) else domain
    return dom.parse(text, source=source)


def parse_rules(text: str, algebra: Algebra, tree: object, source: str) -> Program:
    """Build a Program from a Lark parse tree of ``seq_program``/``int_program``."""
    from lark import Token as LarkToken
    from lark import Tree

    holes = 0

    def var_of(tok: LarkToken) -> Var:
        return Var(tok.value[0], int(tok.value[1:]))  # type: ignore[arg-type]

    def hole() -> Hole:
        nonlocal holes
        holes += 1
        return Hole(holes - 1)

    def rhs_item(node: Tree) -> RhsItem:
        kind = node.data.rsplit("__", 1)[-1]
        if kind == "token":
            return Token(node.children[0].value)
        if kind == "hole":
            return hole()
        if kind == "const":
            return Const(int(node.children[0].value))
        if kind == "copy":
            return Copy(var_of(node.children[0].children[0]))
        if kind == "call":
            return Call(var_of(node.children[0].children[0]))
        call, factor = node.children  # scaled: [v] * (INT | ?)
        fk = factor.data.rsplit("__", 1)[-1]
        scale = hole() if fk == "hole" else int(factor.children[0].value)
        return Call(var_of(call.children[0].children[0]), scale)

    rules = []
    for node in tree.iter_subtrees_topdown():  # type: ignore[attr-defined]
        if not node.data.endswith(("seq_rule", "int_rule")):
            continue
        lhs_node, arrow, rhs_node = node.children
        lhs: list[LhsItem] = []
        seen: set[Var] = set()
        for it in lhs_node.children:
            tok = it.children[0]
            if it.data.endswith("word"):
                lhs.append(Word(tok.value))
                continue
            var = var_of(tok)
            if var in seen:
                raise ProgramError(f"variable {var.name} appears twice on the left",
                                   tok.line, tok.column, source)
            seen.add(var)
            lhs.append(var)
        rhs = tuple(rhs_item(it) for it in rhs_node.children)
        for it, sub in zip(rhs, rhs_node.children):
            var = getattr(it, "var", None)
            if var is not None and var not in seen:
                tok = next(t for t in sub.scan_values(lambda v: isinstance(v, LarkToken)))
                raise ProgramError(f"variable {var.name} is not bound on the left-hand side",
                                   tok.line, tok.column, source)
        rules.append(Rule(tuple(lhs), rhs))
    return Program(tuple(rules), algebra)
