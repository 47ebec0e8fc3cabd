"""The rule language: AST (frozen dataclasses), parser (Lark, via a domain) and printer.

A program is an ordered tuple of rules ``LHS -> RHS``. The left-hand side is words and
variables (``u`` one word, ``x`` one or more, ``y`` zero or more); the right-hand side is,
in the sequence algebra, output tokens, calls ``[v]``, copies ``v`` and holes ``?``; in the
integer algebra, a sum of constants, calls ``[v]``, scaled calls ``[v] * INT`` and holes.
``print_program(parse_program(s))`` is canonical text and ``parse(print(p)) == p``; parsing
lives with the grammars (``metarlm.lang.domain.parse_program``, ``metarlm.lang.build``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

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

    def __hash__(self) -> int:
        # Rules key the search's every table: the hash of the fields, computed once.
        cached = self.__dict__.get("_hash")
        if cached is None:
            cached = hash((self.lhs, self.rhs))
            object.__setattr__(self, "_hash", cached)
        return cached

    def variables(self) -> tuple[Var, ...]:
        """The left-hand side's variables in order of appearance."""
        cached = self.__dict__.get("_variables")
        if cached is None:
            cached = tuple(item for item in self.lhs if isinstance(item, Var))
            object.__setattr__(self, "_variables", cached)
        return cached


@dataclass(frozen=True)
class Program:
    """An ordered list of rules in one value algebra."""

    rules: tuple[Rule, ...]
    algebra: Algebra = "seq"

    def __hash__(self) -> int:
        cached = self.__dict__.get("_hash")
        if cached is None:
            cached = hash((self.rules, self.algebra))
            object.__setattr__(self, "_hash", cached)
        return cached

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


def renamed(rule: Rule, old: Var, new: Var) -> Rule:
    """The rule with variable ``old`` made ``new`` on both sides."""
    def item(it: object) -> object:
        if it == old:
            return new
        if isinstance(it, (Call, Copy)) and it.var == old:
            return replace(it, var=new)
        return it
    return Rule(tuple(map(item, rule.lhs)), tuple(map(item, rule.rhs)))  # type: ignore[arg-type]


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


def item_data(item: LhsItem | RhsItem) -> list:
    """One item as JSON-ready data (``item_from_data`` reads it back); no pickle."""
    if isinstance(item, Word):
        return ["w", item.text]
    if isinstance(item, Token):
        return ["t", item.text]
    if isinstance(item, Var):
        return ["v", item.kind, item.index]
    if isinstance(item, Hole):
        return ["h", item.index]
    if isinstance(item, Copy):
        return ["p", item.var.kind, item.var.index]
    if isinstance(item, Const):
        return ["k", item.value]
    scale = item.scale
    return ["c", item.var.kind, item.var.index,
            ["h", scale.index] if isinstance(scale, Hole) else scale]


def item_from_data(data: list) -> LhsItem | RhsItem:
    """The item ``item_data`` gave; ValueError for anything else."""
    tag, *rest = data
    if tag == "w":
        return Word(str(rest[0]))
    if tag == "t":
        return Token(str(rest[0]))
    if tag == "v":
        return Var(rest[0], int(rest[1]))
    if tag == "h":
        return Hole(int(rest[0]))
    if tag == "p":
        return Copy(Var(rest[0], int(rest[1])))
    if tag == "k":
        return Const(int(rest[0]))
    if tag == "c":
        scale = rest[2]
        return Call(Var(rest[0], int(rest[1])),
                    Hole(int(scale[1])) if isinstance(scale, list) else int(scale))
    raise ValueError(f"not a rule item: {data!r}")


def program_data(program: Program) -> dict:
    """A program as JSON-ready data: its algebra and each rule's two sides."""
    return {"algebra": program.algebra,
            "rules": [[[item_data(i) for i in r.lhs], [item_data(i) for i in r.rhs]]
                      for r in program.rules]}


def program_from_data(data: dict) -> Program:
    """The program ``program_data`` gave."""
    rules = tuple(Rule(tuple(item_from_data(i) for i in lhs),  # type: ignore[misc]
                       tuple(item_from_data(i) for i in rhs))  # type: ignore[misc]
                  for lhs, rhs in data["rules"])
    return Program(rules, data["algebra"])
