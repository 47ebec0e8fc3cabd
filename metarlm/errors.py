"""Errors that carry a one-line message for people and an exit code for the CLI."""

from __future__ import annotations

import re

# controls and line separators: escaped so that a message is always one line of plain text
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
EXCERPT_WIDTH = 100  # characters of a long source line shown around the caret


def one_line(text: str) -> str:
    """The text with line breaks and other control characters escaped (``\\n``, ``\\x1b``)."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def shorten(text: str, limit: int = 80) -> str:
    """The text on one line, cut in the middle with ``…`` when longer than ``limit``."""
    text = one_line(text)
    if len(text) <= limit:
        return text
    half = (limit - 1) // 2
    return f"{text[:half]}…{text[-half:]}"


def caret(text: str, line: int, column: int) -> str:
    """Line ``line`` of ``text`` (1-based, lines split at ``\\n``) and a ``^`` under ``column``."""
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        return ""
    shown = lines[line - 1].rstrip("\r")
    col = min(max(column, 1), len(shown) + 1) - 1
    start = max(0, min(col - EXCERPT_WIDTH // 2, len(shown) - EXCERPT_WIDTH))
    head = "…" if start else ""
    tail = "…" if start + EXCERPT_WIDTH < len(shown) else ""
    window = shown[start:start + EXCERPT_WIDTH]
    # one printable character per source character, so that the caret stays aligned
    window = "".join(c if c == "\t" or c.isprintable() else "?" for c in window)
    pad = "".join("\t" if c == "\t" else " " for c in window[:col - start])
    return f"    {head}{window}{tail}\n    {' ' * len(head)}{pad}^"


class MetarlmError(Exception):
    """A user-facing error: ``str(err)`` is the whole message (one line), ``exit_code`` the
    CLI status, ``excerpt`` the offending source line and a caret when there is one."""

    exit_code = 2

    def __init__(self, message: str = "", excerpt: str = "") -> None:
        super().__init__(one_line(message))
        self.excerpt = excerpt


class ProgramError(MetarlmError):
    """A program (or rules file) that does not parse or does not bind its variables."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None,
                 source: str = "<program>", text: str | None = None) -> None:
        self.message, self.line, self.column, self.source = message, line, column, source
        where = source if line is None else f"{source}:{line}:{column}"
        shown = caret(text, line, column or 1) if text is not None and line is not None else ""
        super().__init__(f"{where}: {message}", shown)


class DomainError(MetarlmError):
    """An unknown domain or a grammar file that Lark rejects."""


class DemoError(MetarlmError):
    """A demonstration file that is malformed; the message names the field."""


class InputError(MetarlmError):
    """An input that the domain cannot take (unknown words, too long, empty)."""
