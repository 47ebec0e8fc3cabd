"""The rule language's text form: print -> parse round trip, and located parse errors."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from strategies import programs

from metarlm.errors import ProgramError
from metarlm.lang.domain import parse_program
from metarlm.lang.dsl import (
    Call,
    Hole,
    Program,
    Rule,
    Token,
    Var,
    Word,
    item_from_data,
    print_program,
    program_data,
    program_from_data,
)

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def domain_of(program: Program) -> str:
    return "rules" if program.algebra == "seq" else "numbers"


@SETTINGS
@given(programs())
def test_print_parse_round_trip(program: Program) -> None:
    text = print_program(program)
    assert parse_program(text, domain_of(program)) == program
    assert print_program(parse_program(text, domain_of(program))) == text


@SETTINGS
@given(programs())
def test_rules_may_be_separated_by_semicolons(program: Program) -> None:
    text = " ; ".join(print_program(program).splitlines())
    assert parse_program(text, domain_of(program)) == program


@SETTINGS
@given(programs())
def test_program_data_round_trip_through_json(program: Program) -> None:
    import json

    assert program_from_data(json.loads(json.dumps(program_data(program)))) == program


def test_program_data_rejects_what_is_no_item() -> None:
    with pytest.raises(ValueError, match="not a rule item"):
        item_from_data(["z", 1])


def test_printing_is_canonical() -> None:
    program = Program((Rule((Var("x", 1), Word("hundred"), Var("y", 1)),
                            (Call(Var("x", 1), 100), Call(Var("y", 1)), Hole(0))),), "int")
    assert print_program(program) == "x1 hundred y1 -> [x1] * 100 + [y1] + ?"
    seq = Program((Rule((Word("turn"),), ()), Rule((Word("a"),), (Token("A"), Hole(0)))))
    assert print_program(seq) == "turn ->\na -> A ?"


@pytest.mark.parametrize("text, domain, line, column, words", [
    ("a -> A\n-> B", "rules", 2, 1, "unexpected '->'"),
    ("a -> A\nb -> [x1]", "rules", 2, 7, "not bound"),
    ("x1 x1 -> A", "rules", 1, 4, "appears twice"),
    ("a -> [x1", "rules", 1, 7, "end of input"),
    ("a -> A\nb -> B\n  c -> ] ", "rules", 3, 8, "unexpected ']'"),
    ("a -> A", "numbers", 1, 6, "unexpected 'A'"),
])
def test_parse_errors_carry_line_and_column(text: str, domain: str, line: int, column: int,
                                            words: str) -> None:
    with pytest.raises(ProgramError) as err:
        parse_program(text, domain, source="rules.txt")
    assert (err.value.line, err.value.column) == (line, column)
    assert str(err.value).startswith(f"rules.txt:{line}:{column}: ")
    assert words in str(err.value) and "\n" not in str(err.value)


def test_holes_are_numbered_left_to_right() -> None:
    program = parse_program("x1 -> [x1] * ? + ?\na -> ?", "numbers")
    assert program.holes() == 3
    assert program.rules[0].rhs == (Call(Var("x", 1), Hole(0)), Hole(1))
    assert program.rules[1].rhs == (Hole(2),)
