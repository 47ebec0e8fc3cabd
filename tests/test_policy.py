"""The policy: scoring and proposing one rule, and the search it guides (tiny random models)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from conftest import TINY, tiny_checkpoint

from metarlm.errors import MetarlmError
from metarlm.lang.demo import Example, load_demo
from metarlm.lang.domain import load_domain, parse_program
from metarlm.lang.dsl import Program
from metarlm.lang.interp import reproduces
from metarlm.neural.model import build_model, save_checkpoint
from metarlm.neural.policy import Policy, Problem
from metarlm.synth.generators.policy import PolicyGuide
from metarlm.synth.search import synthesize
from metarlm.types import SearchConfig


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A policy checkpoint with random weights (what it says is arbitrary, its shape is not)."""
    return tiny_checkpoint(tmp_path_factory.mktemp("policy"), seed=3)


def _problem() -> Problem:
    examples = (Example(("dax", "fep"), ("RED", "RED", "RED")), Example(("lug",), ("BLUE",)))
    return Problem(examples, parse_program("dax -> RED", "miniscan"))


def test_scores_are_log_probabilities_in_one_batch(tiny: Path) -> None:
    policy = Policy.load(tiny)
    rules = parse_program("x1 fep -> [x1] [x1] [x1]\nlug -> BLUE\nu1 u2 -> [u1]",
                          "miniscan").rules
    scores = policy.score(_problem(), rules)
    assert len(scores) == 3 and all(s < 0 and math.isfinite(s) for s in scores)
    assert policy.score(_problem(), rules) == scores  # deterministic
    alone = policy.score(_problem(), rules[1:2])
    assert math.isclose(alone[0], scores[1], rel_tol=1e-4)  # batching changes nothing


def test_scoring_chunks_cover_every_rule_in_trees_of_bounded_size(
        monkeypatch: pytest.MonkeyPatch, tiny: Path) -> None:
    from metarlm.neural import policy as policy_module

    targets = [[1, 5, 6, 2], [1, 5, 6, 7, 2], [1, 5, 8, 2], [1, 9, 2], [1, 9, 3, 4, 4, 4, 2]]
    for limit in (1, 3, 4, 6, 100):
        chunks = policy_module._tree_chunks(targets, limit)
        assert [k for _, c, _ in chunks for k in c] == list(range(len(targets)))
        for given, chunk, paths in chunks:
            tree = policy_module._PrefixTree()
            assert paths == [tree.add(targets[k][:-1]) for k in chunk]
            assert (given.ids, given.parents) == (tree.ids, tree.parents)
            assert len(chunk) == 1 or len(tree.ids) <= limit
    assert len(policy_module._tree_chunks(targets, 100)) == 1
    policy = Policy.load(tiny)  # scores do not depend on how the rules are chunked
    rules = parse_program("x1 fep -> [x1] [x1] [x1]\nx1 fep -> [x1]\nlug -> BLUE\n"
                          "u1 u2 -> [u1]", "miniscan").rules
    whole = policy.score(_problem(), rules)
    monkeypatch.setattr(policy_module, "TREE_NODES", 2)
    assert policy.score(_problem(), rules) == pytest.approx(whole, rel=1e-4)


def test_proposals_are_single_rules_of_the_grammar_best_first(tiny: Path) -> None:
    policy = Policy.load(tiny)
    drawn = policy.propose(_problem(), load_domain("miniscan"), 16, seed=1)
    assert drawn and len({r for r, _ in drawn}) == len(drawn)
    logps = [lp for _, lp in drawn]
    assert logps == sorted(logps, reverse=True)
    for rule, _ in drawn:
        assert parse_program(_text(rule), "miniscan").rules == (rule,)
    assert all(math.isfinite(s) for s in policy.score(_problem(), [r for r, _ in drawn]))


def test_the_beam_and_draws_propose_the_same_kind_of_rules(tiny: Path) -> None:
    policy = Policy.load(tiny)
    beam = policy.propose(_problem(), load_domain("miniscan"), 8)
    assert beam == policy.propose(_problem(), load_domain("miniscan"), 8)  # deterministic
    drawn = policy.propose(_problem(), load_domain("miniscan"), 8, decoding="sample")
    for found in (beam, drawn):
        assert found and len({r for r, _ in found}) == len(found)
        assert [lp for _, lp in found] == sorted((lp for _, lp in found), reverse=True)
        assert not any(Program((r,)).holes() for r, _ in found)
    with pytest.raises(ValueError, match="decoding"):
        policy.propose(_problem(), load_domain("miniscan"), 8, decoding="nucleus")


def test_ranking_many_programs_scores_each_shared_step_once(
        monkeypatch: pytest.MonkeyPatch, tiny: Path) -> None:
    policy = Policy.load(tiny)
    examples = [Example(("dax",), ("RED",)), Example(("lug",), ("BLUE",)),
                Example(("dax", "fep"), ("RED", "RED", "RED")),
                Example(("lug", "fep"), ("BLUE", "BLUE", "BLUE"))]
    programs = [parse_program(text, "miniscan") for text in (
        "dax -> RED\nlug -> BLUE\nx1 fep -> [x1] [x1] [x1]",
        "dax -> RED\nlug -> BLUE\nu1 fep -> [u1] [u1] [u1]",
        "lug -> BLUE\ndax -> RED\nx1 fep -> [x1] [x1] [x1]")]
    alone = [policy.decomposition_logprob(p, None, examples) for p in programs]
    calls = []
    score = policy.score
    monkeypatch.setattr(policy, "score", lambda *a, **k: calls.append(a) or score(*a, **k))
    memo: dict = {}
    shared = [policy.decomposition_logprob(p, None, examples, memo) for p in programs]
    assert shared == alone and all(math.isfinite(v) for v in shared)
    # dax and lug once each; then the third rule in each distinct state: the first two
    # programs hold (dax, lug), the third (lug, dax), its own order
    assert len(calls) == 2 + 3


def test_a_decomposition_keeps_the_programs_rule_order(tiny: Path) -> None:
    """Rules are in force in the program's order, not in the order they are first needed:
    `u1 x1`, needed first, would read "ka blorp pa dax" before `y1 pa y2` does, and the
    program's own derivation would then find no next rule (a log-probability of -inf)."""
    policy = Policy.load(tiny)
    demo = load_demo("benchmarks/unseen/ka_plural.json")
    program = parse_program("fep -> SMALL\nka -> PL\nzib -> RED\nblorp -> CAT\ndax -> DOG\n"
                            "wug -> BIRD\ny1 pa y2 -> [y1] AND [y2]\nu1 x1 -> [x1] [u1]", "rules")
    assert math.isfinite(policy.decomposition_logprob(program, None, demo.examples))


def _text(rule) -> str:  # type: ignore[no-untyped-def]
    from metarlm.lang.dsl import print_rule

    return print_rule(rule)


def test_a_whole_program_model_is_no_policy(tmp_path: Path) -> None:
    save_checkpoint(build_model(TINY), tmp_path, {"task": "program"})
    with pytest.raises(MetarlmError, match="no policy"):
        Policy.load(tmp_path)


def test_the_guide_loads_in_the_background(tiny: Path) -> None:
    guide = PolicyGuide.loading(tiny, load_domain("miniscan"))
    assert guide.wait(60) and guide.available
    with pytest.raises(MetarlmError, match="no model checkpoint"):
        PolicyGuide.loading(tiny / "nowhere", load_domain("miniscan"))


@pytest.mark.parametrize("greedy", [False, True])
def test_a_guided_search_accepts_only_programs_that_reproduce(tiny: Path, greedy: bool) -> None:
    demo = load_demo("examples/lights/demo.json")
    result = synthesize(demo, SearchConfig(use_model=True, checkpoint=str(tiny), timeout=20,
                                           greedy=greedy))
    if result.program is not None:
        assert result.consistent and reproduces(result.program, demo.examples)
    if not greedy:  # the search itself still finds the lights program
        assert result.consistent
