"""Build a Program from a Lark parse tree of ``seq_program`` or ``int_program`` (``core.lark``).

Variables must appear once on a left-hand side, and a right-hand side may name only its own
left-hand side's variables; violations are ProgramErrors with line and column. A user grammar
may reshape the tree (a start rule that is not a program, an overridden terminal that lexes
``uabc`` as a variable): every node is checked, so such a grammar gives a ProgramError too.
"""

from __future__ import annotations

import re
from typing import Any

from metarlm.errors import ProgramError, shorten
from metarlm.lang.dsl import (
    Algebra,
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
)
from metarlm.lang.limits import MAX_DIGITS

_INT = re.compile(r"[0-9]+")
_VAR = re.compile(r"([uxy])([1-9][0-9]*)")
_VAR_KIND = {"UVAR": "u", "XVAR": "x", "YVAR": "y"}


def short(name: object) -> str:
    """A rule or terminal name without Lark's import namespaces (``core__seq_rule``)."""
    return str(name).rsplit("__", 1)[-1]


class _Builder:
    """Walks one parse tree; ``fail`` raises a ProgramError at a node's first token."""

    def __init__(self, text: str, algebra: Algebra, source: str) -> None:
        self.text, self.algebra, self.source = text, algebra, source
        self.holes = 0

    def fail(self, message: str, node: Any) -> ProgramError:
        tok = _first_token(node)
        line, col = (getattr(tok, "line", None), getattr(tok, "column", None))
        return ProgramError(message, line, col, self.source, self.text)

    def unreadable(self, node: Any) -> ProgramError:
        return self.fail(f"the grammar parsed this text as {_name(node)!r}, which is not part "
                         "of the rule language (check the grammar's start rule and overrides)",
                         node)

    def children(self, node: Any, count: int) -> list[Any]:
        kids = list(getattr(node, "children", ()))
        if len(kids) != count:
            raise self.unreadable(node)
        return kids

    def token(self, node: Any) -> Any:
        """The single Lark token under a one-token rule such as ``word`` or ``bound``."""
        from lark import Token as LarkToken

        (tok,) = self.children(node, 1)
        if not isinstance(tok, LarkToken):
            raise self.unreadable(node)
        return tok

    def var(self, node: Any) -> Var:
        """The variable of a ``bound``/``var`` node: kind from its terminal, index from text."""
        tok = self.token(node)
        kind = _VAR_KIND.get(short(tok.type))
        found = _VAR.fullmatch(tok.value)
        if kind is None or found is None or found.group(1) != kind:
            raise self.fail(f"{shorten(tok.value)!r} is not a variable: write {kind or 'u'} "
                            "followed by a number from 1 (the grammar lexes it as one)", tok)
        if len(found.group(2)) > MAX_DIGITS:
            raise self.fail(f"variable index of {len(found.group(2))} digits; at most "
                            f"{MAX_DIGITS}", tok)
        return Var(kind, int(found.group(2)))  # type: ignore[arg-type]

    def integer(self, node: Any) -> int:
        tok = self.token(node)
        if not _INT.fullmatch(tok.value):
            raise self.fail(f"{shorten(tok.value)!r} is not an integer literal", tok)
        if len(tok.value) > MAX_DIGITS:
            raise self.fail(f"integer literal of {len(tok.value)} digits; at most {MAX_DIGITS}",
                            tok)
        return int(tok.value)

    def hole(self) -> Hole:
        self.holes += 1
        return Hole(self.holes - 1)

    def rhs_item(self, node: Any) -> RhsItem:
        kind = _name(node)
        if kind == "token" and self.algebra == "seq":
            return Token(self.token(node).value)
        if kind == "hole":
            return self.hole()
        if kind == "const" and self.algebra == "int":
            return Const(self.integer(node))
        if kind == "copy" and self.algebra == "seq":
            return Copy(self.var(self.children(node, 1)[0]))
        if kind == "call":
            return Call(self.var(self.children(node, 1)[0]))
        if kind == "scaled" and self.algebra == "int":
            call, factor = self.children(node, 2)
            if _name(call) != "call" or _name(factor) not in ("const", "hole"):
                raise self.unreadable(node)
            scale = self.hole() if _name(factor) == "hole" else self.integer(factor)
            return Call(self.var(self.children(call, 1)[0]), scale)
        raise self.unreadable(node)

    def lhs(self, node: Any) -> tuple[LhsItem, ...]:
        if _name(node) != "lhs" or not getattr(node, "children", None):
            raise self.unreadable(node)
        items: list[LhsItem] = []
        seen: set[Var] = set()
        for it in node.children:
            if _name(it) == "word":
                items.append(Word(self.token(it).value))
                continue
            if _name(it) != "bound":
                raise self.unreadable(it)
            var = self.var(it)
            if var in seen:
                raise self.fail(f"variable {var.name} appears twice on the left", it)
            seen.add(var)
            items.append(var)
        return tuple(items)

    def rule(self, node: Any) -> Rule:
        lhs_node, _arrow, rhs_node = self.children(node, 3)
        lhs = self.lhs(lhs_node)
        if _name(rhs_node) != f"{self.algebra}_rhs":
            raise self.unreadable(rhs_node)
        rhs = tuple(self.rhs_item(it) for it in rhs_node.children)
        bound = set(Rule(lhs, ()).variables())
        for it, sub in zip(rhs, rhs_node.children):
            var = getattr(it, "var", None)
            if var is not None and var not in bound:
                raise self.fail(f"variable {var.name} is not bound on the left-hand side", sub)
        return Rule(lhs, rhs)


def _name(node: Any) -> str:
    return short(getattr(node, "data", getattr(node, "type", "")))


def _first_token(node: Any) -> Any:
    """The first Lark token at or under a node (None for an empty subtree)."""
    from lark import Token as LarkToken

    if isinstance(node, LarkToken):
        return node
    for tok in getattr(node, "scan_values", lambda _: ())(lambda v: isinstance(v, LarkToken)):
        return tok
    return None


def parse_rules(text: str, algebra: Algebra, tree: object, source: str) -> Program:
    """Build a Program from a Lark parse tree of ``seq_program``/``int_program``."""
    builder = _Builder(text, algebra, source)
    program_nodes = [node for node in tree.iter_subtrees_topdown()  # type: ignore[attr-defined]
                     if _name(node) == f"{algebra}_program"]
    if not program_nodes:
        raise builder.fail(f"the grammar's start rule took this text, but not as a program "
                           f"({algebra}_program)", tree)
    rules = []
    for program in program_nodes:
        for node in program.children:
            if _name(node) != f"{algebra}_rule":
                raise builder.unreadable(node)
            rules.append(builder.rule(node))
    return Program(tuple(rules), algebra)
