"""The guided lane in a second process: the same turns, programs and counts as in one."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from metarlm.errors import MetarlmError
from metarlm.lang.demo import load_demo
from metarlm.lang.dsl import Program, Rule, Token, Word
from metarlm.synth import parallel
from metarlm.synth.lanes import Lane, in_turns
from metarlm.synth.parallel import AheadLane, RemoteLane
from metarlm.synth.search import SynthesisResult, synthesize
from metarlm.types import Budget, SearchConfig

needs_two = pytest.mark.skipif(not parallel.available(), reason="needs fork and two cores")


class _Scripted:
    """A search stand-in: each step spends the given candidates and model calls, and finds a
    one-rule program at the steps named in ``finds``."""

    def __init__(self, budget: Budget, costs: list[tuple[int, int]], finds: set[int],
                 fail_at: int | None = None) -> None:
        self.budget, self.costs, self.finds, self.fail_at = budget, costs, finds, fail_at
        self.stopped = "search space exhausted up to 1 rules"
        self.unchecked = 0
        self.ctx = type("Ctx", (), {"background": Program((), "seq")})()

    def steps(self) -> Iterator[Program | None]:
        for k, (candidates, calls) in enumerate(self.costs):
            if k == self.fail_at:
                raise ValueError(f"step {k} broke")
            self.budget.candidates += candidates
            self.budget.model_calls += calls
            yield Program((Rule((Word(f"w{k}"),), (Token("T"),)),)) if k in self.finds else None

    def origins(self, learned: tuple[Rule, ...]) -> dict[Rule, str]:
        return {r: f"scripted {r.lhs[0]}" for r in learned}


def _make(costs: list[tuple[int, int]], finds: set[int], fail_at: int | None = None):
    return lambda own: _Scripted(own, costs, finds, fail_at)  # type: ignore[return-value]


def _turns(lanes: list[Lane], budget: Budget) -> list[tuple[str, Program, dict]]:
    return [(lane.name, program, lane.origins(program.rules))
            for lane, program in in_turns(lanes, budget, model_call_cost=20)]


@needs_two
def test_replayed_turns_equal_the_turns_in_one_process() -> None:
    u = ([(10, 0)] * 12, {3, 9})
    g = ([(5, 1)] * 6, {1, 4})
    budget = Budget()
    plain = [Lane("u", _make(*u)), Lane("g", _make(*g))]
    expected = _turns(plain, budget)
    two = Budget()
    remote = RemoteLane.start("g", _make(*g), two)
    ahead = AheadLane("u", _make(*u))
    remote.meanwhile = ahead.ahead
    try:
        got = _turns([ahead, remote], two)
    finally:
        remote.close()
    assert got == expected and expected
    assert two.candidates == budget.candidates and two.model_calls == budget.model_calls
    assert [(la.candidates, la.model_calls, la.ended) for la in (ahead, remote)] == \
        [(la.candidates, la.model_calls, la.ended) for la in plain]


def _run_remote(make: Callable[[Budget], object]) -> None:
    """All the turns of one lane whose search runs in a child."""
    budget = Budget()
    remote = RemoteLane.start("g", make, budget)  # type: ignore[arg-type]
    try:
        list(in_turns([remote], budget))
    finally:
        remote.close()


@needs_two
def test_a_failure_in_the_child_is_raised_here() -> None:
    with pytest.raises(RuntimeError, match="step 2 broke"):
        _run_remote(_make([(1, 0)] * 5, set(), fail_at=2))

    def unreadable(own: Budget) -> None:
        raise MetarlmError("cannot read the checkpoint at nowhere")

    with pytest.raises(MetarlmError, match="cannot read the checkpoint"):
        _run_remote(unreadable)


def _facts(result: SynthesisResult) -> tuple:
    """What the two ways of taking turns must share: everything but the clock."""
    lanes = {n: (la["candidates"], la["unchecked"], la["model_calls"])
             for n, la in result.costs["lanes"].items()}
    return (result.program, result.candidates, result.costs["z3_calls"],
            result.costs["model_calls"], lanes, result.considered, result.origin,
            result.stopped, result.first_candidates, result.tried)


@needs_two
@pytest.mark.parametrize("path, shipped, after", [("examples/miniscan/demo.json", False, 0.0),
                                                  ("examples/lights/demo.json", True, 0.0),
                                                  ("examples/numbers/demo.json", True, 0.05),
                                                  ("examples/code/demo.json", True, 0.1)])
def test_two_processes_find_what_one_finds(path: str, shipped: bool, after: float, tiny: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    demo = load_demo(path)
    config = SearchConfig(use_model=True, checkpoint=None if shipped else str(tiny),
                          timeout=60)
    one = synthesize(demo, config, parallel_lanes=False)
    forks: list[tuple[RemoteLane, int]] = []
    fork = RemoteLane.fork.__func__  # type: ignore[attr-defined]

    def counted(cls: type, lane: Lane, budget: Budget) -> RemoteLane:
        remote = fork(cls, lane, budget)
        forks.append((remote, remote.pid))
        return remote

    monkeypatch.setattr(parallel, "SPLIT_AFTER", after)
    monkeypatch.setattr(RemoteLane, "fork", classmethod(counted))
    two = synthesize(demo, config, parallel_lanes=True)
    assert len(forks) == 1, "the search never went to two processes"
    assert one.consistent and _facts(two) == _facts(one)
    assert set(two.costs["lanes"]) == {"unguided", "guided"}
    remote, pid = forks[0]
    assert remote.pid == 0 and remote.conn is None
    with pytest.raises(ChildProcessError):  # the child was killed and reaped
        os.waitpid(pid, os.WNOHANG)


def test_short_searches_stay_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "SPLIT_AFTER", 3600.0)
    monkeypatch.setattr(RemoteLane, "fork", None)  # would fail if called
    result = synthesize(load_demo("examples/lights/demo.json"), timeout=60)
    assert result.consistent and set(result.costs["lanes"]) == {"unguided", "guided"}
