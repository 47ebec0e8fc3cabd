"""Domain plugins are opt-in: a grammar declares them, and search settings, in comment lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from metarlm.errors import DomainError
from metarlm.lang.demo import parse_demo
from metarlm.lang.domain import load_domain
from metarlm.synth.plugins import load_plugins, plugin_names
from metarlm.synth.search import searcher, synthesize
from metarlm.types import Budget, SearchSettings

GRAMMAR = """\
// {settings}
%import .core (int_program, WORD, UVAR, XVAR, YVAR, BLANK, COMMENT)
%ignore BLANK
%ignore COMMENT
start: int_program
"""


def _grammar(tmp_path: Path, settings: str) -> Path:
    path = tmp_path / f"mine{abs(hash(settings))}.lark"  # domains are cached by path
    path.write_text(GRAMMAR.format(settings=settings), encoding="utf-8")
    return path


def test_built_in_domains_declare_their_biases() -> None:
    assert load_domain("numbers").biases == frozenset({"numerals"})
    for name in ("scan", "miniscan", "code", "rules"):
        assert load_domain(name).biases == frozenset({"precedence"})
    assert set(plugin_names()) == {"numerals", "precedence"}


def test_a_users_integer_domain_gets_no_numeral_bias(tmp_path: Path) -> None:
    domain = load_domain(_grammar(tmp_path, "@max_rules: 20"))
    assert domain.biases == frozenset()
    demo = parse_demo({"domain": str(domain.path), "examples": [{"input": "zorp", "output": 3}]})
    assert searcher(demo, Budget()).ctx.plugins == ()
    numbers = parse_demo({"domain": "numbers", "examples": [{"input": "zorp", "output": 3}]})
    assert [p.name for p in searcher(numbers, Budget()).ctx.plugins] == ["numerals"]


def test_settings_come_from_the_plugin_then_the_grammar(tmp_path: Path) -> None:
    assert load_domain(_grammar(tmp_path, "@cut_depth: 5")).search == {"cut_depth": 5}
    demo = parse_demo({"domain": str(_grammar(tmp_path, "@examples_per_step: 2")),
                       "examples": [{"input": "zorp", "output": 3}]})
    assert searcher(demo, Budget()).ctx.settings.examples_per_step == 2
    numbers = parse_demo({"domain": "numbers", "examples": [{"input": "zorp", "output": 3}]})
    assert searcher(numbers, Budget()).ctx.settings.examples_per_step == 6  # numerals' own
    assert "cut_depth" in SearchSettings.names()


def test_an_unknown_bias_or_setting_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(DomainError, match="unknown or malformed setting @beams"):
        load_domain(_grammar(tmp_path, "@beams: 3"))
    with pytest.raises(DomainError, match="unknown bias 'nonsense'"):
        load_plugins({"nonsense"})
    demo = parse_demo({"domain": str(_grammar(tmp_path, "@bias: nonsense")),
                       "examples": [{"input": "zorp", "output": 3}]})
    with pytest.raises(DomainError, match="unknown bias"):
        synthesize(demo, use_model=False, timeout=2)
