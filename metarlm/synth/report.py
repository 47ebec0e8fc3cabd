"""Pretty terminal reports of synthesis results (the ``--json`` output has the same facts)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from metarlm.lang.demo import format_output
from metarlm.lang.dsl import Program, print_rule
from metarlm.lang.interp import render
from metarlm.synth.search import SynthesisResult


def program_panel(program: Program, origin: dict[str, str], title: str) -> Panel:
    """The program, one rule a line, background rules dimmed and each rule's origin shown."""
    lines = []
    for rule in program.rules:
        text = print_rule(rule, program.algebra)
        where = origin.get(text, "")
        style = "dim" if where == "background" else "bold"
        lines.append(f"[{style}]{_escape(text)}[/]" + (f"  [dim]# {where}[/]" if where else ""))
    return Panel("\n".join(lines) or "[dim](no rules)[/]", title=title, expand=False)


def _escape(text: str) -> str:
    return text.replace("[", r"\[")


def print_result(result: SynthesisResult, console: Console,
                 explanation: Sequence[str] = ()) -> None:
    """Print a synthesis result for a person."""
    if result.program is None:
        console.print(f"[red]no consistent program[/] within budget: {result.candidates} "
                      f"candidates in {result.seconds:.2f} s")
        for line in result.tried:
            console.print(f"  tried: {line}")
        return
    verdict = "[green]consistent[/]" if result.consistent else "[red]inconsistent[/]"
    console.print(program_panel(result.program, result.origin, f"program ({verdict})"))
    if result.report is not None:
        held = sum(c.ok for c in result.report.examples)
        console.print(f"examples reproduced: {held}/{len(result.report.examples)}")
        for c in result.report.examples:
            if not c.ok:
                console.print(f"  [red]✗[/] {' '.join(c.example.input)} → {render(c.result)} "
                              f"(expected {format_output(c.example.output)})")
    if result.queries:
        console.print(_queries_table(result))
    if result.accuracy is not None:
        console.print(f"query accuracy: {result.accuracy:.1%}")
    console.print(f"{result.candidates} candidates, {result.seconds:.2f} s, seed {result.seed}")
    for alt in result.alternatives:
        console.print(Panel(
            f"{_escape(str(alt.program))}\n\n[dim]on[/] {' '.join(alt.input or ())}\n"
            f"  chosen: {_escape(alt.chosen_output)}\n  this:   {_escape(alt.output)}",
            title="runner-up that behaves differently (add this input to disambiguate)",
            expand=False))
    if explanation:
        console.print(Panel("\n".join(_escape(x) for x in explanation), title="derivation",
                            expand=False))


def _queries_table(result: SynthesisResult) -> Table:
    table = Table(title="queries", show_lines=False)
    table.add_column("input")
    table.add_column("answer")
    scored = any(q.expected is not None for q in result.queries)
    if scored:
        table.add_column("expected")
        table.add_column("")
    for q in result.queries:
        answer = format_output(q.output) if q.output is not None else f"!FAIL {q.failure}"
        row = [" ".join(q.input), _escape(answer)]
        if scored:
            mark = "" if q.correct is None else ("[green]✓[/]" if q.correct else "[red]✗[/]")
            row += [_escape(format_output(q.expected)), mark]
        table.add_row(*row)
    return table
