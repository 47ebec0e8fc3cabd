"""Pretty terminal reports of synthesis results (the ``--json`` output has the same facts).

Boxes and tables are drawn on a terminal wide enough for them; in a pipe or a narrow console
the same facts come one line per rule or query (``metarlm.synth.tables``).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from metarlm.lang.demo import format_output
from metarlm.lang.dsl import Program, print_rule
from metarlm.lang.interp import render
from metarlm.synth.search import QueryAnswer, SynthesisResult
from metarlm.synth.tables import escape, print_box, print_table


def program_lines(program: Program, origin: Sequence[tuple[str, str]]) -> list[str]:
    """The program one rule a line (markup), background rules dimmed, each with its origin
    (``origin`` holds one (rule, where) pair per rule, in program order)."""
    wheres = [where for _, where in origin]
    wheres += [""] * (len(program.rules) - len(wheres))
    lines = []
    for rule, where in zip(program.rules, wheres):
        style = "dim" if where == "background" else "bold"
        text = escape(print_rule(rule, program.algebra))
        lines.append(f"[{style}]{text}[/]" + (f"  [dim]# {escape(where)}[/]" if where else ""))
    return lines


def print_result(result: SynthesisResult, console: Console,
                 explanation: Sequence[str] = ()) -> None:
    """Print a synthesis result for a person."""
    if result.program is None:
        console.print(f"[red]no consistent program[/] within budget: {result.candidates} "
                      f"candidates in {result.seconds:.2f} s")
        for line in result.tried:
            console.print(f"  tried: {escape(line)}", soft_wrap=True)
        return
    verdict = "[green]consistent[/]" if result.consistent else "[red]inconsistent[/]"
    print_box(console, f"program ({verdict})", program_lines(result.program, result.origin))
    if result.report is not None:
        held = sum(c.ok for c in result.report.examples)
        console.print(f"examples reproduced: {held}/{len(result.report.examples)}")
        for c in result.report.examples:
            if not c.ok:
                console.print(f"  [red]✗[/] {escape(' '.join(c.example.input))} → "
                              f"{escape(render(c.result))} "
                              f"(expected {escape(format_output(c.example.output))})",
                              soft_wrap=True)
    if result.queries:
        _print_queries(result, console)
    if result.accuracy is not None:
        console.print(f"query accuracy: {result.accuracy:.1%}")
    console.print(f"{result.candidates} candidates, {result.seconds:.2f} s, seed {result.seed}")
    for alt in result.alternatives:
        print_box(console, "runner-up that behaves differently (add this input to disambiguate)",
                  [*map(escape, str(alt.program).splitlines()), "",
                   f"[dim]on[/] {escape(' '.join(alt.input or ()))}",
                   f"  chosen: {escape(alt.chosen_output)}", f"  this:   {escape(alt.output)}"])
    if explanation:
        print_box(console, "derivation", [escape(x) for x in explanation])


def _answer(q: QueryAnswer) -> str:
    return format_output(q.output) if q.output is not None else f"!FAIL {q.failure}"


def _mark(q: QueryAnswer) -> str:
    return "" if q.correct is None else ("[green]✓[/]" if q.correct else "[red]✗[/]")


def _print_queries(result: SynthesisResult, console: Console) -> None:
    """The queries with their answers (and expected outputs, when the demo gives them)."""
    scored = any(q.expected is not None for q in result.queries)
    headers = ["input", "answer"] + (["expected", ""] if scored else [])
    rows = []
    for q in result.queries:
        row = [escape(" ".join(q.input)), escape(_answer(q))]
        if scored:
            row += [escape(format_output(q.expected)), _mark(q)]
        rows.append(row)

    def plain(row: Sequence[str]) -> str:
        mark = (row[3] if scored else "") or "-"
        wrong = scored and row[3].endswith("✗[/]")
        return f"{mark} {row[0]} → {row[1]}" + (f"  (expected {row[2]})" if wrong else "")

    print_table(console, "queries", headers, rows, plain)
