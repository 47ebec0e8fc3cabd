"""Aggregates of run records: means with 95% intervals, solved counts, speed, shots, the OOD gap.

Accuracy of a suite under a seed is the mean of its tasks' query accuracies (each task weighs
the same); its interval is Student's t over the seeds, and a percentile bootstrap over the
tasks is given beside it (useful with one seed). A crashed run scores zero and is counted.
"""

from __future__ import annotations

import math
import random
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

Record = dict[str, Any]

# two-sided 95% quantiles of Student's t, df = 1..30 (standard tables)
T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042)
Z975 = 1.959964


@dataclass(frozen=True)
class Interval:
    """A mean over ``n`` values and a 95% interval (None when it cannot be estimated)."""

    mean: float | None
    low: float | None
    high: float | None
    n: int


def t_quantile(df: int) -> float:
    """The 97.5% quantile of Student's t with ``df`` degrees of freedom (ValueError if < 1)."""
    if df < 1:
        raise ValueError("degrees of freedom must be at least 1")
    if df <= len(T975):
        return T975[df - 1]
    z = Z975  # Cornish-Fisher expansion: error below 1e-4 beyond the table
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def t_interval(values: Sequence[float]) -> Interval:
    """Mean and t interval; with one value the interval is None, with none everything is."""
    n = len(values)
    if n == 0:
        return Interval(None, None, None, 0)
    mean = statistics.fmean(values)
    if n == 1:
        return Interval(mean, None, None, 1)
    half = t_quantile(n - 1) * statistics.stdev(values) / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n)


def bootstrap_interval(values: Sequence[float], reps: int = 2000, seed: int = 0) -> Interval:
    """Mean and percentile-bootstrap interval (seeded, so the same values give the same answer)."""
    n = len(values)
    if n == 0:
        return Interval(None, None, None, 0)
    rng = random.Random(seed)
    means = sorted(statistics.fmean(rng.choices(values, k=n)) for _ in range(reps))
    low, high = means[int(0.025 * reps)], means[min(reps - 1, int(0.975 * reps))]
    return Interval(statistics.fmean(values), low, high, n)


def _mean(values: Iterable[float | None]) -> float | None:
    """The mean of the values that are not None (None if there are none)."""
    kept = [v for v in values if v is not None]
    return statistics.fmean(kept) if kept else None


def _median(values: Iterable[float | None]) -> float | None:
    """The median of the values that are not None (None if there are none)."""
    kept = [v for v in values if v is not None]
    return statistics.median(kept) if kept else None


def per_seed(records: Sequence[Record], key: str = "accuracy") -> list[float]:
    """The mean of ``key`` over each seed's records, seeds in order (None values skipped)."""
    by_seed: dict[int, list[float]] = defaultdict(list)
    for r in records:
        if r[key] is not None:
            by_seed[r["seed"]].append(float(r[key]))
    return [statistics.fmean(v) for _, v in sorted(by_seed.items())]


def _ratio(records: Sequence[Record], hits: str, total: str) -> float | None:
    """Per task hits/total, averaged over the tasks that have any."""
    return _mean(r[hits] / r[total] for r in records if r[total])


def shot_curve(records: Sequence[Record], shots: Sequence[int]) -> dict[str, Interval]:
    """Accuracy against demonstrations kept, for each k some task was cut to.

    A task with at most k examples counts its full run at k (it shows them all).
    """
    full = {r["task"]: r for r in records if r["shots"] is None}
    cut = {(r["task"], r["shots"]): r for r in records if r["shots"] is not None}
    curve: dict[str, Interval] = {}
    for k in shots:
        if not any(key[1] == k for key in cut):
            continue
        rows = [cut.get((t, k), f) for t, f in full.items() if (t, k) in cut or f["examples"] <= k]
        curve[str(k)] = t_interval(per_seed(rows))
    curve["all"] = t_interval(per_seed(list(full.values())))
    return curve


def summarize(records: Sequence[Record], shots: Sequence[int]) -> dict[str, Any]:
    """The aggregates of one suite under one system."""
    full = [r for r in records if r["shots"] is None]
    accs = [r["accuracy"] for r in full if r["accuracy"] is not None]
    done = [r for r in full if r["consistent"]]
    id_acc = _ratio(full, "id_correct", "id_queries")
    ood_acc = _ratio(full, "ood_correct", "ood_queries")
    return {
        "tasks": len(full), "runs": len(records),
        "examples": _median(r["examples"] for r in full),
        "errors": sum(r["error"] is not None for r in records),
        "accuracy": asdict(t_interval(per_seed(full))),
        "accuracy_bootstrap": asdict(bootstrap_interval(accs)),
        "solved": sum(bool(r["solved"]) for r in full),
        "solved_rate": _mean(float(bool(r["solved"])) for r in full),
        "consistent_rate": _mean(float(bool(r["consistent"])) for r in full),
        "candidates_to_consistent": {"mean": _mean(_first(r, "candidates") for r in done),
                                     "median": _median(_first(r, "candidates") for r in done)},
        "seconds_to_consistent": {"mean": _mean(_first(r, "seconds") for r in done),
                                  "median": _median(_first(r, "seconds") for r in done)},
        "id_accuracy": id_acc, "ood_accuracy": ood_acc,
        "ood_gap": None if id_acc is None or ood_acc is None else id_acc - ood_acc,
        "shots": {k: asdict(v) for k, v in shot_curve(records, shots).items()},
    }


def aggregate(records: Sequence[Record], shots: Sequence[int]) -> list[dict[str, Any]]:
    """One summary per (suite, system), in the order the pairs first appear."""
    groups: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for r in records:
        groups[(r["suite"], r["system"])].append(r)
    return [{"suite": s, "system": m, **summarize(rs, shots)} for (s, m), rs in groups.items()]


def _first(record: Record, what: str) -> Any:
    """Candidates or seconds up to the run's first consistent program (whole run if unknown)."""
    first = record.get(f"first_{what}")
    return record[what] if first is None else first


def solved_times(records: Sequence[Record]) -> tuple[list[float], int]:
    """Seconds to the first consistent program of each solved full-support run, sorted, and
    the number of full-support runs."""
    full = [r for r in records if r["shots"] is None]
    return sorted(float(_first(r, "seconds")) for r in full if r["solved"]), len(full)
