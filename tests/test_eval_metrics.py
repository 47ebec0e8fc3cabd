"""Aggregation math: t quantiles and intervals, bootstrap, per-seed means, summaries."""

from __future__ import annotations

import math
from typing import Any

import pytest

from metarlm.eval.metrics import (
    aggregate,
    bootstrap_interval,
    per_seed,
    shot_curve,
    solved_times,
    summarize,
    t_interval,
    t_quantile,
)


def record(task: str, seed: int, accuracy: float | None, shots: int | None = None,
           examples: int = 10, system: str = "enum", **extra: Any) -> dict[str, Any]:
    base = {"suite": "s", "task": task, "seed": seed, "system": system, "shots": shots,
            "examples": examples, "accuracy": accuracy, "solved": accuracy == 1.0,
            "consistent": bool(accuracy), "candidates": 10, "seconds": 1.0, "error": None,
            "id_queries": 0, "id_correct": 0, "ood_queries": 0, "ood_correct": 0}
    return {**base, **extra}


def test_t_quantiles_match_tables_and_approach_normal() -> None:
    assert t_quantile(1) == pytest.approx(12.706, abs=1e-3)
    assert t_quantile(2) == pytest.approx(4.303, abs=1e-3)
    assert t_quantile(40) == pytest.approx(2.021, abs=2e-3)
    assert t_quantile(120) == pytest.approx(1.980, abs=2e-3)
    assert t_quantile(10**6) == pytest.approx(1.95996, abs=1e-4)
    values = [t_quantile(df) for df in range(1, 200)]
    assert all(a > b for a, b in zip(values, values[1:]))
    with pytest.raises(ValueError):
        t_quantile(0)


def test_t_interval_by_hand() -> None:
    iv = t_interval([1.0, 2.0, 3.0])  # mean 2, sd 1
    half = 4.303 / math.sqrt(3)
    assert iv.mean == 2.0 and iv.n == 3
    assert iv.low == pytest.approx(2 - half, abs=1e-3)
    assert iv.high == pytest.approx(2 + half, abs=1e-3)
    one = t_interval([0.5])
    assert (one.mean, one.low, one.high, one.n) == (0.5, None, None, 1)
    assert t_interval([]).mean is None
    flat = t_interval([0.25] * 4)
    assert flat.low == flat.high == 0.25


def test_bootstrap_is_seeded_and_brackets_the_mean() -> None:
    values = [0.0, 0.1, 0.5, 0.9, 1.0, 0.3]
    a, b = bootstrap_interval(values, seed=3), bootstrap_interval(values, seed=3)
    assert a == b
    assert a.low is not None and a.high is not None
    assert min(values) <= a.low < a.mean < a.high <= max(values)
    flat = bootstrap_interval([1.0, 1.0])
    assert flat.low == flat.high == 1.0
    assert bootstrap_interval([]).n == 0


def test_per_seed_weighs_tasks_equally() -> None:
    rows = [record("a", 0, 1.0), record("b", 0, 0.0), record("c", 1, 0.5), record("d", 1, None)]
    assert per_seed(rows) == [0.5, 0.5]


def test_summary_counts_gap_and_speed() -> None:
    rows = [
        record("a", 0, 1.0, id_queries=4, id_correct=4, ood_queries=4, ood_correct=2,
               candidates=10, seconds=2.0),
        record("b", 0, 0.0, consistent=False, id_queries=2, id_correct=1),
        record("c", 1, 0.5, ood_queries=2, ood_correct=0, candidates=30, seconds=4.0),
        record("c", 1, 0.0, shots=1),
    ]
    s = summarize(rows, (1, 2))
    assert s["tasks"] == 3 and s["runs"] == 4 and s["solved"] == 1
    assert s["accuracy"]["mean"] == pytest.approx(0.5)  # seeds: mean(1, 0) and 0.5
    assert s["consistent_rate"] == pytest.approx(2 / 3)
    assert s["candidates_to_consistent"]["median"] == 20
    assert s["seconds_to_consistent"]["mean"] == 3.0
    assert s["id_accuracy"] == pytest.approx(0.75)  # tasks a (1.0) and b (0.5)
    assert s["ood_accuracy"] == pytest.approx(0.25)  # tasks a (0.5) and c (0.0)
    assert s["ood_gap"] == pytest.approx(0.5)


def test_shot_curve_uses_full_runs_of_small_tasks() -> None:
    rows = [record("big", 0, 1.0, examples=20), record("big", 0, 0.2, shots=4, examples=4),
            record("small", 0, 0.6, examples=3)]
    curve = shot_curve(rows, (1, 4, 8))
    assert set(curve) == {"4", "all"}  # no task was cut to 1 or 8
    assert curve["4"].mean == pytest.approx(0.4)  # big cut to 4, small shows all its 3
    assert curve["all"].mean == pytest.approx(0.8)


def test_aggregate_groups_and_solved_times() -> None:
    rows = [record("a", 0, 1.0, seconds=3.0), record("b", 0, 1.0, seconds=1.0),
            record("c", 0, 0.0), record("a", 0, 1.0, system="meta")]
    groups = aggregate(rows, (1,))
    assert [(g["suite"], g["system"], g["tasks"]) for g in groups] == [("s", "enum", 3),
                                                                       ("s", "meta", 1)]
    assert solved_times(rows[:3]) == ([1.0, 3.0], 3)
