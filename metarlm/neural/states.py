"""Training states for the decomposition policy: search states labelled by the true program.

The policy's job is one rule at a time. A *state* is the rules in force (an episode's
background plus some of its true rules, or, on-policy, the rules a search held when it visited
the state); a *sub-problem* is a failing example or a span cut from one, with the output it
must give. The label comes from the true program's derivation of a failing example: the rule
at its top if the state lacks it; else, going down the derivation breadth first, the topmost
span whose rule the state lacks, which is a cut the search can make, with the value the true
program gives it.

Each labelled state becomes an ``Episode`` the usual training loop takes: the support is the
sub-problem first, then a few other failing examples; the background is the rules in force
that can touch those inputs; the target is the one rule. ``policy_episodes`` turns a stream of
sampled episodes into such states; ``search_states`` adds those that the search core visits
when it runs on a sampled episode (on-policy, as CrossBeam trains on its own search states).
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace

from metarlm.lang.demo import Example
from metarlm.lang.dsl import Program, Rule, Word
from metarlm.lang.interp import Ok, derive, evaluate
from metarlm.neural.sample import Episode

OTHERS = 2  # failing examples shown after the sub-problem
SEARCH_BUDGET = 300  # candidates a search on a sampled episode may check (on-policy states)
SEARCH_STATES = 8  # states it may grow: a bound that does not depend on the machine's speed
SEARCH_SECONDS = 10.0  # a safety net only (seeded training stays deterministic below it)


def label(program: Program, in_force: frozenset[Rule],
          example: Example) -> tuple[Example, Rule, int] | None:
    """The sub-problem, the rule and the depth (1: the example itself) that the true
    ``program`` says come next for ``example`` when ``in_force`` is what the search holds."""
    _, tree = derive(program, example.input)
    if tree is None:
        return None
    queue = deque([(tree, 1)])
    while queue:
        step, depth = queue.popleft()
        rule = program.rules[step.rule]
        if rule not in in_force:
            words = example.input[step.start:step.end]
            return Example(tuple(words), step.value), rule, depth  # type: ignore[arg-type]
        queue.extend((child, depth + 1) for child in step.children)
    return None


def relevant(rules: Iterable[Rule], inputs: Iterable[Sequence[str]]) -> tuple[Rule, ...]:
    """The rules that can touch these inputs: every word of their left side occurs in them."""
    words = {w for ws in inputs for w in ws}
    return tuple(r for r in rules
                 if all(it.text in words for it in r.lhs if isinstance(it, Word)))


def state_episode(source: Episode, in_force: Program, problem: Example, rule: Rule,
                  others: Sequence[Example]) -> Episode:
    """The policy's training item for one labelled state."""
    support = (problem, *[e for e in others if e.input != problem.input][:OTHERS])
    shown = relevant(in_force.rules, [e.input for e in support])
    background = Program(shown, source.algebra) if shown else None
    target = Program((rule,), source.algebra)
    return replace(source, program=in_force + target, target=target, background=background,
                   support=support, query=(), kind="oneshot")


def failing(program: Program, examples: Sequence[Example]) -> list[Example]:
    """The examples the program does not reproduce, shortest first."""
    bad = [e for e in examples
           if not (isinstance(r := evaluate(program, e.input, 20_000, 1000), Ok)
                   and r.value == e.output)]
    return sorted(bad, key=lambda e: len(e.input))


def labelled(source: Episode, learned: Sequence[Rule],
             rng: random.Random) -> Episode | None:
    """A training item for the state that holds the background and ``learned``."""
    bg = source.background.rules if source.background is not None else ()
    in_force = Program(bg + tuple(learned), source.algebra)
    bad = failing(in_force, source.support)
    if not bad:
        return None
    pick = rng.randrange(min(3, len(bad)))  # a short one, as the search reads them
    found = label(source.program, frozenset(in_force.rules), bad[pick])
    if found is None:
        return None
    problem, rule, _ = found
    return state_episode(source, in_force, problem, rule, bad[:pick] + bad[pick + 1:])


def subset_states(source: Episode, rng: random.Random, count: int) -> Iterator[Episode]:
    """States of the background plus a random subset of the true rules (kept in order)."""
    rules = source.target.rules
    for _ in range(count):
        keep = rng.random()
        learned = [r for r in rules if rng.random() < keep]
        item = labelled(source, learned, rng)
        if item is not None:
            yield item


def search_states(source: Episode, rng: random.Random, count: int) -> Iterator[Episode]:
    """States the search core visits on the episode (a short unguided search), labelled."""
    from metarlm.lang.domain import load_domain
    from metarlm.synth.core import Search
    from metarlm.synth.plugins import load_plugins
    from metarlm.types import Budget

    domain = load_domain(source.domain)
    visited: list[tuple[Rule, ...]] = []
    budget = Budget(max_candidates=SEARCH_BUDGET, seconds=SEARCH_SECONDS)

    def seen(learned: tuple[Rule, ...]) -> None:
        visited.append(learned)
        if len(visited) >= SEARCH_STATES:
            budget.max_candidates = 0  # the search stops at its next check

    search = Search(source.support, source.background, source.algebra, budget,
                    kinds=domain.var_kinds, plugins=load_plugins(domain.biases),
                    max_rules=domain.settings["max_rules"], observer=seen)
    for _ in search.run():
        break
    rng.shuffle(visited)
    made = 0
    for learned in visited:
        item = labelled(source, learned, rng)
        if item is not None:
            made += 1
            yield item
            if made == count:
                return


def policy_episodes(stream: Iterable[Episode], seed: int, per_episode: int = 4,
                    on_policy: float = 0.0) -> Iterator[Episode]:
    """Labelled states from a stream of sampled episodes: ``per_episode`` from rule subsets
    each, and with probability ``on_policy`` as many from the search's own states."""
    rng = random.Random(seed)
    for source in stream:
        yield from subset_states(source, rng, per_episode)
        if on_policy and rng.random() < on_policy:
            yield from search_states(source, rng, per_episode)
