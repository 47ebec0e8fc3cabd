"""Hostile inputs for the fuzz suite (``test_fuzz.py``): mutations of the shipped grammars,
demos and programs, and hostile JSON values, text and option values.

Valid inputs come from ``metarlm.testing``; these strategies bend them: characters inserted,
deleted or replaced, lines dropped, duplicated or swapped, snippets that stress Lark, the
settings, the integer limits and the file system spliced in.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
GRAMMARS = sorted((ROOT / "grammar").glob("*.lark"))
USER_GRAMMARS = [ROOT / "examples" / "lights" / "lights.lark",
                 *sorted((ROOT / "benchmarks" / "unseen").glob("*.lark"))]
DEMOS = sorted([*(ROOT / "examples").glob("**/*.json"),
                *(p for p in (ROOT / "benchmarks" / "unseen").glob("*.json")
                  if p.name != "baseline.json")])
DOMAIN_NAMES = ("scan", "miniscan", "numbers", "code", "rules")
SPECIAL = " \t\n\r;#?[]*+->0123456789uxyAa_\\/\"'(){}|.^$%:@"
UNICODE = "\x00\x0b\x1b\x85\u00b2\u0663\u2028\u00e9\u4e00\U0001f600\ufeff"

# integers around every limit: Python's 4,300 digits, the 100-digit literal, 2^62 and 2^63
BIG_DIGITS = ("9" * 19, "4611686018427387904", "9" * 101, "9" * 4301, "1" + "0" * 30)
REGEXES = ("(?i)walk", "a{4294967296}", "a{1000}", "[", ")", "\\", "", "(?P<x>a)", "a++",
           "\\d+", ".", ".+", "(?=a)", "\\s+", "[^\\s]+", "x[0-9]+", "u[a-z]+", "u[1-9]",
           "[a-z]+", "(?:a|b)", "a|", "\\n", "->", "?", " ", "[0-9]+", "\\x00")
NAMES = ("seq_program", "int_program", "WORD", "TOKEN", "UVAR", "XVAR", "YVAR", "BLANK",
         "COMMENT", "INT", "seq_rule", "lhs", "NEWLINE", "core", "start", "foo")
PATHS = ("x" * 300 + ".lark", "missing.lark", "/", ".", "..", "/dev/null", "/bin/ls",
         "a\x00b.lark", "dir.lark", "\n.lark", "~/x.rules", "x" * 300, "/proc/self/mem")


def text_of(alphabet: str = SPECIAL + "abdwz", max_size: int = 60) -> st.SearchStrategy[str]:
    """Short text over the rule language's punctuation, some letters and odd characters."""
    return st.text(st.sampled_from(alphabet + UNICODE), max_size=max_size)


@st.composite
def mutated(draw: st.DrawFn, text: str, steps: int = 4) -> str:
    """``text`` with a few character or line edits and perhaps a hostile snippet."""
    for _ in range(draw(st.integers(1, steps))):
        kind = draw(st.sampled_from(("insert", "delete", "replace", "line", "snippet", "dup")))
        pos = draw(st.integers(0, len(text)))
        if kind == "insert":
            text = text[:pos] + draw(text_of(max_size=8)) + text[pos:]
        elif kind == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 12)):]
        elif kind == "replace" and text:
            text = text[:pos] + draw(st.sampled_from(SPECIAL + UNICODE)) + text[pos + 1:]
        elif kind == "line":
            lines = text.split("\n")
            k = draw(st.integers(0, max(0, len(lines) - 1)))
            choice = draw(st.sampled_from(("drop", "swap", "repeat")))
            if choice == "drop":
                del lines[k]
            elif choice == "swap" and len(lines) > 1:
                j = draw(st.integers(0, len(lines) - 1))
                lines[k], lines[j] = lines[j], lines[k]
            else:
                lines.insert(k, lines[k] if lines else "")
            text = "\n".join(lines)
        elif kind == "snippet":
            text = text[:pos] + draw(st.sampled_from(BIG_DIGITS + ("[", "]" * 3, "->", "?")))\
                + text[pos:]
        else:
            text = text + text[: draw(st.integers(0, 200))]
    return text


@st.composite
def grammar_lines(draw: st.DrawFn) -> str:
    """One line that a user might put in a grammar, often wrong."""
    value = st.one_of(st.sampled_from(BIG_DIGITS + ("0", "1", "64", "-3", "\u00b2", "", "x",
                                                    "1000", "1001", "u x", "u q", "y")),
                      text_of(max_size=6))
    regex = st.one_of(st.sampled_from(REGEXES), text_of(max_size=6))
    words = st.lists(st.sampled_from(("walk", "u1", "a", "->", "", " ", "A", "x y")),
                     min_size=1, max_size=4)
    return draw(st.one_of(
        st.builds("// @{}: {}".format, st.sampled_from(("max_rules", "max_words", "variables",
                                                         "author", "\u00e9")), value),
        st.builds("%override {}: {}".format, st.sampled_from(("WORD", "TOKEN", "UVAR.2", "XVAR",
                                                               "INT", "BLANK")),
                  st.one_of(regex.map("/{}/".format),
                            words.map(lambda ws: " | ".join(json.dumps(w) for w in ws)))),
        st.builds("%import {}{} ({})".format, st.sampled_from((".", "", "..")),
                  st.sampled_from(("core", "common", "nope", "rules")),
                  st.lists(st.sampled_from(NAMES), min_size=1, max_size=3).map(", ".join)),
        st.builds("%ignore {}".format, st.sampled_from(NAMES + ('" "', '"a"', "/ /"))),
        st.builds("{}: {}".format, st.sampled_from(("start", "my_seq_rule", "foo", "?x",
                                                    "seq_rule")),
                  st.lists(st.sampled_from(NAMES + ('"zz"', "|", "*", "(", ")", "+", "?")),
                           min_size=1, max_size=4).map(" ".join)),
        st.sampled_from(("%declare FOO", "start: (", "%override lhs: WORD+", "//", "%ignore",
                         "%import .core.seq_program -> prog", "start: seq_program foo")),
    ))


@st.composite
def grammar_texts(draw: st.DrawFn) -> tuple[str, str | None]:
    """A shipped grammar, mutated: (its text, a mutated core.lark beside it, or None)."""
    path = draw(st.sampled_from([p for p in GRAMMARS if p.name != "core.lark"]
                                + USER_GRAMMARS))
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    for _ in range(draw(st.integers(0, 3))):
        lines.insert(draw(st.integers(0, len(lines))), draw(grammar_lines()))
    text = "\n".join(lines)
    if draw(st.booleans()):
        text = draw(mutated(text, 3))
    core = None
    if draw(st.integers(0, 9)) == 0:  # sometimes the rule language itself is edited
        core = draw(mutated((ROOT / "grammar" / "core.lark").read_text(encoding="utf-8"), 2))
    return text, core


def json_values(max_leaves: int = 6) -> st.SearchStrategy[Any]:
    """Hostile JSON-like values: wrong types, huge integers, odd strings, nesting."""
    leaves = st.one_of(
        st.none(), st.booleans(), st.integers(-3, 3),
        st.sampled_from((2**62, 2**63, 10**30, -(10**101))),
        st.builds(pow, st.just(10), st.just(4400)),  # built late: its repr would fail
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(PATHS + DOMAIN_NAMES + ("", " ", "jump", "a -> A", "x1 -> [x1] * ?",
                                                "I_JUMP", "9" * 4301, "a " * 300)),
        text_of(max_size=12))
    return st.recursive(leaves, lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(("input", "output", "x", "")), inner, max_size=2)),
        max_leaves=max_leaves)


def shipped_demo(path: Path) -> dict[str, Any]:
    """A shipped demo file's object."""
    return json.loads(path.read_text(encoding="utf-8"))


@st.composite
def mutated_demo(draw: st.DrawFn, data: dict[str, Any]) -> dict[str, Any]:
    """A demo object with fields dropped, replaced by hostile values or added."""
    out: dict[str, Any] = copy.deepcopy(data)
    for _ in range(draw(st.integers(1, 3))):
        field = draw(st.sampled_from(("domain", "background", "examples", "queries", "name",
                                      "description", "about", "extra", "examples[]",
                                      "queries[]")))
        action = draw(st.sampled_from(("drop", "hostile", "hostile")))
        if field.endswith("[]"):
            items = out.get(field[:-2])
            if isinstance(items, list) and items:
                k = draw(st.integers(0, len(items) - 1))
                key = draw(st.sampled_from(("input", "output", "whole")))
                if key == "whole" or not isinstance(items[k], dict):
                    items[k] = draw(json_values())
                else:
                    items[k][key] = draw(json_values())
        elif action == "drop":
            out.pop(field, None)
        else:
            out[field] = draw(json_values())
    return out


def deep(depth: int) -> str:
    """JSON text nested ``depth`` arrays deep."""
    return "[" * depth + "]" * depth
