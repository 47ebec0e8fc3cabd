"""Build a Program from a Lark parse tree of ``seq_program`` or ``int_program`` (``core.lark``).

Variables must appear once on a left-hand side, and a right-hand side may name only its own
left-hand side's variables; violations are ProgramErrors with line and column.
"""

from __future__ import annotations

from metarlm.errors import ProgramError
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
