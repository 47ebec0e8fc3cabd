"""Two searches in turn over one budget: who goes next, what each spends, what is pooled."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from metarlm.lang.demo import load_demo
from metarlm.lang.dsl import Program
from metarlm.lang.interp import reproduces
from metarlm.synth.lanes import Lane, in_turns
from metarlm.synth.search import synthesize
from metarlm.types import Budget, SearchConfig


class _Scripted:
    """A search stand-in for the scheduler: each step checks the given candidates and makes
    the given model calls, and yields a program at the steps named in ``finds``."""

    def __init__(self, budget: Budget, costs: list[tuple[int, int]], finds: set[int],
                 log: list[str], name: str) -> None:
        self.budget, self.costs, self.finds, self.log, self.name = budget, costs, finds, log, name
        self.stopped = "search space exhausted up to 1 rules"
        self.unchecked = 0

    def steps(self) -> Iterator[Program | None]:
        for k, (candidates, calls) in enumerate(self.costs):
            self.budget.candidates += candidates
            self.budget.model_calls += calls
            self.log.append(f"{self.name}{k}")
            yield Program((), "seq") if k in self.finds else None


def _lane(name: str, budget: Budget, costs: list[tuple[int, int]], log: list[str],
          finds: frozenset[int] = frozenset()) -> Lane:
    return Lane(name, lambda own: _Scripted(own, costs, set(finds), log, name))  # type: ignore[arg-type, return-value]


def test_the_lane_that_has_spent_least_goes_next() -> None:
    budget, log = Budget(), []
    cheap = _lane("u", budget, [(10, 0)] * 6, log)
    dear = _lane("g", budget, [(5, 1)] * 3, log)  # 5 + 1 x 20 = 25 a step
    assert list(in_turns([cheap, dear], budget, model_call_cost=20)) == []
    # u0 (10) ties g's 0, so u goes first; g0 (25); u1, u2 (30); g1 (50); u3..u5 (60)...
    assert log == ["u0", "g0", "u1", "u2", "g1", "u3", "u4", "u5", "g2"]
    assert (cheap.spent(20), dear.spent(20)) == (60, 75)
    assert cheap.ended and not dear.ended  # the first search to end ends the turns


def test_the_turns_end_when_a_search_ends() -> None:
    budget, log = Budget(), []
    short = _lane("u", budget, [(10, 0)] * 2, log, finds=frozenset({0}))
    long = _lane("g", budget, [(10, 0)] * 9, log)
    assert [lane.name for lane, _ in in_turns([short, long], budget)] == ["u"]
    assert log == ["u0", "g0", "u1", "g1"] and short.ended and not long.ended


def test_programs_come_with_their_lane_and_a_spent_budget_ends_the_turns() -> None:
    budget, log = Budget(max_candidates=35), []
    first = _lane("u", budget, [(10, 0)] * 10, log, finds=frozenset({1}))
    second = _lane("g", budget, [(10, 0)] * 10, log, finds=frozenset({0}))
    found = [lane.name for lane, _ in in_turns([first, second], budget)]
    assert found == ["g", "u"]
    assert log == ["u0", "g0", "u1", "g1"]  # 40 candidates: the budget of 35 is spent


def test_a_lane_that_cannot_start_ends_and_the_other_goes_on() -> None:
    budget, log = Budget(), []
    unguided = _lane("u", budget, [(1, 0)] * 3, log, finds=frozenset({2}))
    no_policy = Lane("g", lambda own: None)  # the policy did not load within the time limit
    assert [lane.name for lane, _ in in_turns([unguided, no_policy], budget)] == ["u"]
    assert no_policy.ended and log == ["u0", "u1", "u2"]



def test_a_head_start_lets_the_other_lane_go_alone_first_then_both_take_turns() -> None:
    budget, log = Budget(), []
    unguided = _lane("u", budget, [(10, 0)] * 8, log)
    guided = _lane("g", budget, [(10, 0)] * 8, log)
    guided.head_start = 30
    list(in_turns([unguided, guided], budget))
    # u alone until it has spent the 30 the guided lane starts with, then turn about
    assert log[:6] == ["u0", "u1", "u2", "u3", "g0", "u4"]
    assert log[6:] == ["g1", "u5", "g2", "u6", "g3", "u7", "g4"] and unguided.ended
    assert (unguided.spent(100), guided.spent(100)) == (80, 30 + 50)

def test_a_useless_policy_costs_at_most_the_unguided_search_again(tiny: Path) -> None:
    demo = load_demo("examples/miniscan/demo.json")
    alone = synthesize(demo, use_model=False, timeout=60)
    config = SearchConfig(use_model=True, checkpoint=str(tiny), timeout=60)
    guided = synthesize(demo, config)
    assert guided.consistent and reproduces(guided.program, demo.examples)
    assert "in turns with the unguided search" in guided.tried[0]
    # The unguided lane checks what the search alone checks; the guided lane, at most as much
    # again plus one expansion's worth (a turn ends only after an expansion).
    assert alone.first_candidates is not None and guided.first_candidates is not None
    assert guided.first_candidates <= 2 * alone.first_candidates + 600
    lanes = guided.costs["lanes"]
    assert sum(lane["candidates"] for lane in lanes.values()) == guided.candidates
    assert lanes["unguided"]["model_calls"] == 0 and lanes["guided"]["model_calls"] > 0
    again = synthesize(demo, config)  # same seed, same result, whatever the load took
    counts = ("candidates", "z3_calls", "model_calls")
    assert again.program == guided.program
    assert [again.costs[k] for k in counts] == [guided.costs[k] for k in counts]
    assert {n: (la["candidates"], la["model_calls"]) for n, la in again.costs["lanes"].items()} \
        == {n: (la["candidates"], la["model_calls"]) for n, la in lanes.items()}
    solo = synthesize(demo, SearchConfig(use_model=True, checkpoint=str(tiny), timeout=60,
                                         unguided_lane=False))
    assert solo.tried[0].startswith("search (guided by the policy)")


def test_the_unguided_lane_searches_as_the_search_alone_does(tiny: Path,
                                                             tmp_path: Path) -> None:
    """A lane's own choices never read what the other lane spent (here: the systematic
    lane's share of the reserve's checks, which a shared count once skewed)."""
    from metarlm.eval.suites import build_tasks
    from metarlm.eval.tasks import SuiteOptions, truncated
    from metarlm.lang.demo import parse_demo
    from metarlm.neural.policy import Policy
    from metarlm.synth.generators.policy import PolicyGuide
    from metarlm.synth.search import searcher

    tasks = build_tasks("miniscan-random", 0, SuiteOptions(episodes=3, workdir=tmp_path))
    demo = parse_demo(truncated(tasks[2], 1).demo)  # found only after the beams are spent

    def first(lanes: list[Lane], budget: Budget) -> tuple[Program, int]:
        lane, program = next(found for found in in_turns(lanes, budget) if found[0] is lanes[0])
        return program, lane.candidates

    budget = Budget(seconds=60)
    alone = first([Lane("unguided", lambda own: searcher(demo, own))], budget)
    assert alone[1] > 1000  # the reserve and the systematic lane were reached
    budget = Budget(seconds=60)
    guide = PolicyGuide(Policy.load(tiny), demo.domain)
    paired = first([Lane("unguided", lambda own: searcher(demo, own)),
                    Lane("guided", lambda own: searcher(demo, own, guide=guide))], budget)
    assert paired == alone


def test_a_head_start_set_for_the_run_delays_the_guided_lane(tiny: Path) -> None:
    demo = load_demo("examples/miniscan/demo.json")
    config = SearchConfig(use_model=True, checkpoint=str(tiny), timeout=60)
    paired = synthesize(demo, config).costs["lanes"]
    late = synthesize(demo, replace(config, search_settings={"guided_delay": 300})).costs["lanes"]
    never = synthesize(demo, replace(config, search_settings={"guided_delay": 10**9}))
    assert paired["guided"]["model_calls"] > 0
    # the guided lane spends what is left after the 300 units it starts behind
    assert late["guided"]["candidates"] + late["guided"]["unchecked"] \
        < paired["guided"]["candidates"] + paired["guided"]["unchecked"]
    assert never.costs["lanes"]["guided"]["candidates"] == 0
    assert never.costs["lanes"]["guided"]["model_calls"] == 0
    assert never.consistent and reproduces(never.program, demo.examples)
    with pytest.raises(ValueError, match="unknown search setting 'guided_dely'"):
        synthesize(demo, replace(config, search_settings={"guided_dely": 1}))
