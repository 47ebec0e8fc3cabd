"""End to end: every suite under enumeration and a tiny model, outputs, workers, the CLI."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from metarlm import cli
from metarlm.eval import SUITE_NAMES, Budgets, EvalConfig, plan_tasks, run_eval
from metarlm.eval.report import PLOT_SHOTS, PLOT_SOLVED
from metarlm.neural.checkpoint_info import describe

TINY_BUDGETS = Budgets(budget=300, timeout=0.3, samples=2, batch=2)
PNG = b"\x89PNG\r\n\x1a\n"
TIMING = ("seconds", "wall", "first_seconds", "first_candidates", "candidates", "consistent",
          "program", "accuracy", "correct", "solved", "mistakes", "id_correct", "ood_correct")


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random tiny model whose decoding ends soon: a strong bias towards end-of-program."""
    import torch

    from metarlm.neural.model import ModelConfig, build_model, save_checkpoint
    from metarlm.neural.tokens import EOS

    model = build_model(ModelConfig(d_model=16, encoder_layers=1, decoder_layers=1, heads=2,
                                    ffn=32, max_positions=512), seed=0)
    with torch.no_grad():  # untrained weights would otherwise write the longest programs
        model.final_logits_bias[0, EOS] = 8.0
    return save_checkpoint(model, tmp_path_factory.mktemp("tiny"),
                           {"note": "test", "task": "policy"})


def assert_outputs(out: Path) -> dict[str, Any]:
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    for name in (PLOT_SHOTS, PLOT_SOLVED):
        assert (out / name).read_bytes().startswith(PNG)
    assert (out / "results.md").read_text(encoding="utf-8").startswith("# metarlm evaluation")
    assert {"platform", "cpus", "python", "torch"} <= set(results["machine"])
    return results


def test_every_suite_end_to_end(tmp_path: Path, tiny_checkpoint: Path) -> None:
    cfg = EvalConfig(suites=SUITE_NAMES, systems=("enum", "meta"), out=tmp_path / "ev",
                     budgets=TINY_BUDGETS, checkpoint=str(tiny_checkpoint), episodes=1,
                     quick=True, shots=(1,), progress=False)
    results = run_eval(cfg)
    assert assert_outputs(cfg.out)["runs"] == results["runs"]
    tasks = plan_tasks(cfg)
    assert len(results["runs"]) == 2 * len(tasks)
    pairs = [(a["suite"], a["system"]) for a in results["aggregates"]]
    assert pairs == [(s, m) for s in SUITE_NAMES for m in ("enum", "meta")]
    assert all(r["error"] is None for r in results["runs"]), [r["error"] for r in results["runs"]]
    assert {r["shots"] for r in results["runs"]} == {None, 1}
    meta = next(s for s in results["systems"] if s["name"] == "meta")
    assert meta["available"] and len(meta["sha256"]) == 64
    weights = hashlib.sha256((tiny_checkpoint / "model.safetensors").read_bytes()).hexdigest()
    assert meta["sha256"] == describe(tiny_checkpoint)["sha256"] == weights  # metarlm info's
    assert results["budgets"]["budget"] == 300 and results["config"]["seeds"] == 1
    assert set(results["suites"]) == set(SUITE_NAMES)
    markdown = (cfg.out / "results.md").read_text(encoding="utf-8")
    assert all(f"| {s} | meta |" in markdown for s in SUITE_NAMES)


def test_oneshot_task_is_solved_by_enumeration_from_the_background(tmp_path: Path) -> None:
    # the tiny budgets' 0.3 s is a time limit a loaded machine can miss: the same candidate
    # budget here, with time to spare
    cfg = EvalConfig(suites=("scan-oneshot",), systems=("enum",), out=tmp_path / "one",
                     budgets=Budgets(budget=300, timeout=20.0), episodes=1, quick=True,
                     shots=(1,), progress=False)
    oneshot = run_eval(cfg)["aggregates"][0]
    assert oneshot["solved"] == 1 and oneshot["accuracy"]["mean"] == 1.0


def test_model_baselines_and_parallel_workers_agree(tmp_path: Path,
                                                    tiny_checkpoint: Path) -> None:
    common: dict[str, Any] = {"suites": ("miniscan",), "seeds": 2, "progress": False,
                              "budgets": Budgets(budget=50_000, timeout=60.0), "shots": (2,)}
    one = run_eval(EvalConfig(systems=("enum",), out=tmp_path / "one", **common))
    two = run_eval(EvalConfig(systems=("enum",), out=tmp_path / "two", workers=2, **common))

    def stable(rec: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in rec.items() if k not in ("seconds", "wall", "first_seconds")}

    assert [stable(r) for r in one["runs"]] == [stable(r) for r in two["runs"]]
    assert one["aggregates"][0]["accuracy"]["mean"] == 1.0
    base = run_eval(EvalConfig(systems=("greedy", "nometa"), out=tmp_path / "base",
                               checkpoint=str(tiny_checkpoint),
                               nometa_checkpoint=str(tiny_checkpoint),
                               **{**common, "seeds": 1, "budgets": TINY_BUDGETS}))
    assert {r["system"] for r in base["runs"]} == {"greedy", "nometa"}
    greedy = [r for r in base["runs"] if r["system"] == "greedy"]
    # greedy: the policy alone, one rule per step, so few candidates and some model calls
    assert all(r["error"] is None and r["model_calls"] >= 1 for r in greedy), greedy
    assert all(r["candidates"] <= 64 for r in greedy), [r["candidates"] for r in greedy]


def test_cli_writes_the_table_and_notes_unavailable_systems(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    result = CliRunner().invoke(cli.app, ["eval", "--suite", "miniscan", "--system", "enum",
                                          "--system", "nometa", "--out", str(out),
                                          "--nometa-checkpoint", str(tmp_path / "none"),
                                          "--shots", "1,4", "--timeout", "60"])
    assert result.exit_code == 0, result.output
    assert "| miniscan | enum | 100.0 |" in result.stdout
    assert "unavailable: nometa" in result.stdout
    results = assert_outputs(out)
    assert sorted(r["shots"] or 0 for r in results["runs"]) == [0, 1, 4]
    nometa = next(s for s in results["systems"] if s["name"] == "nometa")
    assert not nometa["available"]


@pytest.mark.parametrize("args,message", [
    (["--suite", "nope", "--system", "enum"], "unknown suite"),
    (["--suite", "miniscan", "--system", "oracle"], "unknown system"),
    (["--suite", "miniscan", "--system", "enum", "--shots", "1,x"], "--shots"),
])
def test_cli_bad_arguments_are_one_line_errors(tmp_path: Path, args: list[str],
                                               message: str) -> None:
    result = CliRunner().invoke(cli.app, ["eval", *args, "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and message in result.stderr


def test_report_names_checkpoints_without_machine_paths(tmp_path: Path) -> None:
    from metarlm.eval.report import _where
    from metarlm.neural.checkpoint_info import SHIPPED, SHIPPED_NYE

    assert _where(str(SHIPPED.resolve())) == "metarlm/checkpoints/default"
    assert _where(str(SHIPPED_NYE.resolve())) == "metarlm/checkpoints/nye"
    assert _where(None) == "–"
    assert _where(str(tmp_path / "ck")) in (str(tmp_path / "ck"), "ck")


@pytest.mark.parametrize("workers, one_process, apart", [(1, False, True), (1, True, False),
                                                        (2, False, False)])
def test_guided_lanes_take_a_second_core_only_with_one_worker(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int, one_process: bool,
        apart: bool) -> None:
    from metarlm.eval import runner

    seen: list[bool] = []

    class Planned(Exception):
        pass

    def job(task: Any, system: Any, budgets: Any, parallel_lanes: bool = True) -> dict:
        seen.append(parallel_lanes)
        raise Planned

    monkeypatch.setattr(runner, "make_job", job)
    with pytest.raises(Planned):
        run_eval(EvalConfig(suites=("miniscan",), systems=("meta",), out=tmp_path / "ev",
                            workers=workers, one_process=one_process, progress=False))
    assert seen == [apart]
