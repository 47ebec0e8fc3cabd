"""The systems compared and one run of a system on a task (the unit of work of a worker).

- ``meta``: the search guided by the meta-trained policy (the shipped checkpoint unless one is
  given), in turns with the unguided search (``synth.lanes``): it proposes and scores rules,
  and its log-probability ranks the consistent programs of both;
- ``nometa``: the same search guided by the policy trained with fixed symbols
  (``--nometa-checkpoint``);
- ``enum``: the search unguided, no model;
- ``nye``: Nye et al. 2020's method: whole programs sampled from a model trained to write
  them, then checked, no search (``--nye-checkpoint``);
- ``greedy``: the policy's most likely rule at every step, no search.

Every system gets the same budgets. ``run_job`` takes and returns plain data, so jobs travel
to worker processes without pickling any object of this package.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from metarlm.eval.suites import EvalError, Task
from metarlm.neural.checkpoint_info import (
    SHIPPED,
    SHIPPED_NOMETA,
    SHIPPED_NYE,
    checkpoint_sha256,
)

SYSTEM_NAMES = ("meta", "nometa", "enum", "nye", "greedy")
MODEL_SYSTEMS = frozenset({"meta", "nometa", "nye", "greedy"})
TORCH_SYSTEMS = frozenset({"nye"})  # the policy runs in numpy; the whole-program sampler in torch
MISTAKES_KEPT = 3  # wrong answers recorded per run, to read what went wrong


@dataclass(frozen=True)
class Budgets:
    """The search budgets every system gets."""

    budget: int = 200_000  # candidate programs checked
    timeout: float = 20.0  # seconds of search
    samples: int = 512  # model proposals drawn at most
    batch: int = 64  # model proposals per batch
    search_settings: dict[str, int] = field(default_factory=dict, hash=False)  # SearchSettings set


@dataclass(frozen=True)
class System:
    """A system to run, its search switches, and why it cannot run when it cannot."""

    name: str
    switches: dict[str, Any] = field(hash=False)
    checkpoint: str | None = None
    sha256: str | None = None
    reason: str = ""  # empty when available

    @property
    def available(self) -> bool:
        """Whether the system can run here."""
        return not self.reason


def _model_system(name: str, switches: dict[str, Any], checkpoint: str | Path | None,
                  missing: str) -> System:
    """A model-based system, unavailable when its checkpoint is absent."""
    if checkpoint is None:
        return System(name, switches, reason=missing)
    path = Path(checkpoint)
    # isfile: False, not OSError, for a name too long
    if not (os.path.isfile(path / "config.json") and os.path.isfile(path / "model.safetensors")):
        return System(name, switches, str(path), reason=f"no checkpoint at {path}")
    return System(name, switches, str(path.resolve()), checkpoint_sha256(path))


def resolve_systems(names: Sequence[str], checkpoint: str | Path | None = None,
                    nometa_checkpoint: str | Path | None = None,
                    nye_checkpoint: str | Path | None = None) -> list[System]:
    """The named systems with their checkpoints (EvalError for an unknown name)."""
    meta_ck = checkpoint if checkpoint is not None else SHIPPED
    out = []
    for name in dict.fromkeys(names):
        if name == "enum":
            out.append(System(name, {"use_model": False}))
        elif name == "meta":
            out.append(_model_system(name, {"use_model": True}, meta_ck, "no checkpoint"))
        elif name == "greedy":
            out.append(_model_system(name, {"use_model": True, "greedy": True}, meta_ck,
                                     "no checkpoint"))
        elif name == "nometa":
            nometa_ck = nometa_checkpoint if nometa_checkpoint is not None else SHIPPED_NOMETA
            out.append(_model_system(name, {"use_model": True}, nometa_ck,
                                     "no nometa checkpoint"))
        elif name == "nye":
            nye_ck = nye_checkpoint if nye_checkpoint is not None else SHIPPED_NYE
            system = _model_system(name, {"use_model": False, "sampler": True,
                                          "use_enumeration": False}, nye_ck, "no checkpoint")
            # the sampler's checkpoint travels in its own switch (``checkpoint`` is the policy)
            out.append(replace(system, switches={**system.switches,
                                                 "sampler_checkpoint": system.checkpoint}))
        else:
            raise EvalError(f"unknown system {name!r}: use one of {', '.join(SYSTEM_NAMES)}")
    return out


def make_job(task: Task, system: System, budgets: Budgets,
             parallel_lanes: bool = True) -> dict[str, Any]:
    """The plain-data description of one run (``parallel_lanes``: a guided run may put its
    guided lane in a second process; off when workers already use the cores)."""
    config = {**asdict(budgets), **system.switches, "seed": task.seed,
              "checkpoint": system.checkpoint, "parallel_lanes": parallel_lanes}
    return {"task": asdict(task), "system": system.name, "config": config}


# Read by numpy's BLAS and Numba when they load, so a worker's environment has them from its
# start (``eval.runner`` spawns workers with them set) and ``init_worker`` sets them again.
ONE_THREAD = {var: "1" for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                    "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")}


def init_worker(uses_torch: bool) -> None:
    """Run in each worker process: one thread each, so workers do not fight over cores."""
    os.environ.update(ONE_THREAD)
    if not uses_torch:
        return  # importing torch costs seconds; enumeration never needs it
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return
    torch.set_num_threads(1)


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Synthesize for one task with one system and score the answers (a JSON-safe record)."""
    from metarlm.lang.demo import parse_demo
    from metarlm.synth.search import synthesize
    from metarlm.types import SearchConfig

    task = job["task"]
    _warm(job["config"])
    started = time.perf_counter()
    base = {"suite": task["suite"], "task": task["name"], "seed": task["seed"],
            "system": job["system"], "shots": task["shots"],
            "examples": len(task["demo"]["examples"])}
    try:
        demo = parse_demo(task["demo"], source=task["name"])
        result = synthesize(demo, SearchConfig(**job["config"]))
    except Exception as err:  # one broken run must not end a long evaluation
        return {**base, **score([], task), "error": f"{type(err).__name__}: {err}",
                "wall": time.perf_counter() - started}
    correct = [bool(q.correct) for q in result.queries]
    return {**base, **score(correct, task), "consistent": result.consistent,
            "candidates": result.candidates, "seconds": result.seconds,
            "z3_calls": result.costs.get("z3_calls"),
            "model_calls": result.costs.get("model_calls"),
            "stopped": result.stopped,
            "first_candidates": result.first_candidates, "first_seconds": result.first_seconds,
            "program": None if result.learned is None else str(result.learned),
            "mistakes": _mistakes(result.queries), "error": None,
            "wall": time.perf_counter() - started}


def _warm(config: dict[str, Any]) -> None:
    """Load a run's models before it is timed, as the kernels are: a worker loads each once
    (cached), and the evaluation compares searches, not library imports. What fails here
    fails again inside the run, where it is recorded."""
    try:
        if config.get("use_model", True):
            from metarlm.neural.policy import Policy

            Policy.load(config.get("checkpoint") or SHIPPED)
        if config.get("sampler"):
            from metarlm.neural.propose import ModelProposer

            ModelProposer.load(config.get("sampler_checkpoint"))
    except Exception:  # noqa: BLE001, S110 (recorded by the timed run itself)
        pass


def score(correct: Sequence[bool], task: dict[str, Any]) -> dict[str, Any]:
    """Accuracy on the scored queries, in- and out-of-distribution counts, and solved.

    An empty ``correct`` (a run that crashed) scores every query wrong.
    """
    n = len(task["demo"]["queries"])
    marks = list(correct) if correct else [False] * n
    scored = n - task["controls"]
    ood = task["ood"]
    hits = sum(marks[:scored])
    id_marks = [m for m, o in zip(marks, ood) if not o]
    ood_marks = [m for m, o in zip(marks, ood) if o]
    return {"queries": scored, "correct": hits,
            "accuracy": hits / scored if scored else None,
            "solved": scored > 0 and hits == scored,
            "id_queries": len(id_marks), "id_correct": sum(id_marks),
            "ood_queries": len(ood_marks), "ood_correct": sum(ood_marks),
            "consistent": False, "candidates": None, "seconds": None, "program": None,
            "first_candidates": None, "first_seconds": None,
            "mistakes": []}


def _mistakes(answers: Sequence[Any]) -> list[dict[str, str]]:
    """The first few wrong answers, as text."""
    from metarlm.lang.demo import format_output

    wrong = [q for q in answers if q.correct is False][:MISTAKES_KEPT]
    return [{"input": " ".join(q.input), "expected": format_output(q.expected),
             "output": q.failure or format_output(q.output)} for q in wrong]
