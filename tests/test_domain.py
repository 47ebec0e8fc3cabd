"""Domains: built-in grammars, user grammar files, vocabularies, settings and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from metarlm.errors import DomainError, InputError, ProgramError
from metarlm.lang.domain import BUILTIN, finite_language, load_domain


@pytest.mark.parametrize("name", BUILTIN)
def test_builtin_domains_load(name: str) -> None:
    domain = load_domain(name)
    assert domain.algebra == ("int" if name == "numbers" else "seq")


def test_scan_vocabulary_is_closed() -> None:
    scan = load_domain("scan")
    assert scan.words is not None and "jump" in scan.words and len(scan.words) == 13
    assert scan.tokens == frozenset({"I_WALK", "I_RUN", "I_JUMP", "I_LOOK", "I_TURN_LEFT",
                                     "I_TURN_RIGHT"})
    assert scan.var_kinds == frozenset({"u", "x"})
    with pytest.raises(InputError, match="outside the scan domain: hop"):
        scan.split("hop twice")
    with pytest.raises(ProgramError, match="y1 is not allowed"):
        scan.parse("y1 twice -> [y1]")


def test_finite_language() -> None:
    assert finite_language("(?:walk|run)") == frozenset({"walk", "run"})
    assert finite_language("(?:A|B)") == frozenset({"A", "B"})
    assert finite_language("[a-z]+") is None


def test_user_grammar_file(tmp_path: Path) -> None:
    grammar = tmp_path / "lights.lark"
    grammar.write_text(
        "// @max_rules: 5\n// @variables: x\n"
        "%import .core (seq_program, WORD, TOKEN, UVAR, XVAR, YVAR, BLANK, COMMENT)\n"
        "%ignore BLANK\n%ignore COMMENT\nstart: seq_program\n"
        '%override WORD: "on" | "off" | "blink"\n%override TOKEN: "1" | "0"\n')
    domain = load_domain(str(grammar))
    assert domain.words == frozenset({"on", "off", "blink"})
    assert domain.tokens == frozenset({"1", "0"}) and domain.settings["max_rules"] == 5
    assert len(domain.parse("on -> 1\nx1 blink -> [x1] 0 [x1]")) == 2
    with pytest.raises(ProgramError) as err:
        domain.parse("on -> 1\noff -> 2")
    assert (err.value.line, err.value.column) == (2, 8)


def test_grammar_errors_are_domain_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.lark"
    bad.write_text("start: seq_program\n%import .core (seq_program\n")
    with pytest.raises(DomainError, match="bad.lark"):
        load_domain(str(bad))
    with pytest.raises(DomainError, match="unknown domain"):
        load_domain("klingon")
    with pytest.raises(DomainError, match="not found"):
        load_domain(str(tmp_path / "missing.lark"))


def test_input_limits() -> None:
    rules = load_domain("rules")
    with pytest.raises(InputError, match="empty input"):
        rules.split("   ")
    with pytest.raises(InputError, match="max_words"):
        rules.split("a " * 10_000)
