"""Domains: a Lark grammar file that imports ``core.lark`` and fixes algebra and vocabulary.

A domain is named (``scan``, ``miniscan``, ``numbers``, ``code``, ``rules``: files shipped in
``metarlm/grammar``) or given as a path to a ``.lark`` file. From the grammar we read

- the value algebra: ``seq`` when it uses ``seq_program``, ``int`` when ``int_program``;
- the words and output tokens: finite when ``WORD``/``TOKEN`` are overridden by a list of
  strings, open (``None``) when they keep the core's regular expressions;
- settings from comment lines ``// @key: value``: ``max_rules`` and ``max_words`` (integers),
  ``variables`` (the variable kinds allowed, e.g. ``// @variables: u x``; default all),
  ``bias`` (the search plugins the domain opts into, e.g. ``// @bias: numerals``; none by
  default) and any search setting of ``metarlm.types.SearchSettings`` (``// @cut_depth: 4``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metarlm import grammar as _grammar
from metarlm.errors import DomainError, InputError, ProgramError
from metarlm.lang.build import parse_rules
from metarlm.lang.dsl import Algebra, Program
from metarlm.types import SearchSettings

# the grammar folder is installed as the package metarlm.grammar (see pyproject.toml)
GRAMMAR_DIR = Path(_grammar.__file__).resolve().parent
BUILTIN = ("scan", "miniscan", "numbers", "code", "rules")
DEFAULT_SETTINGS: dict[str, int] = {"max_rules": 64, "max_words": 256}
_SETTING = re.compile(r"^\s*//\s*@(\w+)\s*:\s*(.*?)\s*$", re.M)


@dataclass(frozen=True)
class Domain:
    """A loaded domain grammar; ``parse`` turns program text into a Program."""

    name: str
    path: Path
    algebra: Algebra
    words: frozenset[str] | None
    tokens: frozenset[str] | None
    var_kinds: frozenset[str]
    settings: dict[str, int] = field(hash=False, compare=False)
    parser: Any = field(repr=False, hash=False, compare=False)
    biases: frozenset[str] = frozenset()  # search plugins the grammar declares (@bias)
    search: dict[str, int] = field(default_factory=dict, hash=False, compare=False)

    def parse(self, text: str, source: str = "<program>") -> Program:
        """Parse program text; raise ProgramError naming source, line and column."""
        from lark.exceptions import UnexpectedInput

        try:
            tree = self.parser.parse(text)
        except UnexpectedInput as err:
            raise ProgramError(_describe(err, text), err.line, err.column, source) from None
        program = parse_rules(text, self.algebra, tree, source)
        for rule in program.rules:
            off = [v.name for v in rule.variables() if v.kind not in self.var_kinds]
            if off:
                raise ProgramError(f"variable {off[0]} is not allowed in the {self.name} domain "
                                   f"(variables: {' '.join(sorted(self.var_kinds))})",
                                   source=source)
        if len(program) > self.settings["max_rules"]:
            raise ProgramError(f"{len(program)} rules, more than the domain's "
                               f"max_rules = {self.settings['max_rules']}", source=source)
        return program

    def split(self, text: str) -> tuple[str, ...]:
        """Split an input into words and check them against the domain (InputError if not)."""
        words = tuple(text.split())
        if not words:
            raise InputError("empty input")
        if len(words) > self.settings["max_words"]:
            raise InputError(f"input of {len(words)} words is longer than the domain's "
                             f"max_words = {self.settings['max_words']}")
        if self.words is not None:
            unknown = sorted({w for w in words if w not in self.words})
            if unknown:
                raise InputError(f"word(s) outside the {self.name} domain: {' '.join(unknown)}")
        return words


def _describe(err: Exception, text: str) -> str:
    """One line saying what Lark found and what it expected."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    expected = sorted(getattr(err, "expected", None) or getattr(err, "allowed", None) or [])
    names = ", ".join(_pretty_terminal(t) for t in expected[:8])
    if isinstance(err, UnexpectedCharacters):
        found = text[err.pos_in_stream] if err.pos_in_stream < len(text) else "end of input"
        return f"unexpected {found!r}" + (f"; expected {names}" if names else "")
    if isinstance(err, UnexpectedEOF):
        return "unexpected end of input" + (f"; expected {names}" if names else "")
    if isinstance(err, UnexpectedToken):
        tok = err.token
        found = "end of input" if tok.type == "$END" else repr(str(tok))
        return f"unexpected {found}" + (f"; expected {names}" if names else "")
    return str(err).splitlines()[0]


_TERMINAL_NAMES = {"ARROW": "'->'", "HOLE": "'?'", "LSQB": "'['", "RSQB": "']'",
                   "SEP": "end of rule",
                   "PLUS": "'+'", "STAR": "'*'", "UVAR": "a u variable", "XVAR": "an x variable",
                   "YVAR": "a y variable", "WORD": "a word", "TOKEN": "an output token",
                   "INT": "an integer", "$END": "end of input"}


def _pretty_terminal(name: str) -> str:
    """A readable name for a Lark terminal such as ``core__ARROW``."""
    return _TERMINAL_NAMES.get(str(name).split("__")[-1].lstrip("_"), str(name))


def finite_language(pattern: str) -> frozenset[str] | None:
    """The strings a regex matches if it is a plain alternation of literals, else None."""
    try:
        from re import _parser as sre  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - Python < 3.11
        import sre_parse as sre  # type: ignore[no-redef]
    try:
        tree = sre.parse(pattern)
    except re.error:
        return None

    def expand(seq: Any) -> list[str] | None:
        outs = [""]
        for op, arg in seq:
            name = str(op)
            if name == "LITERAL":
                outs = [o + chr(arg) for o in outs]
            elif name == "SUBPATTERN":
                sub = expand(arg[-1])
                if sub is None:
                    return None
                outs = [o + s for o in outs for s in sub]
            elif name == "BRANCH":
                alts: list[str] = []
                for branch in arg[1]:
                    sub = expand(branch)
                    if sub is None:
                        return None
                    alts.extend(sub)
                outs = [o + s for o in outs for s in alts]
            elif name == "IN" and all(str(kind) == "LITERAL" for kind, _ in arg):
                # a class of single characters, as `"A" | "B"` compiles to `[AB]`
                outs = [o + chr(code) for o in outs for _, code in arg]
            else:
                return None
        return outs

    result = expand(tree)
    return None if result is None else frozenset(result)


def _builtin_path(name: str) -> Path:
    return GRAMMAR_DIR / f"{name}.lark"


def resolve(name_or_path: str | Path) -> Path:
    """The grammar file of a built-in domain name or a ``.lark`` path (DomainError if none)."""
    text = str(name_or_path)
    if text in BUILTIN:
        return _builtin_path(text)
    path = Path(text)
    if path.suffix == ".lark" and path.is_file():
        return path.resolve()
    if path.suffix == ".lark":
        raise DomainError(f"grammar file not found: {text}")
    raise DomainError(f"unknown domain {text!r}: use one of {', '.join(BUILTIN)} "
                      "or a path to a .lark grammar file")


@functools.lru_cache(maxsize=32)
def _load(path: Path) -> Domain:
    import lark
    from lark.exceptions import GrammarError, LarkError, UnexpectedInput

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise DomainError(f"cannot read grammar file {path}: {err.strerror}") from None
    try:
        parser = lark.Lark(text, parser="lalr", lexer="contextual", start="start",
                           import_paths=[GRAMMAR_DIR, path.parent], source_path=str(path))
    except UnexpectedInput as err:
        raise DomainError(f"{path}:{err.line}:{err.column}: grammar error: "
                          f"{str(err).splitlines()[0]}") from None
    except (GrammarError, LarkError, OSError) as err:
        raise DomainError(f"{path}: grammar error: {str(err).splitlines()[0]}") from None
    rule_names = {str(r.origin.name).split("__")[-1] for r in parser.rules}
    has_seq, has_int = "seq_program" in rule_names, "int_program" in rule_names
    if has_seq == has_int:
        raise DomainError(f"{path}: a domain grammar must import exactly one of seq_program "
                          "and int_program from core")
    terminals = {str(t.name).split("__")[-1]: t for t in parser.terminals}

    def language(name: str) -> frozenset[str] | None:
        term = terminals.get(name)
        if term is None:
            return frozenset()
        if term.pattern.type == "str":
            return frozenset([term.pattern.value])
        return finite_language(term.pattern.value)

    settings: dict[str, int] = dict(DEFAULT_SETTINGS)
    search: dict[str, int] = {}
    kinds = frozenset("uxy")
    biases: frozenset[str] = frozenset()
    for key, value in _SETTING.findall(text):
        if key == "variables" and value and set(value.split()) <= set("uxy"):
            kinds = frozenset(value.split())
        elif key == "bias" and value:
            biases |= frozenset(value.replace(",", " ").split())
        elif key in DEFAULT_SETTINGS and value.isdigit():
            settings[key] = int(value)
        elif key in SearchSettings.names() and value.isdigit():
            search[key] = int(value)
        else:
            raise DomainError(f"{path}: unknown or malformed setting @{key}: {value}")
    return Domain(name=path.stem, path=path,
                  algebra="seq" if has_seq else "int", words=language("WORD"),
                  tokens=language("TOKEN") if has_seq else None, var_kinds=kinds,
                  settings=settings, parser=parser, biases=biases, search=search)


def load_domain(name_or_path: str | Path | Domain) -> Domain:
    """Load a built-in domain by name or a user grammar by path (cached)."""
    if isinstance(name_or_path, Domain):
        return name_or_path
    return _load(resolve(name_or_path))


def parse_program(text: str, domain: str | Path | Domain = "rules",
                  source: str = "<program>") -> Program:
    """Parse program text under a domain's grammar; raise ProgramError with line and column."""
    dom = load_domain(domain)
    return dom.parse(text, source=source)
