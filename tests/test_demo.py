"""Demonstration files: validation names the field; outputs follow the domain's algebra."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metarlm.errors import DemoError
from metarlm.lang.demo import Example, Query, load_demo, parse_demo


def test_load_shipped_demo() -> None:
    demo = load_demo("examples/miniscan/demo.json")
    assert len(demo.examples) == 14 and len(demo.queries) == 8
    assert demo.examples[0] == Example(("dax",), ("RED",))


def test_integer_outputs_and_plain_queries() -> None:
    demo = parse_demo({"domain": "numbers", "examples": [{"input": "two", "output": "2"}],
                       "queries": ["two", {"input": "two", "output": 2}]})
    assert demo.examples[0].output == 2
    assert demo.queries == (Query(("two",)), Query(("two",), 2))


def test_background_from_file(tmp_path: Path) -> None:
    (tmp_path / "bg.rules").write_text("dax -> RED\n")
    (tmp_path / "demo.json").write_text(json.dumps({
        "domain": "miniscan", "background": "bg.rules",
        "examples": [{"input": "dax", "output": "RED"}]}))
    demo = load_demo(tmp_path / "demo.json")
    assert demo.background is not None and len(demo.background) == 1


@pytest.mark.parametrize("data, field", [
    ([], "top level"),
    ({"examples": []}, "domain"),
    ({"domain": "scan"}, "examples"),
    ({"domain": "scan", "examples": [{"input": "jump"}]}, "examples[0]"),
    ({"domain": "scan", "examples": [{"input": 3, "output": "I_JUMP"}]}, "examples[0].input"),
    ({"domain": "numbers", "examples": [{"input": "two", "output": "zwei"}]}, "examples[0].output"),
    ({"domain": "scan", "examples": [{"input": "jump", "output": "I_JUMP"}], "queries": [3]},
     "queries[0]"),
    ({"domain": "scan", "examples": [{"input": "jump", "output": "I_JUMP"}],
      "background": "jump ->> I_JUMP"}, "background"),
    ({"domain": "scan", "examples": [{"input": "jump", "output": "I_JUMP"}], "extra": 1},
     "unknown field"),
])
def test_defects_name_the_field(data: object, field: str) -> None:
    with pytest.raises(DemoError, match=field.replace("[", r"\[").replace("]", r"\]")):
        parse_demo(data)


def test_malformed_json_has_a_position(tmp_path: Path) -> None:
    path = tmp_path / "demo.json"
    path.write_text('{"domain": "scan",\n "examples": [}')
    with pytest.raises(DemoError, match=r"demo.json:2:\d+: malformed JSON"):
        load_demo(path)
