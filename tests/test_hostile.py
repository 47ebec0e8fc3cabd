"""Hostile input: the findings F1-F18 and the hang of the fuzzing report, each through the
library and through the command line (exit 2 with one line, or for evaluation a failure with a
reason; never a traceback). The fuzz suite that keeps such inputs out is ``test_fuzz.py``."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from test_cli import one_line_error
from typer.testing import CliRunner

from metarlm import cli
from metarlm.errors import DemoError, DomainError, MetarlmError, ProgramError
from metarlm.exec.check import check_demo
from metarlm.exec.holes import fill_holes
from metarlm.lang.demo import Example, load_demo, parse_demo
from metarlm.lang.domain import load_domain, parse_program
from metarlm.lang.interp import FUEL, OVERFLOW, TOO_LONG, Fail, derive, evaluate, render
from metarlm.synth.search import explain_lines

ROOT = Path(__file__).resolve().parents[1]
HEADER = ("%import .core (seq_program, WORD, TOKEN, UVAR, XVAR, YVAR, BLANK, COMMENT)\n"
          "%ignore BLANK\n%ignore COMMENT\nstart: seq_program\n")
HANG = "x1 u1 -> [x1] * ? + [x1] * ? + [x1] * ?\nu1 -> 1"
SKETCH_F15 = "u1 -> ?\nu1 u2 -> [u1] * 0 + 1\nx1 u2 -> [x1] * 1000000000000000000000000"
runner = CliRunner()


def invoke(app: object, *args: str | Path) -> tuple[int, str, str]:
    """Run a command in-process; exit code, stdout, stderr."""
    result = runner.invoke(app, [str(a) for a in args])  # type: ignore[arg-type]
    return result.exit_code, result.stdout, result.stderr


def metarlm(*args: str | Path) -> tuple[int, str, str]:
    return invoke(cli.app, *args)


def synth(*args: str | Path) -> tuple[int, str, str]:
    return invoke(cli.synth_app, *args)


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def demo_file(path: Path, domain: str, **fields: object) -> Path:
    data = {"domain": domain, "examples": [{"input": "a", "output": "A"}], **fields}
    return write(path, json.dumps(data))


# --- F1-F3: integers past Python's 4,300-digit limit in programs ---------------------------

PROGRAMS = {
    "F1": ("x1" + "0" * 4300 + " -> a", "rules", "variable index of 4301 digits"),
    "F2": ("u1 -> " + "9" * 4301, "numbers", "integer literal of 4301 digits"),
    "F3": ("x1 -> [x1] * " + "9" * 4301, "numbers", "integer literal of 4301 digits"),
}


@pytest.mark.parametrize("case", sorted(PROGRAMS))
def test_long_integers_in_programs(case: str, tmp_path: Path) -> None:
    text, domain, message = PROGRAMS[case]
    with pytest.raises(ProgramError, match=message):
        parse_program(text, domain)
    prog = write(tmp_path / "p.rules", text)
    assert message in one_line_error(*metarlm("run", prog, "--domain", domain, "-i", "a"))


# --- F4-F7 and deep nesting: demos ---------------------------------------------------------

def test_f4_domain_name_too_long(tmp_path: Path) -> None:
    name = "x" * 300 + ".lark"
    with pytest.raises(DemoError, match="grammar file not found"):
        parse_demo({"domain": name, "examples": []})
    rules = write(tmp_path / "p.rules", "a -> A")
    demo = demo_file(tmp_path / "d.json", name)
    one_line_error(*metarlm("run", rules, "--domain", name, "-i", "a"))
    one_line_error(*metarlm("check", rules, "--demo", demo))
    one_line_error(*synth("--demo", demo, "--no-model"))


def test_f5_background_name_too_long(tmp_path: Path) -> None:
    with pytest.raises(DemoError, match="rules file not found"):
        parse_demo({"domain": "rules", "background": "x" * 300,
                    "examples": [{"input": "a", "output": "A"}]})
    demo = demo_file(tmp_path / "d.json", "rules", background="x" * 300)
    one_line_error(*metarlm("check", write(tmp_path / "p.rules", "a -> A"), "--demo", demo))
    one_line_error(*synth("--demo", demo, "--no-model"))


def test_f6_background_that_is_not_text(tmp_path: Path) -> None:
    binary = write(tmp_path / "ls", b"\x7fELF\x02\x01\x01\x00" + bytes(range(128, 256)))
    with pytest.raises(DemoError, match="not UTF-8"):
        parse_demo({"domain": "rules", "background": str(binary),
                    "examples": [{"input": "a", "output": "A"}]})
    demo = demo_file(tmp_path / "d.json", "rules", background="ls")
    assert "not UTF-8" in one_line_error(*synth("--demo", demo, "--no-model"))


def test_f7_integer_output_of_4301_digits(tmp_path: Path) -> None:
    demo = write(tmp_path / "d.json", '{"domain": "numbers", "examples": '
                 '[{"input": "a", "output": ' + "9" * 4301 + "}]}")
    with pytest.raises(DemoError, match=r"examples\[0\].output: integer of 4301 digits"):
        load_demo(demo)
    with pytest.raises(DemoError, match="integer of 4301 digits"):
        parse_demo({"domain": "numbers", "examples": [{"input": "a", "output": "9" * 4301}]})
    rules = write(tmp_path / "p.rules", "a -> 1")
    assert "4301 digits" in one_line_error(*metarlm("check", rules, "--demo", demo))


def test_deeply_nested_demo_is_bad_input(tmp_path: Path) -> None:
    demo = write(tmp_path / "d.json", "[" * 100_000)
    with pytest.raises(DemoError, match="nested more than"):
        load_demo(demo)
    rules = write(tmp_path / "p.rules", "a -> A")
    assert "nested" in one_line_error(*metarlm("check", rules, "--demo", demo))
    one_line_error(*synth("--demo", demo, "--no-model"))


# --- F8-F14: grammar files ------------------------------------------------------------------

GRAMMARS: dict[str, tuple[bytes | str, str]] = {
    "F8": (b"// \xff\xfe\n" + HEADER.encode(), "not UTF-8"),
    "F9 superscript": ("// @max_rules: \u00b2\n" + HEADER, "@max_rules must be an integer"),
    "F9 digits": ("// @max_words: " + "9" * 4301 + "\n" + HEADER, "@max_words must be"),
    "F10": (HEADER + "%override WORD: /a{4294967296}/\n", "grammar error"),
    "F11": ((ROOT / "grammar" / "rules.lark").read_text() + "%import core (seq_program)\n",
            "imported by two different paths"),
    "F12": (HEADER + "%override WORD: /(?i)walk/\n", "bad regular expression"),
}


@pytest.mark.parametrize("case", sorted(GRAMMARS))
def test_grammar_files_that_lark_or_python_reject(case: str, tmp_path: Path) -> None:
    content, message = GRAMMARS[case]
    grammar = write(tmp_path / "g.lark", content)
    with pytest.raises(DomainError, match=message):
        load_domain(str(grammar))
    rules = write(tmp_path / "p.rules", "walk -> a")
    demo = demo_file(tmp_path / "d.json", "g.lark")
    assert message in one_line_error(*metarlm("run", rules, "--domain", grammar, "-i", "walk"))
    assert message in one_line_error(*metarlm("check", rules, "--demo", demo))
    assert message in one_line_error(*synth("--demo", demo, "--no-model"))


PARSES = {
    "F13": (HEADER + "%override UVAR.2: /u[a-z]+/\n", "uabc -> a", "'uabc' is not a variable"),
    "F14": (HEADER.replace("start: seq_program", 'start: seq_program | my_seq_rule\n'
                           'my_seq_rule: "zz"'), "zz", "not as a program"),
}


@pytest.mark.parametrize("case", sorted(PARSES))
def test_grammars_whose_trees_are_not_programs(case: str, tmp_path: Path) -> None:
    content, program, message = PARSES[case]
    grammar = write(tmp_path / "g.lark", content)
    with pytest.raises(ProgramError, match=message):
        load_domain(str(grammar)).parse(program)
    rules = write(tmp_path / "p.rules", program)
    assert message in one_line_error(*metarlm("run", rules, "--domain", grammar, "-i", "zz"))


# --- F15-F18 and the hang: evaluation and sketches -----------------------------------------

def test_f15_integer_limit_holds_through_holes(tmp_path: Path) -> None:
    sketch, words = parse_program(SKETCH_F15, "numbers"), ("a",) * 250
    result = evaluate(sketch, words)
    assert result == Fail(OVERFLOW) and render(result) == "!FAIL integer overflow"
    assert fill_holes(sketch, [Example(words, 5)]) is None
    demo = write(tmp_path / "d.json", json.dumps(
        {"domain": "numbers", "examples": [{"input": " ".join(words), "output": 5}]}))
    report = check_demo(sketch, load_demo(demo))
    assert not report.ok and report.examples[0].result == Fail(OVERFLOW)
    code, out, err = metarlm("check", write(tmp_path / "p.rules", SKETCH_F15), "--demo", demo)
    assert code == 1 and "integer overflow" in out and not err


def test_f16_background_variables_past_the_model(tmp_path: Path) -> None:
    from metarlm.synth.search import synthesize

    data = {"domain": "rules", "background": "x5 -> [x5]",
            "examples": [{"input": "a", "output": "A"}]}
    result = synthesize(parse_demo(data), timeout=5)  # the policy skips states it cannot read
    assert result.consistent, result.tried
    sampled = synthesize(parse_demo(data), timeout=5, sampler=True)
    assert any("sampler: skipped" in t and "x5" in t for t in sampled.tried), sampled.tried
    code, out, err = synth("--demo", write(tmp_path / "d.json", json.dumps(data)),
                           "--timeout", "5")
    assert code in (0, 1) and "Traceback" not in out + err and not err


def test_f17_derive_and_explain_long_inputs(tmp_path: Path) -> None:
    program = parse_program("x1 u1 -> [x1] A; u1 -> A")
    words = ("a",) * 2000
    result, tree = derive(program, words)
    assert result.ok and tree is not None and tree.end == 2000
    lines = explain_lines(program, words[:600])
    assert len(lines) == 600 and lines[-1].startswith(" " * 2 * 599 + "a  =>  A")
    write(tmp_path / "long.lark", "// @max_words: 1000\n" + HEADER)
    demo = write(tmp_path / "d.json", json.dumps({
        "domain": "long.lark", "background": "x1 u1 -> [x1] A\nu1 -> A",
        "examples": [{"input": "a a", "output": "A A"}], "queries": [" ".join(["a"] * 600)]}))
    code, out, err = synth("--demo", demo, "--no-model", "--explain", "--timeout", "5", "--json")
    assert code == 0 and not err and len(json.loads(out)["explanation"]) == 600


def test_f18_max_output_is_bounded(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
        from metarlm.lang.domain import parse_program
        from metarlm.exec.check import run_many
        from metarlm.lang.interp import evaluate
        program = parse_program("x1 u1 -> [x1] [x1]; u1 -> a")
        words = ("a",) * 40
        print(run_many(program, [words], max_output=10**12)[0].reason)
        print(evaluate(program, words, max_output=10**12).reason)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert done.stdout.splitlines() == [TOO_LONG, TOO_LONG], done.stderr
    prog = write(tmp_path / "p.rules", "x1 u1 -> [x1] [x1]; u1 -> a")
    line = one_line_error(*metarlm("run", prog, "-i", " ".join(["a"] * 40),
                                   "--max-output", "1000000000000"))
    assert "--max-output: at most 10000000" in line


def timed(call: Callable[[], object]) -> tuple[object, float]:
    start = time.monotonic()
    value = call()
    return value, time.monotonic() - start


@pytest.mark.parametrize("text, n", [(HANG, 200), (HANG.replace("?\n", "? + [x1] * ?\n"), 100)])
def test_the_hang_fails_within_a_second(text: str, n: int, tmp_path: Path) -> None:
    sketch, words = parse_program(text, "numbers"), ("a",) * n
    result, seconds = timed(lambda: evaluate(sketch, words))
    assert result == Fail(FUEL) and seconds < 1.0
    filled, seconds = timed(lambda: fill_holes(sketch, [Example(words, 7)]))
    assert filled is None and seconds < 1.0
    data = {"domain": "numbers", "examples": [{"input": " ".join(words), "output": 7}]}
    demo = write(tmp_path / "d.json", json.dumps(data))
    report, seconds = timed(lambda: check_demo(sketch, load_demo(demo)))
    assert not report.ok and seconds < 1.0  # type: ignore[attr-defined]
    (code, out, err), seconds = timed(lambda: metarlm("check", write(tmp_path / "p.rules", text),
                                                      "--demo", demo))
    assert code == 1 and "out of fuel" in out and not err and seconds < 3.0
    # as a background the sketch is refused (known rules have no holes), not searched for
    demo = write(tmp_path / "b.json", json.dumps({**data, "background": text}))
    (code, out, err), seconds = timed(lambda: synth("--demo", demo, "--timeout", "2"))
    assert "cannot have holes" in one_line_error(code, out, err) and seconds < 3.0


def test_symbolic_work_counts_against_fuel() -> None:
    sketch = parse_program("x1 u1 -> [x1] * ? + [x1] * ?\nu1 -> 1", "numbers")
    words = ("a",) * 12
    needed = next(f for f in range(1, 10**6, 7) if evaluate(sketch, words, fuel=f).ok)
    concrete = parse_program("x1 u1 -> [x1] * 2 + [x1] * 3\nu1 -> 1", "numbers")
    plain = next(f for f in range(1, 10**6) if evaluate(concrete, words, fuel=f).ok)
    assert needed > 10 * plain  # building the polynomials is paid for, not free
    assert evaluate(sketch, words, fuel=needed - 7) == Fail(FUEL)


# --- issue 13: grammars users write, demo metadata ------------------------------------------

def test_grammar_without_ignore_blank_is_one_line_everywhere(tmp_path: Path) -> None:
    grammar = write(tmp_path / "noblank.lark", HEADER.replace("%ignore BLANK\n", ""))
    with pytest.raises(DomainError, match="must say `%ignore BLANK`"):
        load_domain(str(grammar))
    demo = demo_file(tmp_path / "d.json", "noblank.lark")
    rules = write(tmp_path / "p.rules", "a -> A")
    for code, out, err in (synth("--demo", demo), synth("--demo", demo, "--no-model"),
                           metarlm("check", rules, "--demo", demo),
                           metarlm("run", rules, "--domain", grammar, "-i", "a")):
        assert "%ignore BLANK" in one_line_error(code, out, err)


def test_grammar_syntax_error_shows_the_line_and_a_caret(tmp_path: Path) -> None:
    grammar = write(tmp_path / "badgram.lark", HEADER + '\nfoo: "a" |* b\n')
    rules = write(tmp_path / "p.rules", "a -> A")
    code, out, err = metarlm("run", rules, "--domain", grammar, "-i", "a")
    first = one_line_error(code, out, err)
    assert first.startswith("error: ") and "badgram.lark:6:11: grammar error: " in first
    assert err.splitlines()[1:] == ['    foo: "a" |* b', "              ^"]


def test_program_syntax_error_shows_the_line_and_a_caret(tmp_path: Path) -> None:
    prog = write(tmp_path / "p.rules", "dax -> RED\nlug -> ] BLUE\n")
    code, out, err = metarlm("run", prog, "-i", "dax")
    assert "p.rules:2:8: unexpected ']'" in one_line_error(code, out, err)
    assert err.splitlines()[1:] == ["    lug -> ] BLUE", "           ^"]


def test_demo_metadata_fields(tmp_path: Path) -> None:
    base = {"domain": "rules", "examples": [{"input": "a", "output": "A"}]}
    demo = parse_demo({**base, "name": "one word", "description": "a to A"})
    assert demo.examples == parse_demo(base).examples
    with pytest.raises(DemoError, match="unknown field.*title"):
        parse_demo({**base, "title": "x"})
    with pytest.raises(DemoError, match="name: expected a string"):
        parse_demo({**base, "name": 3})
    demo_path = write(tmp_path / "d.json", json.dumps({**base, "name": "n", "description": "d"}))
    code, out, err = synth("--demo", demo_path, "--no-model", "--timeout", "5")
    assert code == 0 and not err


def test_errors_are_one_line_whatever_the_input() -> None:
    with pytest.raises(MetarlmError) as err:
        load_domain("bad\nname\x1b[31m")
    assert "\n" not in str(err.value) and "\x1b" not in str(err.value)
    rules = load_domain("rules")
    with pytest.raises(ProgramError) as perr:
        rules.parse("a -> A\n" + "b " * 5000 + "-> ]")
    assert len(perr.value.excerpt.splitlines()[0]) < 120  # a window of the long line


# --- found while fuzzing train, info and eval -----------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--batch-size", "300"], "more than the pool"),
    (["--d-model", "7"], "multiple of the 4 attention heads"),
    (["--lr", "-1"], "--lr must be a positive number"),
    (["--grammar", "x" * 300 + ".lark"], "grammar file not found"),
])
def test_train_options_that_no_run_can_use(args: list[str], message: str,
                                           tmp_path: Path) -> None:
    base = ["train", "--grammar", "rules", "--steps", "1", "--out", tmp_path / "run"]
    assert message in one_line_error(*metarlm(*base, *args))


def test_train_out_that_cannot_be_made(tmp_path: Path) -> None:
    blocker = write(tmp_path / "file", "")
    line = one_line_error(*metarlm("train", "--grammar", "rules", "--steps", "1",
                                   "--out", blocker / "run"))
    assert "cannot make the directory" in line


@pytest.mark.parametrize("path", ["x" * 300])
def test_info_and_synth_on_paths_that_are_no_checkpoint(path: str, tmp_path: Path) -> None:
    assert "not a metarlm checkpoint" in one_line_error(*metarlm("info", path))
    demo = demo_file(tmp_path / "d.json", "rules")
    assert "no model checkpoint" in one_line_error(*synth("--demo", demo, "--checkpoint", path))


def test_eval_out_that_cannot_be_made(tmp_path: Path) -> None:
    blocker = write(tmp_path / "file", "")
    line = one_line_error(*metarlm("eval", "--suite", "miniscan", "--system", "enum",
                                   "--out", blocker / "x", "--episodes", "1", "--quick",
                                   "--timeout", "0.2", "--budget", "20"))
    assert "cannot make the directory" in line
