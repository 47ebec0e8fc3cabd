"""Demonstration files: load, validate and represent ``demo.json``.

    {"domain": "scan" | "path/to/grammar.lark",
     "background": "rules already known, or a path to a rules file (optional)",
     "examples": [{"input": "jump twice", "output": "JUMP JUMP"}],
     "queries": ["jump around left", {"input": "walk and jump", "output": "WALK JUMP"}]}

Every defect is reported as a DemoError naming the field (``examples[2].output``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from metarlm.errors import DemoError, InputError, MetarlmError
from metarlm.lang.domain import Domain, load_domain
from metarlm.lang.dsl import Program

Output = tuple[str, ...] | int
MAX_DEMO_BYTES = 50_000_000


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
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise DemoError(f"{where}: expected an integer, got {type(value).__name__}")
        try:
            return int(value)
        except ValueError:
            raise DemoError(f"{where}: expected an integer, got {value!r}") from None
    if not isinstance(value, str):
        raise DemoError(f"{where}: expected a string of output tokens, got {type(value).__name__}")
    tokens = tuple(value.split())
    if domain.tokens is not None:
        unknown = sorted({t for t in tokens if t not in domain.tokens})
        if unknown:
            raise DemoError(f"{where}: token(s) outside the {domain.name} domain: "
                            f"{' '.join(unknown)}")
    return tokens


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
    unknown = sorted(set(data) - {"domain", "background", "examples", "queries", "source", "about"})
    if unknown:
        raise DemoError(f"{source}: unknown field(s): {', '.join(unknown)}")
    if domain is not None:
        name = domain
    elif "domain" not in data or not isinstance(data["domain"], str):
        raise DemoError(f"{source}: domain: required, a built-in name or a .lark path")
    else:
        name = data["domain"]
        if base is not None and name.endswith(".lark") and not Path(name).is_absolute():
            name = str(base / name)
    try:
        dom = load_domain(name)
    except MetarlmError as err:
        raise DemoError(f"{source}: domain: {err}") from None
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
    candidate = Path(value) if base is None else base / value
    if "->" not in value and candidate.is_file():
        text, where = candidate.read_text(encoding="utf-8"), str(candidate)
    elif "->" not in value and value.strip():
        raise DemoError(f"{source}: background: rules file not found: {value}")
    try:
        return domain.parse(text, source=where)
    except MetarlmError as err:
        raise DemoError(f"{source}: background: {err}") from None


def load_demo(path: str | Path, domain: str | None = None) -> Demo:
    """Read and validate a demo file (DemoError with the field on any defect)."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_DEMO_BYTES:
            raise DemoError(f"{p}: larger than {MAX_DEMO_BYTES} bytes")
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DemoError(f"{p}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise DemoError(f"{p}: cannot read: {err}") from None
    except json.JSONDecodeError as err:
        raise DemoError(f"{p}:{err.lineno}:{err.colno}: malformed JSON: {err.msg}") from None
    return parse_demo(data, p.parent, str(p), domain)
