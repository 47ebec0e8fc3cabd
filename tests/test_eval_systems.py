"""Systems: resolution and availability, checkpoint hashes, scoring, one run of a job."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from metarlm.eval.suites import EvalError, build_tasks, make_task
from metarlm.eval.systems import (
    Budgets,
    checkpoint_sha256,
    make_job,
    resolve_systems,
    run_job,
    score,
)
from metarlm.neural.checkpoint_info import SHIPPED_NOMETA


def fake_checkpoint(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.json").write_text("{}", encoding="utf-8")
    (path / "model.safetensors").write_bytes(b"weights")
    return path


def test_resolution_and_availability(tmp_path: Path) -> None:
    ck = fake_checkpoint(tmp_path / "ck")
    enum, meta, nometa, greedy = resolve_systems(["enum", "meta", "nometa", "greedy", "enum"],
                                                 checkpoint=ck, nometa_checkpoint=tmp_path)
    assert enum.available and enum.switches == {"use_model": False}
    assert meta.available and meta.sha256 == checkpoint_sha256(ck)
    assert not nometa.available and "no checkpoint" in nometa.reason
    assert resolve_systems(["nometa"])[0].checkpoint == str(SHIPPED_NOMETA.resolve())
    assert greedy.switches == {"use_model": True, "greedy": True}
    missing = resolve_systems(["meta"], checkpoint=tmp_path / "absent")[0]
    assert not missing.available and "no checkpoint" in missing.reason
    with pytest.raises(EvalError, match="unknown system"):
        resolve_systems(["oracle"])


def test_checkpoint_hash_follows_weights_not_optimizer(tmp_path: Path) -> None:
    ck = fake_checkpoint(tmp_path / "ck")
    before = checkpoint_sha256(ck)
    (ck / "optimizer.safetensors").write_bytes(b"state")
    assert checkpoint_sha256(ck) == before
    (ck / "model.safetensors").write_bytes(b"other weights")
    assert checkpoint_sha256(ck) != before


def test_score_excludes_controls_from_accuracy() -> None:
    task = make_task("s", "t", 0, "rules", [("a", "A")], [("a a", "A"), ("b", "B"), ("c", "C")],
                     [True, False, False])
    task_data = {**asdict(task), "controls": 1}  # the last query is a control
    got = score([True, False, True], task_data)
    assert (got["queries"], got["correct"], got["accuracy"], got["solved"]) == (2, 1, 0.5, False)
    assert (got["id_queries"], got["id_correct"]) == (2, 1)  # the control counts as in-dist.
    assert (got["ood_queries"], got["ood_correct"]) == (1, 1)
    crashed = score([], task_data)
    assert crashed["correct"] == 0 and crashed["accuracy"] == 0.0


def test_enum_job_solves_miniscan() -> None:
    task = build_tasks("miniscan", 0)[0]
    system = resolve_systems(["enum"])[0]
    rec = run_job(make_job(task, system, Budgets(budget=50_000, timeout=60.0)))
    assert rec["error"] is None and rec["consistent"]
    assert rec["accuracy"] == 1.0 and rec["solved"] and rec["queries"] == 8
    assert rec["candidates"] > 0 and "fep" in rec["program"]
    # search settings every system gets travel in the job and reach the search
    narrow = run_job(make_job(task, system, Budgets(budget=50_000, timeout=60.0,
                                                    search_settings={"beam": 1})))
    assert narrow["error"] is None and narrow["candidates"] != rec["candidates"]


def test_a_crashing_run_is_recorded_not_raised(tmp_path: Path) -> None:
    task = build_tasks("miniscan", 0)[0]
    system = resolve_systems(["meta"], checkpoint=fake_checkpoint(tmp_path / "bad"))[0]
    rec = run_job(make_job(task, system, Budgets(budget=10, timeout=1.0)))
    assert rec["error"] and rec["accuracy"] == 0.0 and not rec["solved"]
