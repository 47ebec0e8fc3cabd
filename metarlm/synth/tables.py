"""Tables and boxes for people that stay readable in any console.

A rich table whose cells wrap makes one long cell look like several rows, and a pipe gets
box drawing it cannot use. So a table or a box is drawn only on a terminal wide enough for
every cell on one line; anywhere else the same facts come as plain lines, one per row, never
wrapped (``soft_wrap``), which also suits ``grep``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.console import Console, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

Row = Sequence[str]  # rich markup, one string per column (titles are markup too)


def fits(console: Console, renderable: RenderableType) -> bool:
    """Whether the console is a terminal on which the renderable needs no wrapping."""
    if not console.is_terminal:
        return False
    wide = console.options.update_width(1 << 16)  # measure unconstrained by the console
    return console.measure(renderable, options=wide).maximum <= console.width


def print_table(console: Console, title: str, headers: Sequence[str], rows: Sequence[Row],
                plain: Callable[[Row], str]) -> None:
    """A table when it fits the terminal, else the title and ``plain(row)`` a line each."""
    table = Table(title=title, title_justify="left")
    for header in headers:
        table.add_column(header)
    for row in rows:
        table.add_row(*row)
    if fits(console, table):
        console.print(table)
        return
    console.print(f"{title}:", soft_wrap=True)
    for row in rows:
        console.print("  " + plain(row), soft_wrap=True)


def print_box(console: Console, title: str, lines: Sequence[str]) -> None:
    """Lines of markup in a titled box when it fits the terminal, else plain lines under the
    title."""
    panel = Panel("\n".join(lines) or "[dim](none)[/]", title=title, expand=False)
    if fits(console, panel):
        console.print(panel)
        return
    console.print(f"{title}:", soft_wrap=True)
    for line in lines:
        console.print("  " + line, soft_wrap=True)


__all__ = ["escape", "fits", "print_box", "print_table"]
