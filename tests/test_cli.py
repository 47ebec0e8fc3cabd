"""The command line: outputs, exit codes and one-line errors for bad input (never a traceback)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from metarlm import cli

ROOT = Path(__file__).resolve().parents[1]
SCAN = ROOT / "examples" / "scan"
runner = CliRunner()


def invoke(*args: str | Path) -> tuple[int, str, str]:
    """Run ``metarlm ARGS`` in-process; return exit code, stdout and stderr."""
    result = runner.invoke(cli.app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def one_line_error(code: int, out: str, err: str, expected_code: int = 2) -> str:
    """Assert a clean failure: the exit code, no traceback, one message line on stderr (then,
    for a syntax error, the offending line and a caret under it)."""
    assert code == expected_code, (code, out, err)
    assert "Traceback" not in out + err
    lines = err.rstrip("\n").splitlines()
    assert lines and lines[0].startswith("error: "), err
    assert len(lines) == 1 or (len(lines) == 3 and lines[2].strip() == "^"), err
    return lines[0]


@pytest.fixture()
def rules(tmp_path: Path) -> Path:
    path = tmp_path / "p.rules"
    path.write_text("dax -> RED\nx1 twice -> [x1] [x1]\nu1 copy -> u1\n", encoding="utf-8")
    return path


def test_help_lists_commands() -> None:
    code, out, _ = invoke("--help")
    assert code == 0 and "run" in out and "check" in out


def test_run_one_input(rules: Path) -> None:
    assert invoke("run", rules, "--input", "dax twice") == (0, "RED RED\n", "")


def test_run_copy_and_failure(rules: Path) -> None:
    code, out, _ = invoke("run", rules, "-i", "wug copy", "-i", "wug")
    assert code == 1
    assert out.splitlines() == ["wug", "!FAIL no rule"]


def test_run_inputs_file_skips_blank_lines(rules: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "in.txt"
    inputs.write_text("dax\n\ndax twice twice\n", encoding="utf-8")
    code, out, _ = invoke("run", rules, "--inputs", inputs)
    assert code == 0 and out.splitlines() == ["RED", "RED RED RED RED"]


def test_run_json(rules: Path) -> None:
    code, out, _ = invoke("run", rules, "--input", "dax", "--json")
    assert code == 0
    assert json.loads(out) == {"input": "dax", "output": "RED", "ok": True, "reason": None}
    code, out, _ = invoke("run", rules, "-i", "dax", "-i", "wug", "--json")
    assert code == 1
    assert [r["reason"] for r in json.loads(out)] == [None, "no rule"]


def test_run_integer_algebra_json(tmp_path: Path) -> None:
    prog = tmp_path / "n.rules"
    prog.write_text("one -> 1\nx1 hundred -> [x1] * 100\n", encoding="utf-8")
    code, out, _ = invoke("run", prog, "--domain", "numbers", "-i", "one hundred", "--json")
    assert code == 0 and json.loads(out)["output"] == 100


def test_run_domain_from_grammar_file(tmp_path: Path) -> None:
    grammar = tmp_path / "tiny.lark"
    grammar.write_text("%import .core (seq_program, WORD, TOKEN, UVAR, XVAR, YVAR, BLANK, "
                       "COMMENT)\n%ignore BLANK\n%ignore COMMENT\nstart: seq_program\n"
                       '%override WORD: "one" | "two"\n', encoding="utf-8")
    prog = tmp_path / "t.rules"
    prog.write_text("one -> A\nu1 two -> [u1] [u1]\n", encoding="utf-8")
    assert invoke("run", prog, "--domain", grammar, "-i", "one two")[:2] == (0, "A A\n")
    line = one_line_error(*invoke("run", prog, "--domain", grammar, "-i", "one three"))
    assert "outside the tiny domain: three" in line


def test_check_passes_and_fails(rules: Path, tmp_path: Path) -> None:
    demo = tmp_path / "demo.json"
    demo.write_text(json.dumps({"domain": "rules", "examples": [
        {"input": "dax twice", "output": "RED RED"}], "queries": ["dax"]}), encoding="utf-8")
    code, out, _ = invoke("check", rules, "--demo", demo)
    assert code == 0 and "pass" in out and "the program holds" in out
    demo.write_text(json.dumps({"domain": "rules", "examples": [
        {"input": "dax twice", "output": "RED BLUE"}]}), encoding="utf-8")
    code, out, _ = invoke("check", rules, "--demo", demo)
    assert code == 1 and "FAIL" in out and "RED RED" in out and "RED BLUE" in out


def test_check_scored_query_counts(rules: Path, tmp_path: Path) -> None:
    demo = tmp_path / "demo.json"
    demo.write_text(json.dumps({"domain": "rules", "examples": [{"input": "dax", "output": "RED"}],
                                "queries": [{"input": "dax twice", "output": "RED"}]}))
    code, out, _ = invoke("check", rules, "--demo", demo, "--json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False
    assert report["examples"][0]["ok"] and not report["queries"][0]["ok"]
    assert report["queries"][0]["output"] == "RED RED"


def test_check_domain_override(tmp_path: Path) -> None:
    demo = tmp_path / "demo.json"
    demo.write_text(json.dumps({"domain": "scan",
                                "examples": [{"input": "dax", "output": "RED"}]}))
    line = one_line_error(*invoke("check", SCAN / "scan.rules", "--demo", demo))
    assert "examples[0].input" in line
    prog = tmp_path / "p.rules"
    prog.write_text("dax -> RED\n")
    assert invoke("check", prog, "--demo", demo, "--domain", "miniscan")[0] == 0


def test_malformed_program_names_file_line_column(tmp_path: Path) -> None:
    prog = tmp_path / "bad.rules"
    prog.write_text("dax -> RED\nx1 -> [x2]\n", encoding="utf-8")
    line = one_line_error(*invoke("run", prog, "-i", "dax"))
    assert f"{prog}:2:8:" in line and "x2" in line


def test_unknown_domain(rules: Path) -> None:
    line = one_line_error(*invoke("run", rules, "--domain", "klingon", "-i", "dax"))
    assert "unknown domain 'klingon'" in line


def test_grammar_file_with_an_error(rules: Path, tmp_path: Path) -> None:
    grammar = tmp_path / "broken.lark"
    grammar.write_text("start: seq_program\n%import .core (seq_program\n", encoding="utf-8")
    line = one_line_error(*invoke("run", rules, "--domain", grammar, "-i", "dax"))
    assert "broken.lark" in line and "grammar error" in line


@pytest.mark.parametrize(("content", "field"), [
    ('{"domain": "rules", "examples": [{"input": "a"}]}', "examples[0]"),
    ('{"domain": "rules", "examples": [{"input": "a", "output": 3}]}', "examples[0].output"),
    ('{"examples": []}', "domain"),
    ('{"domain": "rules", "examples": [', "malformed JSON"),
])
def test_malformed_demo_names_the_field(rules: Path, tmp_path: Path, content: str,
                                        field: str) -> None:
    demo = tmp_path / "demo.json"
    demo.write_text(content, encoding="utf-8")
    assert field in one_line_error(*invoke("check", rules, "--demo", demo))


def test_words_outside_the_domain(tmp_path: Path) -> None:
    inputs = tmp_path / "in.txt"
    inputs.write_text("jump twice\njump fly\n", encoding="utf-8")
    line = one_line_error(*invoke("run", SCAN / "scan.rules", "--domain", "scan",
                                  "--inputs", inputs))
    assert f"{inputs}:2:" in line and "fly" in line


def test_ten_thousand_words(rules: Path) -> None:
    line = one_line_error(*invoke("run", rules, "-i", " ".join(["dax"] * 10_000)))
    assert "10000 words" in line and "max_words = 256" in line


def test_blow_up_is_a_reported_failure(tmp_path: Path) -> None:
    prog = tmp_path / "double.rules"
    prog.write_text("a -> A\nx1 b -> [x1] [x1]\nx1 -> [x1] [x1]\n", encoding="utf-8")
    code, out, err = invoke("run", prog, "-i", "a" + " b" * 40, "-i", "c")
    assert code == 1 and err == ""
    assert out.splitlines() == ["!FAIL output too long", "!FAIL no rule"]


def test_fuel_limit_is_a_reported_failure(tmp_path: Path) -> None:
    prog = tmp_path / "split.rules"
    prog.write_text("x1 x2 x3 -> [x1] [x2] [x3]\n", encoding="utf-8")
    code, out, _ = invoke("run", prog, "--fuel", "1000", "-i", " ".join(["a"] * 200))
    assert code == 1 and out.strip() == "!FAIL out of fuel"


@pytest.mark.parametrize("args", [
    ("run", "missing.rules", "-i", "a"),
    ("run", "{rules}", "--inputs", "missing.txt"),
    ("run", "{rules}"),
    ("check", "{rules}", "--demo", "missing.json"),
])
def test_missing_files_and_inputs(rules: Path, args: tuple[str, ...]) -> None:
    one_line_error(*invoke(*(a.format(rules=rules) for a in args)))


def test_program_with_holes_is_refused_by_run(tmp_path: Path) -> None:
    prog = tmp_path / "sketch.rules"
    prog.write_text("dax -> ?\n", encoding="utf-8")
    assert "holes" in one_line_error(*invoke("run", prog, "-i", "dax"))


def test_synth_bad_demo_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "demo.json"
    bad.write_text('{"domain": "scan", "examples": [{"input": "jump"}]}')
    result = runner.invoke(cli.synth_app, ["--demo", str(bad), "--no-model"])
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error: ") and "examples[0]" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_synth_no_model_json() -> None:
    result = runner.invoke(cli.synth_app, ["--demo", "examples/miniscan/demo.json",
                                           "--no-model", "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    for key in ("program", "consistent", "queries", "accuracy", "candidates", "seconds",
                "alternatives"):
        assert key in record
    assert record["consistent"] and record["accuracy"] == 1.0
    assert all(q["output"] == q["expected"] and q["correct"] for q in record["queries"])


def test_synth_set_takes_search_settings_and_refuses_others() -> None:
    base = ["--demo", "examples/miniscan/demo.json", "--no-model", "--json"]
    narrow = runner.invoke(cli.synth_app, [*base, "--set", "beam=1", "--set", "revisions=0"])
    wide = runner.invoke(cli.synth_app, base)
    assert narrow.exit_code == 0 and wide.exit_code == 0, narrow.output + wide.output
    # a beam of one grows another search: the setting reached it
    assert json.loads(narrow.stdout)["candidates"] != json.loads(wide.stdout)["candidates"]
    for bad, said in (["--set", "bem=1"], "unknown search setting 'bem'"), \
            (["--set", "beam"], "expected NAME=VALUE"), (["--set", "beam=-1"], "NAME=VALUE"):
        result = runner.invoke(cli.synth_app, [*base, *bad])
        assert said in one_line_error(result.exit_code, result.stdout, result.stderr)


def test_synth_one_process_keeps_the_lanes_together(monkeypatch: pytest.MonkeyPatch) -> None:
    from metarlm.synth import search

    seen: list[bool] = []
    real = search.synthesize

    def spy(demo: object, config: object, **kw: object) -> object:
        seen.append(config.parallel_lanes)  # type: ignore[attr-defined]
        return real(demo, config, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(search, "synthesize", spy)
    base = ["--demo", "examples/lights/demo.json", "--json"]
    runs = [runner.invoke(cli.synth_app, base + extra) for extra in ([], ["--one-process"])]
    assert all(r.exit_code == 0 for r in runs), runs[0].output + runs[1].output
    assert seen == [True, False]
    assert json.loads(runs[0].stdout)["program"] == json.loads(runs[1].stdout)["program"]


@pytest.mark.parametrize("args", [
    ["main", "run", "examples/scan/scan.rules", "--domain", "scan", "--input", "jump twice"],
    ["main", "check", "examples/miniscan/miniscan.rules", "--demo",
     "examples/miniscan/demo.json"],
    # guided by the shipped policy, which the search runs in numpy (and no pydantic:
    # typer 0.29 builds a pydantic adapter for every parameter, 0.17 s of start-up)
    ["synth_main", "--demo", "examples/lights/demo.json", "--timeout", "30"],
])
def test_light_start(args: list[str]) -> None:
    code = (f"import sys\nfrom metarlm.cli import {args[0]} as entry\n"
            "sys.argv = ['metarlm', *sys.argv[1:]]\n"
            "try:\n    entry()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('torch', 'transformers', 'pydantic'))\nprint('HEAVY', heavy)\n")
    proc = subprocess.run([sys.executable, "-c", code, *args[1:]], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "HEAVY []"


def test_check_fills_holes(tmp_path: Path) -> None:
    prog = tmp_path / "sketch.rules"
    prog.write_text("dax -> ?\nx1 twice -> [x1] [x1]\n", encoding="utf-8")
    demo = tmp_path / "demo.json"
    demo.write_text(json.dumps({"domain": "miniscan",
                                "examples": [{"input": "dax twice", "output": "RED RED"}]}))
    code, out, _ = invoke("check", prog, "--demo", demo, "--json")
    report = json.loads(out)
    assert code == 0 and report["filled"] and report["program"].startswith("dax -> RED\n")
    demo.write_text(json.dumps({"domain": "miniscan",
                                "examples": [{"input": "dax twice", "output": "RED BLUE"}]}))
    code, out, _ = invoke("check", prog, "--demo", demo)
    assert code == 1 and "no assignment of the holes" in out


def test_live_status_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from metarlm.types import Budget

    with cli.live_status(True) as progress:  # pytest's stderr is no terminal
        assert progress is None
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    with cli.live_status(False) as progress:  # --json: silent
        assert progress is None
    with cli.live_status(True) as progress:
        assert progress is not None
        budget = Budget(seconds=5)
        budget.candidates = 1234
        progress(budget, 2)  # updates the line without raising
