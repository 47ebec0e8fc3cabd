"""The command line: ``metarlm run``, ``metarlm check`` (and later commands), and ``synth``.

Thin by design: each command parses its options, calls library functions and prints. A
``MetarlmError`` anywhere below becomes one line on stderr and its exit code (2 for bad input);
a program that fails on an input exits 1. Only light modules are imported at start-up, so these
commands never pay for torch or transformers; a new command is one more ``@command`` function.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from metarlm.errors import InputError, MetarlmError, one_line
from metarlm.lang.limits import MAX_FILE_BYTES, MAX_OUTPUT_LIMIT, MAX_PROGRAM_CHARS

F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(name="metarlm", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False,
                  help="Rewrite-rule programs: run them, check them against demonstrations.")

# defaults mirror metarlm.lang.interp (not imported here, to keep --help light)
DEFAULT_FUEL = 200_000
DEFAULT_MAX_OUTPUT = 10_000

FuelOpt = Annotated[int, typer.Option("--fuel", min=1, help="Evaluation steps per input.")]
MaxOutOpt = Annotated[int, typer.Option("--max-output", min=1, help="Most output tokens.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
SetOpt = Annotated[list[str] | None, typer.Option(
    "--set", help="A search setting for this run, NAME=VALUE (repeatable; the fields of "
    "metarlm.types.SearchSettings, as a grammar's // @NAME: VALUE sets them).",
    show_default=False)]


def fail(message: str, code: int = 2, excerpt: str = "") -> NoReturn:
    """Print ``error: message`` (one line) on stderr, then the excerpt (the offending source
    line and a caret) if any, and exit with ``code``."""
    typer.echo(f"error: {one_line(message)}", err=True)
    if excerpt:
        typer.echo(excerpt, err=True)
    raise typer.Exit(code)


def command(name: str | None = None, target: typer.Typer = app,
            **settings: Any) -> Callable[[F], F]:
    """Register a command on ``target``; a MetarlmError inside it becomes a one-line exit."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except MetarlmError as err:
                fail(str(err), err.exit_code, err.excerpt)
            except RecursionError:
                fail("the program recursed too deeply on this input", 1)
            except MemoryError:
                fail("out of memory (try a smaller --max-output or --fuel)", 1)

        target.command(name, **settings)(guarded)
        return func

    return decorate


def read_text(path: Path, what: str, limit: int = 4 * MAX_PROGRAM_CHARS) -> str:
    """A UTF-8 text file's content (at most ``limit`` bytes), or a one-line exit saying why
    it cannot be read."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        fail(f"{what} not found: {path}")
    except IsADirectoryError:
        fail(f"{what} is a directory: {path}")
    except (OSError, ValueError) as err:  # ValueError: a NUL byte in the name
        fail(f"cannot read {what} {path}: {err}")
    if len(data) > limit:
        fail(f"{what} {path}: larger than {limit} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        fail(f"{what} {path}: not UTF-8 text (byte {err.start})")


def search_settings(pairs: list[str] | None) -> dict[str, int]:
    """``--set NAME=VALUE`` options as settings, or exit with one line saying what is wrong."""
    from metarlm.types import SearchSettings

    values: dict[str, int] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        # the bound a grammar's // @NAME: VALUE has (metarlm.lang.domain)
        if not sep or not re.fullmatch(r"[0-9]{1,7}", value.strip()):
            fail(f"--set {pair!r}: expected NAME=VALUE with VALUE an integer from 0 to 9999999")
        values[name.strip()] = int(value)
    try:
        return SearchSettings.checked(values)
    except ValueError as err:
        fail(f"--set: {err}")


def make_directory(path: Path, option: str) -> None:
    """Make an output directory now (before any work), or exit with one line saying why not."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as err:  # ValueError: a NUL byte in the name
        fail(f"{option} {path}: cannot make the directory: {getattr(err, 'strerror', err)}")


def check_max_output(max_output: int) -> None:
    """A one-line exit for ``--max-output`` past the documented limit."""
    if max_output > MAX_OUTPUT_LIMIT:
        fail(f"--max-output: at most {MAX_OUTPUT_LIMIT} tokens, not {max_output}")


def load_program(path: Path, domain_name: str) -> Any:
    """Load the domain and parse a rules file under it (ProgramError names file:line:column)."""
    from metarlm.lang.domain import load_domain

    domain = load_domain(domain_name)
    return domain, domain.parse(read_text(path, "program file"), source=str(path))


def gather_inputs(domain: Any, texts: Sequence[str], inputs_file: Path | None) -> list[str]:
    """The input lines to run (``--input`` values, then the file's non-blank lines), validated."""
    lines = [(f"--input {k + 1}", t) for k, t in enumerate(texts)]
    if inputs_file is not None:
        content = read_text(inputs_file, "inputs file", MAX_FILE_BYTES)
        lines += [(f"{inputs_file}:{n}", t) for n, t in enumerate(content.splitlines(), 1)
                  if t.strip()]
    if not lines:
        fail("no inputs: give --input TEXT or --inputs FILE")
    checked = []
    for where, text in lines:
        try:
            checked.append(domain.split(text))
        except InputError as err:
            raise InputError(f"{where}: {err}") from None
    return checked


def value_of(result: Any) -> Any:
    """A result's output for JSON: the integer, the tokens joined by spaces, or None."""
    if not result.ok:
        return None
    return result.value if isinstance(result.value, int) else " ".join(map(str, result.value))


def result_record(words: Sequence[str], result: Any, expected: Any = None) -> dict[str, Any]:
    """One input's JSON record (``expected`` is included when given)."""
    record: dict[str, Any] = {"input": " ".join(words), "output": value_of(result),
                              "ok": bool(result.ok),
                              "reason": None if result.ok else result.reason}
    if expected is not None:
        from metarlm.lang.demo import format_output

        record["expected"] = expected if isinstance(expected, int) else format_output(expected)
    return record


def print_json(data: Any) -> None:
    """Write JSON on stdout."""
    typer.echo(json.dumps(data, ensure_ascii=False))


@command()
def run(
    program: Annotated[Path, typer.Argument(help="Rules file.", show_default=False)],
    input_text: Annotated[list[str] | None, typer.Option(
        "--input", "-i", help="An input (repeatable).", show_default=False)] = None,
    inputs: Annotated[Path | None, typer.Option(
        "--inputs", help="File with one input per line.", show_default=False)] = None,
    domain: Annotated[str, typer.Option(help="Built-in domain name or a .lark file.")] = "rules",
    as_json: JsonOpt = False,
    fuel: FuelOpt = DEFAULT_FUEL,
    max_output: MaxOutOpt = DEFAULT_MAX_OUTPUT,
) -> None:
    """Run a program on inputs: one output (or `!FAIL reason`) per line; exit 1 if any fail."""
    from metarlm.exec.check import run_many
    from metarlm.lang.interp import render

    check_max_output(max_output)
    dom, prog = load_program(program, domain)
    if prog.holes():
        fail(f"{program}: the program has holes (?); fill them with `metarlm check --demo`")
    words = gather_inputs(dom, input_text or [], inputs)
    results = run_many(prog, words, fuel, max_output)
    if as_json:
        records = [result_record(w, r) for w, r in zip(words, results)]
        single = len(records) == 1 and inputs is None
        print_json(records[0] if single else records)
    else:
        for result in results:
            typer.echo(render(result))
    if not all(r.ok for r in results):
        raise typer.Exit(1)


@command()
def check(
    program: Annotated[Path, typer.Argument(help="Rules file.", show_default=False)],
    demo: Annotated[Path, typer.Option(help="Demonstration JSON file.", show_default=False)],
    domain: Annotated[str | None, typer.Option(
        help="Override the demo's domain (name or .lark file).", show_default=False)] = None,
    as_json: JsonOpt = False,
    fuel: FuelOpt = DEFAULT_FUEL,
    max_output: MaxOutOpt = DEFAULT_MAX_OUTPUT,
) -> None:
    """Check a program against a demo's examples and scored queries; exit 0 only if all hold."""
    from metarlm.exec.check import check_demo, matches, run_many
    from metarlm.lang.demo import load_demo

    check_max_output(max_output)
    dem = load_demo(demo, domain)
    prog = dem.domain.parse(read_text(program, "program file"), source=str(program))
    report = check_demo(prog, dem, fuel, max_output)
    queries = dem.queries
    answers = run_many(report.program, [q.input for q in queries], fuel, max_output)
    examples = [(e.input, e.output, c.result, c.ok) for e, c in zip(dem.examples, report.examples)]
    answered = [(q.input, q.expected, r, q.expected is None or matches(r, q.expected))
                for q, r in zip(queries, answers)]
    ok = report.ok and all(row[3] for row in answered)
    if as_json:
        print_json(check_record(report, examples, answered, ok))
    else:
        print_check(report, examples, answered, ok)
    if not ok:
        raise typer.Exit(1)


def check_record(report: Any, examples: list, answered: list, ok: bool) -> dict[str, Any]:
    """The JSON object ``metarlm check --json`` prints."""

    def rows(items: list) -> list[dict[str, Any]]:
        return [{**result_record(w, r, e), "ok": good} for w, e, r, good in items]

    return {"ok": ok, "program": str(report.program), "filled": report.filled,
            "note": report.note or None, "examples": rows(examples), "queries": rows(answered)}


def print_check(report: Any, examples: list, answered: list, ok: bool) -> None:
    """Print the verdict of ``metarlm check``: a table per examples and queries on a terminal
    wide enough, else one line per item (``metarlm.synth.tables``)."""
    from rich.console import Console

    from metarlm.lang.demo import format_output
    from metarlm.lang.interp import render
    from metarlm.synth.tables import escape, print_table

    console = Console(highlight=False)
    if report.filled:
        console.print("holes filled:\n" + str(report.program), markup=False)
    for title, items in (("examples", examples), ("queries", answered)):
        rows = []
        for words, expected, result, good in items:
            mark = "[green]pass[/]" if good else "[red]FAIL[/]"
            if expected is None:
                mark = "[blue]-[/]"
            got = "=" if good and expected is not None else render(result)  # "=": as expected
            rows.append([mark, escape(" ".join(words)), escape(format_output(expected)),
                         escape(got)])
        if rows:
            print_table(console, title, ("", "input", "expected", "got"), rows, _check_line)
    if report.note:
        console.print(report.note, markup=False)
    held = sum(row[3] for row in examples) + sum(row[3] for row in answered if row[1] is not None)
    total = len(examples) + sum(row[1] is not None for row in answered)
    verdict = "[green]the program holds[/]" if ok else "[red]the program does not hold[/]"
    console.print(f"{held} of {total} scored items as expected: {verdict}")


def _check_line(row: Sequence[str]) -> str:
    """One item of ``metarlm check`` on one line: mark, input, then what differs."""
    mark, words, expected, got = row
    if got == "=":
        return f"{mark} {words} → {expected}"
    return f"{mark} {words} → {got}" + (f"  (expected {expected})" if expected else "")


@command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True,
                           "help_option_names": []})
def train(ctx: typer.Context) -> None:
    """Meta-train the proposer on grammars (`metarlm train --help` lists every option)."""
    from metarlm.neural.train import main as train_command

    # One parser for this command and `python -m metarlm.neural.train`: the same options.
    where = train_command(ctx.args, prog="metarlm train")
    typer.echo(f"checkpoint written to {where}")


@command()
def info(
    checkpoint: Annotated[str | None, typer.Argument(
        help="Checkpoint directory, or a shipped one by name: default (the policy), nometa, "
             "nye (the whole-program sampler).", show_default=False)] = None,
    as_json: JsonOpt = False,
) -> None:
    """Say what a checkpoint is, how it was trained and how it validated."""
    from metarlm.neural.checkpoint_info import describe

    record = describe(checkpoint)
    if as_json:
        print_json(record)
        return
    for key, value in record.items():
        if isinstance(value, dict):
            typer.echo(f"{key}:")
            for k, v in value.items():
                typer.echo(f"  {k}: {v}")
        else:
            typer.echo(f"{key}: {value}")


STATUS_EVERY = 0.1  # seconds between updates of the live status


@contextlib.contextmanager
def live_status(wanted: bool) -> Iterator[Callable[[Any, int], None] | None]:
    """A live line on stderr while the search runs, when stderr is a terminal and the report
    is for a person; yields the search's progress callback (None when silent)."""
    if not (wanted and sys.stderr.isatty()):
        yield None
        return
    from rich.console import Console

    shown = [0.0]
    with Console(stderr=True).status("searching…") as status:
        def update(budget: Any, found: int) -> None:
            now = time.monotonic()
            if now - shown[0] >= STATUS_EVERY:
                shown[0] = now
                status.update(f"searching: {budget.candidates:,} candidates, "
                              f"{budget.z3_calls:,} Z3 calls, {budget.model_calls:,} model "
                              f"calls, {found} consistent, {budget.elapsed():.1f} s")
        yield update


synth_app = typer.Typer(name="synth", add_completion=False, pretty_exceptions_enable=False,
                        help="Synthesize a rule program from a demonstration.")


@command(name=None, target=synth_app)
def synth(
    demo: Annotated[Path, typer.Option(help="Demonstration JSON file.", show_default=False)],
    no_model: Annotated[bool, typer.Option(
        "--no-model", help="Search without the policy (unguided).")] = False,
    budget: Annotated[int, typer.Option(min=1, help="Most candidate programs to check.")] = 200_000,
    timeout: Annotated[float, typer.Option(min=0.1, help="Most seconds to search.")] = 20.0,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same result).")] = 0,
    checkpoint: Annotated[str | None, typer.Option(
        help="Model checkpoint directory (default: the shipped one).", show_default=False)] = None,
    explain: Annotated[bool, typer.Option(
        "--explain", help="Show the derivation of the first query (or example).")] = False,
    one_process: Annotated[bool, typer.Option(
        "--one-process", help="Keep the guided and unguided lanes in one process (the same "
        "result; by default a long guided search takes a second core where there is one).")
    ] = False,
    settings: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Find a program that reproduces the demonstration and answer its queries."""
    from metarlm.lang.demo import load_demo
    from metarlm.synth.search import explain_lines, synthesize
    from metarlm.types import SearchConfig

    chosen = search_settings(settings)
    dem = load_demo(demo)
    config = SearchConfig(budget=budget, timeout=timeout, seed=seed, use_model=not no_model,
                          checkpoint=checkpoint, search_settings=chosen,
                          parallel_lanes=not one_process)
    with live_status(not as_json) as progress:
        result = synthesize(dem, config, progress=progress)
    lines: list[str] = []
    if explain and result.program is not None:
        words = dem.queries[0].input if dem.queries else dem.examples[0].input
        lines = explain_lines(result.program, words)
    if as_json:
        record = result.to_json()
        if explain:
            record["explanation"] = lines
        print_json(record)
    else:
        from rich.console import Console

        from metarlm.synth.report import print_result

        print_result(result, Console(), lines)
    if result.program is None or not result.consistent:
        raise typer.Exit(1)


@command(name="eval")
def eval_command(
    suite: Annotated[list[str], typer.Option(
        "--suite", help="Suite to run (repeatable): miniscan, miniscan-random, scan-simple, "
        "scan-length, scan-addjump, scan-aroundright, scan-oneshot, numbers, code, new-domain, "
        "scan-random, numbers-random, code-random.",
        show_default=False)],
    system: Annotated[list[str], typer.Option(
        "--system", help="System (repeatable): meta, nometa, enum, nye, greedy.",
        show_default=False)],
    out: Annotated[Path, typer.Option(help="Directory for results.json, results.md, plots.",
                                      show_default=False)],
    seeds: Annotated[int, typer.Option(min=1, help="Seeds 0..N-1 (tasks and search).")] = 1,
    workers: Annotated[int, typer.Option(min=1, help="Parallel worker processes.")] = 1,
    budget: Annotated[int, typer.Option(min=1, help="Most candidates per run.")] = 200_000,
    timeout: Annotated[float, typer.Option(min=0.01, help="Most seconds per run.")] = 20.0,
    samples: Annotated[int, typer.Option(min=1, help="Most model proposals per run.")] = 512,
    checkpoint: Annotated[str | None, typer.Option(
        help="Checkpoint of meta/greedy (default: the shipped one).", show_default=False)] = None,
    nometa_checkpoint: Annotated[str | None, typer.Option(
        help="Checkpoint of nometa (default: the shipped one).", show_default=False)] = None,
    nye_checkpoint: Annotated[str | None, typer.Option(
        help="Whole-program checkpoint of nye (default: the shipped one).",
        show_default=False)] = None,
    episodes: Annotated[int | None, typer.Option(
        min=1, help="Tasks per seed of the drawn suites.", show_default=False)] = None,
    shots: Annotated[str, typer.Option(
        help="Demonstration counts to truncate to, comma-separated ('' for none).")]
    = "1,2,4,8,16",
    quick: Annotated[bool, typer.Option("--quick", help="Subsample long query lists.")] = False,
    one_process: Annotated[bool, typer.Option(
        "--one-process", help="Keep each guided run's lanes in one process (with one worker "
        "they may take a second core; with more they never do).")] = False,
    settings: SetOpt = None,
) -> None:
    """Run benchmark suites under systems; write results.json, results.md and PNG plots."""
    from metarlm.eval import Budgets, EvalConfig, run_eval

    try:
        counts = tuple(int(k) for k in shots.replace(" ", "").split(",") if k)
    except ValueError:
        fail(f"--shots: expected comma-separated integers, got {shots!r}")
    make_directory(out, "--out")
    config = EvalConfig(
        suites=tuple(suite), systems=tuple(system), out=out, seeds=seeds, workers=workers,
        budgets=Budgets(budget=budget, timeout=timeout, samples=samples,
                        search_settings=search_settings(settings)),
        checkpoint=checkpoint, nometa_checkpoint=nometa_checkpoint,
        nye_checkpoint=nye_checkpoint, episodes=episodes,
        quick=quick, shots=counts, one_process=one_process)
    results = run_eval(config)
    from metarlm.eval.report import main_table

    typer.echo("\n".join(main_table(results["aggregates"])))
    skipped = [s["name"] for s in results["systems"] if not s["available"]]
    if skipped:
        typer.echo(f"unavailable: {', '.join(skipped)} (see {out / 'results.md'})")
    typer.echo(f"wrote {out / 'results.json'}, {out / 'results.md'} and plots")


def main() -> None:
    """Entry point of the ``metarlm`` script."""
    app()


def synth_main() -> None:
    """Entry point of the ``synth`` script."""
    synth_app()


if __name__ == "__main__":  # pragma: no cover
    main()
