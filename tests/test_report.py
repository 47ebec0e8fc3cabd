"""What synthesis prints: ``--json`` types and keys, and reports readable in any console."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from rich.console import Console

from metarlm.exec.check import check_demo
from metarlm.lang.demo import parse_demo
from metarlm.lang.domain import parse_program
from metarlm.synth.report import print_result
from metarlm.synth.search import Alternative, QueryAnswer, SynthesisResult, synthesize
from metarlm.types import SearchConfig

ROOT = Path(__file__).resolve().parent.parent
NO_MODEL = SearchConfig(use_model=False, timeout=30)
LONG = ("I_TURN_LEFT " * 12).split()


def numbers_demo():  # type: ignore[no-untyped-def]
    return parse_demo({"domain": "numbers", "background": "one -> 1\ntwo -> 2\nnine -> 9",
                       "examples": [{"input": "two ten", "output": 20},
                                    {"input": "nine ten", "output": 90}],
                       "queries": [{"input": "one ten", "output": 10}, "nine", "zzz"]})


def made_result() -> SynthesisResult:
    """A hand-made result: two equal rules, a long output, an integer runner-up."""
    demo = parse_demo({"domain": "rules", "examples": [{"input": "a", "output": "A"}],
                       "queries": [{"input": "a a", "output": " ".join(LONG)}]})
    program = parse_program("a -> A\na -> A\nu1 u2 -> [u1] [u2]", "rules")
    report = check_demo(program, demo)
    queries = (QueryAnswer(("a", "a"), ("A", "A"), None, tuple(LONG)),)
    runner_up = Alternative(parse_program("a -> 7", "numbers"), ("a",), "7", "!FAIL no rule")
    origin = (("a -> A", "model"), ("a -> A", "a one-word example"),
              ("u1 u2 -> [u1] [u2]", "level 1: read off “a a”"))
    return SynthesisResult(program, None, report, queries, 5, 0.1, (runner_up,), origin)


def test_json_integers_are_numbers() -> None:
    record = synthesize(numbers_demo(), NO_MODEL).to_json()
    assert record["consistent"]
    assert [e["expected"] for e in record["examples"]] == [20, 90]
    assert [e["output"] for e in record["examples"]] == [20, 90]
    first, second, third = record["queries"]
    assert first["output"] == first["expected"] == 10 and first["correct"] is True
    assert second == {"input": "nine", "output": 9}
    assert third["output"] is None and third["failure"] == "no rule"
    assert json.loads(json.dumps(record)) == record


def test_json_origin_is_a_list_in_program_order() -> None:
    record = made_result().to_json()
    assert record["origin"] == [{"rule": "a -> A", "origin": "model"},
                                {"rule": "a -> A", "origin": "a one-word example"},
                                {"rule": "u1 u2 -> [u1] [u2]", "origin": "level 1: read off “a a”"}]
    assert record["alternatives"] == [{"program": "a -> 7", "input": "a", "output": 7,
                                       "chosen_output": None, "chosen_failure": "no rule"}]


def test_synthesized_origin_follows_the_program() -> None:
    result = synthesize(numbers_demo(), NO_MODEL)
    assert result.program is not None
    rules = str(result.program).splitlines()
    assert [rule for rule, _ in result.origin] == rules
    assert [where for _, where in result.origin][:3] == ["background"] * 3


def test_the_readme_documents_every_json_key() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("`--json` prints one object")
    documented = set(re.findall(r"`(\w+)`", readme[start:readme.index("Exit codes", start)]))
    record = made_result().to_json() | {"explanation": []}
    keys = set(record) | {k for key in ("examples", "queries", "alternatives", "origin")
                          for item in record[key] for k in item}
    keys |= {"failure", "expected", "correct"}  # present when a run fails or a demo scores
    assert keys <= documented, sorted(keys - documented)


def report_text(result: SynthesisResult, terminal: bool, width: int) -> str:
    out = io.StringIO()
    print_result(result, Console(file=out, width=width, force_terminal=terminal,
                                 color_system=None), ())
    return out.getvalue()


def test_a_pipe_gets_one_line_per_rule_and_query() -> None:
    text = report_text(made_result(), terminal=False, width=80)
    lines = text.splitlines()
    assert "╭" not in text and "┃" not in text
    assert sum("a -> A" in line for line in lines) == 2  # both equal rules, with their origins
    assert any(line.strip() == "a -> A  # model" for line in lines)
    query = [line for line in lines if line.lstrip().startswith("✗ a a →")]
    assert len(query) == 1 and query[0].endswith(f"(expected {' '.join(LONG)})")


def test_a_narrow_terminal_never_wraps_cells_into_rows() -> None:
    text = report_text(made_result(), terminal=True, width=80)
    assert "┃" not in text  # the query table would not fit 80 columns
    assert any(" ".join(LONG) in line for line in text.splitlines())


def test_a_wide_terminal_gets_tables() -> None:
    text = report_text(made_result(), terminal=True, width=300)
    assert "┃ input" in text and "╭" in text
    row = [line for line in text.splitlines() if "│ a a " in line]
    assert len(row) == 1 and " ".join(LONG) in row[0]
