"""Errors that carry a one-line message for people and an exit code for the CLI."""

from __future__ import annotations


class MetarlmError(Exception):
    """A user-facing error: ``str(err)`` is the whole message, ``exit_code`` the CLI status."""

    exit_code = 2


class ProgramError(MetarlmError):
    """A program (or rules file) that does not parse or does not bind its variables."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None,
                 source: str = "<program>") -> None:
        self.message, self.line, self.column, self.source = message, line, column, source
        where = source if line is None else f"{source}:{line}:{column}"
        super().__init__(f"{where}: {message}")


class DomainError(MetarlmError):
    """An unknown domain or a grammar file that Lark rejects."""


class DemoError(MetarlmError):
    """A demonstration file that is malformed; the message names the field."""


class InputError(MetarlmError):
    """An input that the domain cannot take (unknown words, too long, empty)."""
