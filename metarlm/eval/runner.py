"""The evaluation run: plan tasks × systems, run them (in worker processes if asked), write.

Every task of every suite and seed runs under every available system, once with all its
demonstrations and once per truncation to k of them (k in ``shots``, below the task's count).
Workers are spawned processes that receive plain job dictionaries and use one thread each.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from metarlm.eval.metrics import Record, aggregate
from metarlm.eval.report import write_outputs
from metarlm.eval.suites import (
    SHOTS,
    SUITE_NAMES,
    EvalError,
    SuiteOptions,
    Task,
    build_tasks,
    shot_counts,
    truncated,
)
from metarlm.eval.systems import (
    ONE_THREAD,
    TORCH_SYSTEMS,
    Budgets,
    System,
    init_worker,
    make_job,
    resolve_systems,
    run_job,
)


@dataclass(frozen=True)
class EvalConfig:
    """What to evaluate, how much, and where the results go."""

    suites: tuple[str, ...]
    systems: tuple[str, ...]
    out: Path
    seeds: int = 1
    workers: int = 1
    budgets: Budgets = field(default_factory=Budgets)
    checkpoint: str | None = None
    nometa_checkpoint: str | None = None
    nye_checkpoint: str | None = None
    episodes: int | None = None
    quick: bool = False
    shots: tuple[int, ...] = SHOTS
    progress: bool = True
    one_process: bool = False  # guided runs keep both lanes in one process, even with one worker


def plan_tasks(cfg: EvalConfig) -> list[Task]:
    """Every task to run: each suite's tasks per seed, then their truncations."""
    unknown = [s for s in cfg.suites if s not in SUITE_NAMES]
    if unknown:
        raise EvalError(f"unknown suite {unknown[0]!r}: use one of {', '.join(SUITE_NAMES)}")
    opts = SuiteOptions(episodes=cfg.episodes, quick=cfg.quick, workdir=cfg.out / "grammars")
    tasks = []
    for suite in dict.fromkeys(cfg.suites):
        for seed in range(cfg.seeds):
            for task in build_tasks(suite, seed, opts):
                tasks.append(task)
                tasks += [truncated(task, k) for k in shot_counts(task.n_examples, cfg.shots)]
    return tasks


def machine() -> dict[str, Any]:
    """Where the numbers were measured (torch's version read without importing it)."""
    from importlib import metadata

    try:
        torch_version: str | None = metadata.version("torch")
    except metadata.PackageNotFoundError:  # pragma: no cover - torch is a dependency
        torch_version = None
    return {"platform": platform.platform(), "processor": platform.processor(),
            "cpus": os.cpu_count(), "python": sys.version.split()[0], "torch": torch_version}


def _sequential(jobs: Sequence[dict[str, Any]]) -> Iterator[Record]:
    """Run the jobs one after another in this process."""
    for job in jobs:
        yield run_job(job)


def _parallel(jobs: Sequence[dict[str, Any]], workers: int, uses_torch: bool) -> Iterator[Record]:
    """Run the jobs in spawned worker processes; records come back as they finish."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    context = multiprocessing.get_context("spawn")  # fork would copy torch's thread pools
    saved = {var: os.environ.get(var) for var in ONE_THREAD}
    os.environ.update(ONE_THREAD)  # inherited by the workers, before they import numpy
    try:
        with ProcessPoolExecutor(workers, mp_context=context, initializer=init_worker,
                                 initargs=(uses_torch,)) as pool:
            futures = [pool.submit(run_job, job) for job in jobs]
            for future in as_completed(futures):
                yield future.result()
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value


def execute(jobs: Sequence[dict[str, Any]], workers: int, progress: bool,
            uses_torch: bool = False) -> list[Record]:
    """Run the jobs, with a progress bar on stderr when asked; records in completion order."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    run = _parallel(jobs, workers, uses_torch) if workers > 1 else _sequential(jobs)
    records: list[Record] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), disable=not progress) as bar:
        handle = bar.add_task("eval", total=len(jobs))
        for record in run:
            records.append(record)
            bar.update(handle, advance=1,
                       description=f"{record['suite']} · {record['system']}")
    return records


def _order(records: list[Record], tasks: Sequence[Task], systems: Sequence[System]) -> None:
    """Sort records into plan order (suite, seed, task, shots) then system order."""
    rank = {(t.name, t.shots): k for k, t in enumerate(tasks)}
    sys_rank = {s.name: k for k, s in enumerate(systems)}
    records.sort(key=lambda r: (rank[(r["task"], r["shots"])], sys_rank[r["system"]]))


def run_eval(cfg: EvalConfig) -> dict[str, Any]:
    """Run the evaluation, write every output into ``cfg.out`` and return the results object."""
    started = time.perf_counter()
    systems = resolve_systems(cfg.systems, cfg.checkpoint, cfg.nometa_checkpoint,
                              cfg.nye_checkpoint)
    tasks = plan_tasks(cfg)
    ready = [s for s in systems if s.available]
    # one worker: a guided run's lanes may take both cores (the same result, sooner)
    apart = cfg.workers <= 1 and not cfg.one_process
    jobs = [make_job(task, system, cfg.budgets, parallel_lanes=apart)
            for task in tasks for system in ready]
    uses_torch = any(s.name in TORCH_SYSTEMS for s in ready)
    records = execute(jobs, max(1, cfg.workers), cfg.progress, uses_torch)
    _order(records, tasks, ready)
    results = {
        "config": {**{k: v for k, v in asdict(cfg).items() if k != "budgets"},
                   "out": str(cfg.out)},
        "budgets": asdict(cfg.budgets),
        "systems": [{**asdict(s), "available": s.available} for s in systems],
        "machine": machine(),
        "suites": _suite_info(tasks),
        "aggregates": aggregate(records, cfg.shots),
        "runs": records,
        "wall_seconds": time.perf_counter() - started,
    }
    write_outputs(results, cfg.out)
    return results


def _suite_info(tasks: Sequence[Task]) -> dict[str, dict[str, Any]]:
    """Per suite: what out of distribution means, and how many tasks (full support) ran."""
    info: dict[str, dict[str, Any]] = {}
    for t in tasks:
        entry = info.setdefault(t.suite, {"ood_rule": t.ood_rule, "tasks": 0})
        entry["tasks"] += t.shots is None
    return info
