"""Demonstration files: load, validate and represent ``demo.json``.

    {"domain": "scan" | "path/to/grammar.lark",
     "background": "rules already known, or a path to a rules file (optional)",
     "examples": [{"input": "jump twice", "output": "JUMP JUMP"}],
     "queries": ["jump around left", {"input": "walk and jump", "output": "WALK JUMP"}]}

Every defect is reported as a DemoError naming the field (``examples[2].output``).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from metarlm.errors import DemoError, InputError, MetarlmError, caret, shorten
from metarlm.lang.domain import Domain, load_domain
from metarlm.lang.dsl import Program
from metarlm.lang.limits import MAX_DIGITS, MAX_FILE_BYTES, MAX_JSON_DEPTH, MAX_PROGRAM_CHARS

Output = tuple[str, ...] | int
MAX_DEMO_BYTES = MAX_FILE_BYTES
FIELDS = ("domain", "background", "examples", "queries")
METADATA = ("name", "description", "about", "source")  # free text, ignored by the search
_INTEGER = re.compile(r"\s*-?[0-9]+\s*")


class _LongInt(int):
    """A JSON integer of more than MAX_DIGITS digits, kept as 0 with its length for the
    message (Python refuses to read integers of more than 4,300 digits)."""

    digits: int = 0


def _json_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        big = _LongInt(0)
        big.digits = len(text.lstrip("-"))
        return big
    return int(text)


@dataclass(frozen=True)
class Example:
    """One input → output pair; the output is a token tuple or an int (integer algebra)."""

    input: tuple[str, ...]
    output: Output


@dataclass(frozen=True)
class Query:
    """An input to answer; ``expected`` is set when the demo gives the output (scored)."""

    input: tuple[str, ...]
    expected: Output | None = None


@dataclass(frozen=True)
class Demo:
    """A validated demonstration."""

    domain: Domain
    examples: tuple[Example, ...]
    queries: tuple[Query, ...] = ()
    background: Program | None = None
    source: str = "<demo>"


def format_output(output: Output | None) -> str:
    """The text of an output as it appears in a demo file."""
    if output is None:
        return ""
    return str(output) if isinstance(output, int) else " ".join(output)


def parse_output(value: Any, domain: Domain, where: str) -> Output:
    """An output field: tokens (sequence algebra) or an integer (integer algebra)."""
    if domain.algebra == "int":
        return _integer(value, where)
    if not isinstance(value, str):
        raise DemoError(f"{where}: expected a string of output tokens, got {type(value).__name__}")
    tokens = tuple(value.split())
    if domain.tokens is not None:
        unknown = sorted({t for t in tokens if t not in domain.tokens})
        if unknown:
            raise DemoError(f"{where}: token(s) outside the {domain.name} domain: "
                            f"{' '.join(unknown)}")
    return tokens


def _integer(value: Any, where: str) -> int:
    """An integer output: a JSON integer or a string of decimal digits, at most MAX_DIGITS."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise DemoError(f"{where}: expected an integer, got {type(value).__name__}")
    if isinstance(value, str) and not _INTEGER.fullmatch(value):
        raise DemoError(f"{where}: expected an integer, got {shorten(value)!r}")
    digits = (value.digits if isinstance(value, _LongInt)
              else len(value.strip().lstrip("-")) if isinstance(value, str)
              else MAX_DIGITS + 1 if abs(value) >= 10**MAX_DIGITS else 0)
    if digits > MAX_DIGITS:
        raise DemoError(f"{where}: integer of {digits} digits; at most {MAX_DIGITS}")
    return int(value)


def _input(value: Any, domain: Domain, where: str) -> tuple[str, ...]:
    if not isinstance(value, str):
        raise DemoError(f"{where}: expected a string, got {type(value).__name__}")
    try:
        return domain.split(value)
    except InputError as err:
        raise DemoError(f"{where}: {err}") from None


def parse_demo(data: Any, base: Path | None = None, source: str = "<demo>",
               domain: str | None = None) -> Demo:
    """Validate a decoded demo object; relative paths resolve against ``base``.

    ``domain`` (a name or a .lark path relative to the working directory), when given,
    replaces the file's own domain field.
    """
    if not isinstance(data, dict):
        raise DemoError(f"{source}: the top level must be a JSON object")
    unknown = sorted(set(data) - set(FIELDS) - set(METADATA), key=str)
    if unknown:
        raise DemoError(f"{source}: unknown field(s): {shorten(', '.join(map(str, unknown)))} "
                        f"(fields: {', '.join(FIELDS)}; free text: {', '.join(METADATA)})")
    for key in METADATA:
        if key in data and not isinstance(data[key], str):
            raise DemoError(f"{source}: {key}: expected a string, got {type(data[key]).__name__}")
    if domain is not None:
        name = domain
    elif "domain" not in data or not isinstance(data["domain"], str):
        raise DemoError(f"{source}: domain: required, a built-in name or a .lark path")
    else:
        name = data["domain"]
        if base is not None and name.endswith(".lark") and not os.path.isabs(name):
            name = os.path.join(base, name)
    try:
        dom = load_domain(name)
    except MetarlmError as err:
        raise DemoError(f"{source}: domain: {err}", err.excerpt) from None
    return _validated(data, dom, base, source)


def _validated(data: dict, domain: Domain, base: Path | None, source: str) -> Demo:
    """The examples, queries and background of a demo object under its domain."""
    examples = data.get("examples")
    if not isinstance(examples, list):
        raise DemoError(f"{source}: examples: required, a list of {{input, output}} objects")
    exs = []
    for k, ex in enumerate(examples):
        where = f"{source}: examples[{k}]"
        if not isinstance(ex, dict) or "input" not in ex or "output" not in ex:
            raise DemoError(f"{where}: expected an object with input and output")
        exs.append(Example(_input(ex["input"], domain, f"{where}.input"),
                           parse_output(ex["output"], domain, f"{where}.output")))
    if not exs:
        raise DemoError(f"{source}: examples: at least one example is needed")
    _check_contradictions(exs, source)
    queries = data.get("queries", [])
    if not isinstance(queries, list):
        raise DemoError(f"{source}: queries: expected a list")
    qs = []
    for k, q in enumerate(queries):
        where = f"{source}: queries[{k}]"
        if isinstance(q, str):
            qs.append(Query(_input(q, domain, where)))
        elif isinstance(q, dict) and "input" in q:
            expected = (parse_output(q["output"], domain, f"{where}.output")
                        if "output" in q else None)
            qs.append(Query(_input(q["input"], domain, f"{where}.input"), expected))
        else:
            raise DemoError(f"{where}: expected a string or an object with input")
    background = _background(data.get("background"), domain, base, source)
    return Demo(domain, tuple(exs), tuple(qs), background, source)


def _check_contradictions(examples: list[Example], source: str) -> None:
    """DemoError if two examples give different outputs for the same input."""
    first: dict[tuple[str, ...], int] = {}
    for k, ex in enumerate(examples):
        j = first.setdefault(ex.input, k)
        if examples[j].output != ex.output:
            raise DemoError(f"{source}: examples[{j}] and examples[{k}] contradict each other: "
                            f"the same input {' '.join(ex.input)!r} with different outputs")


def _background(value: Any, domain: Domain, base: Path | None, source: str) -> Program | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise DemoError(f"{source}: background: expected rules text or a path to a rules file")
    text, where = value, f"{source}: background"
    candidate = value if base is None else os.path.join(base, value)
    # os.path.isfile, unlike Path.is_file, is False for names too long or with a NUL byte
    if "->" not in value and os.path.isfile(candidate):
        text, where = _rules_file(Path(candidate), source), candidate
    elif "->" not in value and value.strip():
        raise DemoError(f"{source}: background: rules file not found: {shorten(value)}")
    try:
        program = domain.parse(text, source=where)
    except MetarlmError as err:
        raise DemoError(f"{source}: background: {err}", err.excerpt) from None
    if program.holes():
        # known rules: a sketch belongs in `metarlm check PROGRAM`, where its holes are filled
        raise DemoError(f"{source}: background: rules already known cannot have holes (?)")
    return program


def _rules_file(path: Path, source: str) -> str:
    """A background rules file's text (DemoError if unreadable, too large or not UTF-8)."""
    where = f"{source}: background: {shorten(str(path))}"
    try:
        with path.open("rb") as handle:
            data = handle.read(4 * MAX_PROGRAM_CHARS + 1)
        return data.decode("utf-8")
    except OSError as err:
        raise DemoError(f"{where}: cannot read: {err.strerror}") from None
    except UnicodeDecodeError as err:
        raise DemoError(f"{where}: not UTF-8 text (byte {err.start})") from None


def _too_deep(data: Any) -> bool:
    """Whether arrays and objects nest more than MAX_JSON_DEPTH levels (walked without
    recursion, as the data may be deep)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = (value.values() if isinstance(value, dict)
                    else value if isinstance(value, list) else ())
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > MAX_JSON_DEPTH:
                    return True
                stack.append((child, depth + 1))
    return False


def read_json(path: Path) -> Any:
    """A JSON file's value (DemoError naming the file, and line and column when malformed)."""
    where = shorten(str(path), 200)
    try:
        if path.stat().st_size > MAX_DEMO_BYTES:
            raise DemoError(f"{where}: larger than {MAX_DEMO_BYTES} bytes")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DemoError(f"{where}: no such file") from None
    except IsADirectoryError:
        raise DemoError(f"{where}: is a directory") from None
    except (OSError, ValueError) as err:  # ValueError: a NUL byte in the name; bad UTF-8
        raise DemoError(f"{where}: cannot read: {err}") from None
    try:
        data = json.loads(text, parse_int=_json_int)
    except json.JSONDecodeError as err:
        raise DemoError(f"{where}:{err.lineno}:{err.colno}: malformed JSON: {err.msg}",
                        caret(text, err.lineno, err.colno)) from None
    except RecursionError:
        data = None
        deep = True
    else:
        deep = _too_deep(data)
    if deep:
        raise DemoError(f"{where}: arrays and objects nested more than {MAX_JSON_DEPTH} deep")
    return data


def load_demo(path: str | Path, domain: str | None = None) -> Demo:
    """Read and validate a demo file (DemoError with the field on any defect)."""
    p = Path(path)
    return parse_demo(read_json(p), p.parent, str(p), domain)
