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
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metarlm import grammar as _grammar
from metarlm.errors import DomainError, InputError, ProgramError, caret, shorten
from metarlm.lang.build import parse_rules, short
from metarlm.lang.dsl import Algebra, Program
from metarlm.lang.limits import (
    MAX_GRAMMAR_BYTES,
    MAX_PROGRAM_CHARS,
    MAX_RULES_SETTING,
    MAX_WORDS_SETTING,
)
from metarlm.types import SearchSettings

# the grammar folder is installed as the package metarlm.grammar (see pyproject.toml)
GRAMMAR_DIR = Path(_grammar.__file__).resolve().parent
BUILTIN = ("scan", "miniscan", "numbers", "code", "rules")
DEFAULT_SETTINGS: dict[str, int] = {"max_rules": 64, "max_words": 256}
SETTING_CEILINGS: dict[str, int] = {"max_rules": MAX_RULES_SETTING, "max_words": MAX_WORDS_SETTING}
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
        from lark.exceptions import LarkError, UnexpectedInput

        if len(text) > MAX_PROGRAM_CHARS:
            raise ProgramError(f"program of {len(text)} characters; at most {MAX_PROGRAM_CHARS}",
                               source=source)
        try:
            tree = self.parser.parse(text)
        except UnexpectedInput as err:
            raise ProgramError(_describe(err, text), err.line, err.column, source,
                               text) from None
        except LarkError as err:
            raise ProgramError(f"the {self.name} grammar cannot read this program: "
                               f"{str(err).splitlines()[0] if str(err) else type(err).__name__}",
                               source=source) from None
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
        found = ("end of input" if tok.type == "$END"
                 else "end of line" if str(tok).strip() == "" and "\n" in str(tok)
                 else repr(str(tok)))
        return f"unexpected {found}" + (f"; expected {names}" if names else "")
    return str(err).splitlines()[0]


_TERMINAL_NAMES = {"ARROW": "'->'", "HOLE": "'?'", "LSQB": "'['", "RSQB": "']'",
                   "SEP": "end of rule",
                   "PLUS": "'+'", "STAR": "'*'", "UVAR": "a u variable", "XVAR": "an x variable",
                   "YVAR": "a y variable", "WORD": "a word", "TOKEN": "an output token",
                   "INT": "an integer", "$END": "end of input",
                   # terminals of Lark's own grammar language, met in grammar files
                   "COMMA": "','", "LPAR": "'('", "RPAR": "')'", "COLON": "':'", "OR": "'|'",
                   "NL": "end of line", "DOT": "'.'", "TO": "'->'", "LBRACE": "'{'"}


def _pretty_terminal(name: str) -> str:
    """A readable name for a Lark terminal such as ``core__ARROW``."""
    return _TERMINAL_NAMES.get(str(name).split("__")[-1].lstrip("_"), str(name))


FINITE_LIMIT = 100_000  # a finite vocabulary larger than this is treated as open


def finite_language(pattern: str) -> frozenset[str] | None:
    """The strings a regex matches if it is a plain alternation of literals (of at most
    FINITE_LIMIT strings: ``(a|b)`` forty times over is open, not 2^40 words), else None."""
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
                parts: list[str] | None = [chr(arg)]
            elif name == "SUBPATTERN":
                parts = expand(arg[-1])
            elif name == "BRANCH":
                alts = [expand(branch) for branch in arg[1]]
                parts = None if None in alts else [s for alt in alts for s in alt]  # type: ignore[union-attr]
            elif name == "IN" and all(str(kind) == "LITERAL" for kind, _ in arg):
                # a class of single characters, as `"A" | "B"` compiles to `[AB]`
                parts = [chr(code) for _, code in arg]
            else:
                return None
            if parts is None or len(outs) * len(parts) > FINITE_LIMIT:
                return None
            outs = [o + p for o in outs for p in parts]
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
    # os.path.isfile, unlike Path.is_file, is False for names too long or with a NUL byte
    if text.endswith(".lark") and os.path.isfile(text):
        try:
            return Path(text).resolve()
        except (OSError, RuntimeError) as err:
            raise DomainError(f"cannot open grammar file {shorten(text)}: {err}") from None
    if text.endswith(".lark"):
        raise DomainError(f"grammar file not found: {shorten(text)}")
    raise DomainError(f"unknown domain {shorten(text)!r}: use one of {', '.join(BUILTIN)} "
                      "or a path to a .lark grammar file")


def shown_path(path: Path) -> str:
    """A path as messages show it: relative to the working directory when under it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)
    return str(path) if rel.startswith("..") else rel


def _read_grammar(path: Path) -> str:
    """The grammar file's text (DomainError if unreadable, too large or not UTF-8)."""
    where = shown_path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_GRAMMAR_BYTES + 1)
    except OSError as err:
        raise DomainError(f"cannot read grammar file {where}: {err.strerror}") from None
    if len(data) > MAX_GRAMMAR_BYTES:
        raise DomainError(f"{where}: grammar file larger than {MAX_GRAMMAR_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        raise DomainError(f"{where}:{line}: grammar error: not UTF-8 text "
                          f"(byte {err.start} is 0x{data[err.start]:02x})") from None


_AT_LINE = re.compile(r",? at line (\d+),? column (\d+)")


def _grammar_error(path: Path, text: str, err: Exception) -> DomainError:
    """A one-line DomainError for anything Lark raised on a grammar, with the line and a caret
    when Lark says where."""
    from lark.exceptions import LarkError, UnexpectedInput

    where = shown_path(path)
    message = next((ln.strip() for ln in str(err).splitlines() if ln.strip()), "")
    line, column = getattr(err, "line", None), getattr(err, "column", None)
    found = _AT_LINE.search(message)
    if found:
        line, column = int(found.group(1)), int(found.group(2))
        message = message[:found.start()] + message[found.end():]
    if isinstance(err, UnexpectedInput):
        message = _describe(err, text)
    if "Inconsistent base_path" in message:
        message = "core is imported by two different paths (write `%import .core` everywhere)"
    elif isinstance(err, re.error):
        message = f"bad regular expression: {message}"
    elif not message or not isinstance(err, LarkError):
        message = f"{type(err).__name__}: {message}".rstrip(": ")
    if isinstance(line, int) and isinstance(column, int) and line > 0:
        return DomainError(f"{where}:{line}:{column}: grammar error: {message}",
                           caret(text, line, column))
    return DomainError(f"{where}: grammar error: {message}")


def _build_lexers(parser: Any) -> None:
    """Compile every lexer state now: Lark builds them lazily, so a terminal such as
    ``/(?i)walk/`` would otherwise fail on the first program parsed, not when loading."""
    lexer = getattr(getattr(parser, "parser", None), "lexer", None)
    states = list(getattr(lexer, "lexers", {}).values())
    for basic in [*states, getattr(lexer, "root_lexer", None)]:
        if basic is not None and hasattr(basic, "scanner"):
            _ = basic.scanner


def _compile(path: Path, text: str) -> Any:
    """The LALR parser of a grammar text (DomainError for anything Lark cannot build)."""
    import lark

    try:
        parser = lark.Lark(text, parser="lalr", lexer="contextual", start="start",
                           import_paths=[GRAMMAR_DIR, path.parent], source_path=str(path))
        _build_lexers(parser)
    # Lark fails on hostile grammars with more than its own errors (AssertionError for an
    # import of core by two paths, OverflowError for /a{4294967296}/, re.error, deep nesting)
    except Exception as err:  # noqa: BLE001
        raise _grammar_error(path, text, err) from None
    return parser


def _settings(path: Path, text: str
              ) -> tuple[dict[str, int], dict[str, int], frozenset[str], frozenset[str]]:
    """The ``// @key: value`` settings of a grammar: domain settings, search settings,
    variable kinds and declared biases (DomainError naming the line if bad)."""
    settings: dict[str, int] = dict(DEFAULT_SETTINGS)
    search: dict[str, int] = {}
    kinds = frozenset("uxy")
    biases: frozenset[str] = frozenset()
    for found in _SETTING.finditer(text):
        key, value = found.group(1), found.group(2)
        where = f"{shown_path(path)}:{text.count(chr(10), 0, found.start()) + 1}"
        if key == "variables" and value and set(value.split()) <= set("uxy"):
            kinds = frozenset(value.split())
        elif key in DEFAULT_SETTINGS:
            ceiling = SETTING_CEILINGS[key]
            if not re.fullmatch(r"[0-9]{1,7}", value) or not 1 <= int(value) <= ceiling:
                raise DomainError(f"{where}: @{key} must be an integer from 1 to {ceiling}, "
                                  f"not {shorten(value)!r}")
            settings[key] = int(value)
        elif key == "bias" and value:
            biases |= frozenset(value.replace(",", " ").split())
        elif key in SearchSettings.names():
            if not re.fullmatch(r"[0-9]{1,7}", value):
                raise DomainError(f"{where}: @{key} must be an integer from 0 to 9999999, "
                                  f"not {shorten(value)!r}")
            search[key] = int(value)
        else:
            raise DomainError(f"{where}: unknown or malformed setting @{shorten(key)}: "
                              f"{shorten(value)}")
    return settings, search, kinds, biases


def _check_blanks(path: Path, parser: Any) -> None:
    """DomainError unless the grammar ignores blanks: programs are printed with a space between
    items, so a grammar that does not say ``%ignore BLANK`` could not read them back."""
    by_name = {t.name: t for t in parser.terminals}
    for name in getattr(parser.lexer_conf, "ignore", ()):
        term = by_name.get(name)
        if term is not None and re.fullmatch(term.pattern.to_regexp(), " "):
            return
    raise DomainError(f"{shown_path(path)}: grammar error: programs put blanks between "
                      "words, so the grammar must say `%ignore BLANK`")


@functools.lru_cache(maxsize=32)
def _load(path: Path, stamp: tuple[int, int] = (0, 0)) -> Domain:
    """The domain of a grammar file; ``stamp`` (mtime, size) makes an edited file reload."""
    text = _read_grammar(path)
    parser = _compile(path, text)
    rule_names = {short(r.origin.name) for r in parser.rules}
    has_seq, has_int = "seq_program" in rule_names, "int_program" in rule_names
    if has_seq == has_int:
        raise DomainError(f"{shown_path(path)}: a domain grammar must import exactly one of "
                          "seq_program and int_program from core")
    _check_blanks(path, parser)
    terminals = {short(t.name): t for t in parser.terminals}

    def language(name: str) -> frozenset[str] | None:
        term = terminals.get(name)
        if term is None:
            return frozenset()
        if term.pattern.type == "str":
            return frozenset([term.pattern.value])
        return finite_language(term.pattern.value)

    settings, search, kinds, biases = _settings(path, text)
    return Domain(name=path.stem, path=path,
                  algebra="seq" if has_seq else "int", words=language("WORD"),
                  tokens=language("TOKEN") if has_seq else None, var_kinds=kinds,
                  settings=settings, parser=parser, biases=biases, search=search)


def load_domain(name_or_path: str | Path | Domain) -> Domain:
    """Load a built-in domain by name or a user grammar by path (cached)."""
    if isinstance(name_or_path, Domain):
        return name_or_path
    path = resolve(name_or_path)
    try:
        info = path.stat()
    except OSError as err:
        raise DomainError(f"cannot read grammar file {shown_path(path)}: {err.strerror}") from None
    return _load(path, (info.st_mtime_ns, info.st_size))


def parse_program(text: str, domain: str | Path | Domain = "rules",
                  source: str = "<program>") -> Program:
    """Parse program text under a domain's grammar; raise ProgramError with line and column."""
    dom = load_domain(domain)
    return dom.parse(text, source=source)
