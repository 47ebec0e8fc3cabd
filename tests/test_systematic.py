"""The systematic generator and lane: every rule by size, and a search complete in the limit."""

from __future__ import annotations

import itertools
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metarlm.lang.demo import Example
from metarlm.lang.dsl import Call, Program, Rule, Token, Var, Word
from metarlm.lang.interp import Ok, evaluate, reproduces
from metarlm.synth.base import Context
from metarlm.synth.core import EXHAUSTED, Search
from metarlm.synth.generators.systematic import Systematic, Vocabulary
from metarlm.types import Budget, SearchSettings, size

WORDS, TOKENS = ("a", "b"), ("A", "B")
U1, U2, X1 = Var("u", 1), Var("u", 2), Var("x", 1)


def _lhs_items(n: int) -> list[tuple]:
    """Left-hand sides of n items over the test words and u/x variables (numbered)."""
    out = []
    for items in itertools.product(WORDS + ("u", "x"), repeat=n):
        counts = {"u": 0, "x": 0}
        lhs = []
        for it in items:
            if it in counts:
                counts[it] += 1
                lhs.append(Var(it, counts[it]))
            else:
                lhs.append(Word(it))
        out.append(tuple(lhs))
    return out


def brute_rules(max_lhs: int = 2, max_rhs: int = 2) -> list[Rule]:
    """Every rule of the small grammar (tokens and calls on the right), independently of the
    code under test."""
    rules = []
    for n in range(1, max_lhs + 1):
        for lhs in _lhs_items(n):
            pieces = [Token(t) for t in TOKENS] + [Call(v) for v in lhs if isinstance(v, Var)]
            for m in range(max_rhs + 1):
                for rhs in itertools.product(pieces, repeat=m):
                    rules.append(Rule(lhs, tuple(rhs)))
    return rules


def small_rules() -> list[Rule]:
    """The rules of size at most 3 (one plus their items)."""
    return [r for r in brute_rules() if 1 + len(r.lhs) + len(r.rhs) <= 3]


def smallest_consistent(examples: list[Example], most_rules: int) -> int | None:
    """The size of the smallest program of at most ``most_rules`` rules of size at most 3
    that reproduces the examples, by brute force over every rule list (None if none)."""
    rules = small_rules()
    best = None
    for n in range(1, most_rules + 1):
        for combo in itertools.product(rules, repeat=n):
            program = Program(combo, "seq")
            s = size(program)
            if best is not None and s >= best:
                continue
            if reproduces(program, examples, fuel=2000):
                best = s
    return best


@st.composite
def small_tasks(draw: st.DrawFn, most_rules: int) -> tuple[Program, list[Example]]:
    """A random target program of at most ``most_rules`` rules and examples it gives."""
    rules = draw(st.lists(st.sampled_from(small_rules()), min_size=1, max_size=most_rules))
    target = Program(tuple(rules), "seq")
    inputs = {tuple(draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=3)))
              for _ in range(8)}
    examples = []
    for words in sorted(inputs):
        result = evaluate(target, words, fuel=2000)
        if isinstance(result, Ok) and len(result.value) <= 6:  # type: ignore[arg-type]
            examples.append(Example(words, result.value))  # type: ignore[arg-type]
    return target, examples


def _lane_only(examples: list[Example], seconds: float = 60) -> Search:
    """A search with no heuristic generator: the systematic lane alone (brute force by size)."""
    return Search(examples, None, "seq", Budget(seconds=seconds), kinds=frozenset("ux"),
                  generators=[], max_rules=3)


SLOW = settings(max_examples=12, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SLOW
@given(small_tasks(2))
def test_the_lane_finds_the_smallest_program_brute_force_finds(
        task: tuple[Program, list[Example]]) -> None:
    _, examples = task
    if not examples:
        return
    expected = smallest_consistent(examples, 2)
    assert expected is not None  # the target is one
    found = next(iter(_lane_only(examples).run()), None)
    assert found is not None and reproduces(found, examples)
    assert size(found) <= expected


@SLOW
@given(small_tasks(3))
def test_the_search_finds_a_program_whenever_one_exists(
        task: tuple[Program, list[Example]]) -> None:
    target, examples = task
    if not examples:
        return
    for search in (_lane_only(examples),
                   Search(examples, None, "seq", Budget(seconds=60), kinds=frozenset("ux"),
                          max_rules=3)):
        found = next(iter(search.run()), None)
        assert found is not None, search.stopped
        assert reproduces(found, examples)
    lane_first = next(iter(_lane_only(examples).run()))
    assert size(lane_first) <= size(target)


def test_rules_by_size_are_made_of_the_demonstrations_symbols() -> None:
    examples = [Example(("a", "b"), ("A", "B")), Example(("b",), ("B",))]
    ctx = Context(tuple(examples), Program((), "seq"), frozenset("ux"), SearchSettings(),
                  Budget())
    vocab = Vocabulary(ctx)
    rules = list(vocab.rules_of_size(3))
    assert Rule((Word("a"),), (Token("A"),)) in rules
    assert Rule((U1,), (Call(U1),)) in rules
    assert Rule((Word("a"), Word("b")), ()) in rules
    assert all(size(Program((r,))) == 3 for r in rules)
    assert Rule((Word("b"), Word("a")), ()) not in rules  # "b a" is no span of any input
    assert len(rules) == len(set(rules))


def test_the_systematic_generator_resumes_where_it_left_off() -> None:
    examples = [Example(("a", "b"), ("A", "B"))]
    search = Search(examples, None, "seq", Budget(seconds=10), kinds=frozenset("ux"),
                    settings=SearchSettings(systematic_rules=5))
    state = search._check([()])[0]
    gen = Systematic()
    problems = search.agenda(state)
    first = [m.rules for m in gen.propose(state, problems, search.ctx)]
    again = [m.rules for m in gen.propose(state, problems, search.ctx)]
    assert len(first) == len(again) == 5 and not set(first) & set(again)
    sizes = [size(Program(r)) for r in first + again]
    assert sizes == sorted(sizes)  # by size


def test_an_exhausted_space_is_said_so() -> None:
    # no single rule with a one-word left side gives "a" A and "a a" B
    examples = [Example(("a",), ("A",)), Example(("a", "a"), ("B", "B", "B"))]
    search = Search(examples, None, "seq", Budget(seconds=60), kinds=frozenset("u"),
                    max_rules=1, generators=[])
    assert list(search.run()) == []
    assert search.stopped == EXHAUSTED.format(1)


def test_a_search_that_cannot_finish_runs_to_its_time_limit() -> None:
    rng = random.Random(0)
    words = ("dax", "wif", "lug", "zup", "fep", "kiki")
    examples = [Example(tuple(rng.choice(words) for _ in range(n)),
                        tuple(rng.choice(TOKENS) for _ in range(n + 1)))
                for n in (3, 4, 5, 6)]
    # the same input twice with different outputs: no program of any size is consistent,
    # while the space stays far too large to exhaust (random outputs alone are not enough:
    # a fast enough machine finds a long program for them within the limit)
    examples.append(Example(examples[0].input, examples[0].output[1:]))
    budget = Budget(seconds=2)
    search = Search(examples, None, "seq", budget, kinds=frozenset("ux"))
    assert list(search.run()) == []
    assert search.stopped == "time limit" and budget.elapsed() >= 2
