"""Every shipped example: its program holds on its demo and answers its inputs correctly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from metarlm import cli
from metarlm.data import load_miniscan, load_scan, number_words

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
PROGRAMS = {"scan": "scan.rules", "miniscan": "miniscan.rules", "numbers": "english.rules"}
NUMBERS = [0, 13, 21, 99, 101, 999, 1001, 10000, 100005, 105201, 999999]
runner = CliRunner()


def program_for(folder: Path) -> Path:
    """The rules file that goes with an example folder."""
    if folder.name in PROGRAMS:
        return folder / PROGRAMS[folder.name]
    candidates = sorted(folder.glob("*.rules"))
    assert len(candidates) == 1, f"{folder}: name its program in PROGRAMS"
    return candidates[0]


def cli_run(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(cli.app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout


@pytest.mark.parametrize("demo", sorted(EXAMPLES.glob("*/demo*.json")), ids=lambda p: p.parent.name)
def test_program_holds_on_demo(demo: Path) -> None:
    code, out = cli_run("check", program_for(demo.parent), "--demo", demo, "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"], report
    assert report["examples"] and all(e["ok"] for e in report["examples"])


def expected_outputs(folder: str, lines: list[str]) -> list[str]:
    """What each input line of an example must give, from the data (not the interpreter)."""
    if folder == "scan":
        truth = dict(load_scan())
        return [truth[line] for line in lines]
    if folder == "miniscan":
        truth = {q["input"]: q["output"] for q in load_miniscan()["queries"]}
        truth["dax blicket lug kiki wif fep"] = "GREEN GREEN GREEN RED BLUE RED"
        return [truth[line] for line in lines]
    assert lines == [number_words(n) for n in NUMBERS]
    return [str(n) for n in NUMBERS]


@pytest.mark.parametrize("folder", sorted(PROGRAMS))
def test_program_answers_inputs(folder: str) -> None:
    inputs = EXAMPLES / folder / "inputs.txt"
    domain = json.loads((EXAMPLES / folder / "demo.json").read_text(encoding="utf-8"))["domain"]
    lines = [t for t in inputs.read_text(encoding="utf-8").splitlines() if t.strip()]
    code, out = cli_run("run", program_for(EXAMPLES / folder), "--domain", domain,
                        "--inputs", inputs)
    assert code == 0
    assert out.splitlines() == expected_outputs(folder, lines)


def test_miniscan_demo_is_the_shipped_data() -> None:
    demo = json.loads((EXAMPLES / "miniscan" / "demo.json").read_text(encoding="utf-8"))
    assert demo == load_miniscan()
    assert len(demo["examples"]) == 14 and len(demo["queries"]) == 8


def test_python_dash_m() -> None:
    proc = subprocess.run([sys.executable, "-m", "metarlm", "run", "examples/scan/scan.rules",
                           "--domain", "scan", "--input", "jump around left"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == dict(load_scan())["jump around left"]
