"""Random programs and episodes: they parse, their outputs are the interpreter's, seeds repeat."""

from __future__ import annotations

import dataclasses
import itertools
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metarlm.lang.domain import BUILTIN, load_domain
from metarlm.lang.dsl import Copy, Program, Token, Var, Word, print_program
from metarlm.lang.interp import derive, evaluate
from metarlm.neural import numbers_lang as nl
from metarlm.neural.sample import (
    PRIORS,
    Episode,
    check_fits,
    episodes,
    oneshot_episode,
    prior_for,
    sample_episode,
    sample_program,
)
from metarlm.neural.tokens import MAX_VARS

SEEDS = st.integers(0, 2**32 - 1)
FAST = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ROOT = Path(__file__).resolve().parents[1]


def _fits(domain: str, prior: str) -> bool:
    try:
        check_fits(load_domain(domain), PRIORS[prior])
    except ValueError:
        return False
    return True


PAIRS = [(d, p) for d in BUILTIN for p in PRIORS if _fits(d, p)]


def _rule_words(program: Program) -> set[str]:
    return {it.text for rule in program.rules for it in rule.lhs if isinstance(it, Word)}


def _rule_tokens(program: Program) -> set[str]:
    return {it.text for rule in program.rules for it in rule.rhs if isinstance(it, Token)}


def _check_outputs(episode: Episode) -> None:
    """Every example's output is the reference interpreter's on the episode's program."""
    for ex in episode.support + episode.query:
        result = evaluate(episode.program, ex.input)
        assert result.ok and result.value == ex.output, (print_program(episode.program), ex)


def test_every_builtin_domain_has_its_prior_and_incompatible_pairs_are_refused() -> None:
    assert all(prior_for(name) is PRIORS[name] for name in BUILTIN)
    assert ("numbers", "numbers") in PAIRS and ("scan", "numbers") not in PAIRS
    with pytest.raises(ValueError, match="numbers"):
        sample_program("scan", PRIORS["numbers"], random.Random(0))
    with pytest.raises(ValueError, match="code"):
        sample_episode("numbers", PRIORS["code"], random.Random(0))


@pytest.mark.parametrize(("domain", "prior"), PAIRS)
@FAST
@given(seed=SEEDS)
def test_programs_round_trip_through_the_domain_grammar(domain: str, prior: str,
                                                        seed: int) -> None:
    dom = load_domain(domain)
    program = sample_program(dom, PRIORS[prior], random.Random(seed))
    assert program.rules and program.algebra == dom.algebra
    assert dom.parse(print_program(program)) == program
    variables = [it for rule in program.rules for it in rule.lhs if isinstance(it, Var)]
    assert all(v.kind in dom.var_kinds and v.index <= MAX_VARS for v in variables)
    if dom.words is not None:
        assert _rule_words(program) <= dom.words
    if dom.tokens is not None:
        assert _rule_tokens(program) <= dom.tokens


@pytest.mark.parametrize("domain", BUILTIN)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=SEEDS)
def test_episodes_show_the_reference_outputs_and_are_not_degenerate(domain: str,
                                                                     seed: int) -> None:
    prior = prior_for(domain)
    for episode in itertools.islice(episodes(domain, prior, seed), 3):
        _check_outputs(episode)
        examples = episode.support + episode.query
        assert len({ex.input for ex in examples}) == len(examples)
        assert len({ex.output for ex in examples}) > 1
        assert all(len(ex.input) <= prior.max_input_words for ex in examples)
        if episode.algebra == "seq":
            assert all(len(ex.output) <= prior.max_output for ex in examples)  # type: ignore
        assert episode.support and episode.query and episode.domain == domain


@pytest.mark.parametrize("domain", ["miniscan", "scan", "numbers", "code", "rules"])
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=SEEDS)
def test_whole_program_support_uses_every_rule(domain: str, seed: int) -> None:
    episode = sample_episode(domain, rng=random.Random(seed))
    assert episode.kind == "full" and episode.background is None
    assert episode.target == episode.program
    used: set[int] = set()
    for ex in episode.support:
        _result, step = derive(episode.program, ex.input)
        used |= _rules_of(step)
    assert used == set(range(len(episode.program)))


def _rules_of(step: object) -> set[int]:
    out, stack = set(), [step]
    while stack:
        node = stack.pop()
        if node is not None:
            out.add(node.rule)  # type: ignore[attr-defined]
            stack.extend(node.children)  # type: ignore[attr-defined]
    return out


@pytest.mark.parametrize("domain", ["miniscan", "scan", "numbers", "code", "rules"])
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=SEEDS)
def test_oneshot_background_plus_target_reproduces_a_support_that_uses_the_target(
        domain: str, seed: int) -> None:
    prior = prior_for(domain)
    episode = oneshot_episode(domain, prior, random.Random(seed))
    assert episode.kind == "oneshot" and episode.background is not None
    assert episode.background + episode.target == episode.program
    assert prior.oneshot_support[0] <= len(episode.support) <= prior.oneshot_support[1]
    first = len(episode.background)
    goal = set(range(first, len(episode.program)))
    used: set[int] = set()
    for ex in episode.support:
        result, step = derive(episode.background + episode.target, ex.input)
        assert result.ok and result.value == ex.output
        uses = _rules_of(step) & goal
        assert uses, "every demonstration uses a rule of the target"
        used |= uses
    assert used == goal
    _check_outputs(episode)


@pytest.mark.parametrize("domain", ["miniscan", "numbers", "code"])
def test_the_same_seed_gives_the_same_episodes(domain: str) -> None:
    first = list(itertools.islice(episodes(domain, seed=7), 4))
    again = list(itertools.islice(episodes(domain, seed=7), 4))
    other = list(itertools.islice(episodes(domain, seed=8), 4))
    assert first == again and first != other


def test_episodes_do_not_depend_on_the_hash_seed() -> None:
    code = ("import itertools; from metarlm.neural.sample import episodes; "
            "print(repr(list(itertools.islice(episodes('scan', seed=3), 3))))")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": h}, check=True).stdout
            for h in ("1", "2")}
    assert len(outs) == 1 and "Episode(" in outs.pop()


@FAST
@given(seed=SEEDS)
def test_the_miniscan_prior_matches_nye_et_al(seed: int) -> None:
    rng = random.Random(seed)
    program = sample_program("miniscan", rng=rng)
    primitives = [r for r in program.rules if not r.variables()]
    assert 3 <= len(primitives) <= 4 and all(len(r.lhs) == 1 for r in primitives)
    assert 2 <= len(program.rules) - len(primitives) <= 4
    episode = sample_episode("miniscan", rng=rng)
    assert 10 <= len(episode.support) <= 20


@FAST
@given(seed=SEEDS)
def test_the_scan_prior_uses_the_scan_vocabulary_with_empty_and_composed_rules(
        seed: int) -> None:
    rng = random.Random(seed)
    programs = [sample_program("scan", rng=rng) for _ in range(30)]
    for program in programs:
        primitives = [r for r in program.rules if not r.variables()]
        assert 4 <= len(primitives) <= 8
        assert 3 <= len(program.rules) - len(primitives) <= 8
    rules = [r for p in programs for r in p.rules]
    assert any(not r.rhs for r in rules), "some primitive like `turn ->` is empty"
    assert any(r.variables() and not any(isinstance(i, Word) for i in r.lhs) for r in rules)


@FAST
@given(seed=SEEDS)
def test_number_languages_read_back_every_number(seed: int) -> None:
    rng = random.Random(seed)
    count = itertools.count()
    lang = nl.sample_language(rng, lambda: f"w{next(count)}")
    program = nl.language_program(lang)
    assert load_domain("numbers").parse(print_program(program)) == program
    low = 0 if lang.zero is not None else 1
    numbers = [*range(low, 100), *(nl.sample_number(lang, rng) for _ in range(100)),
               *nl.lexicon_numbers(lang, rng), nl.max_value(lang) - 1]
    for n in numbers:
        result = evaluate(program, nl.render(lang, n))
        assert result.ok and result.value == n, (n, nl.render(lang, n), print_program(program))


def test_number_language_features_appear() -> None:
    langs = [nl.sample_language(random.Random(s), (lambda c: lambda: f"w{next(c)}")(
        itertools.count())) for s in range(300)]
    assert any(lang.units_first and lang.tens_link for lang in langs)  # "ein und zwanzig"
    assert any(lang.base_link for lang in langs)  # "hundred and five"
    assert any(10_000 in dict(lang.bases).values() for lang in langs)  # 万
    assert any(10**6 in dict(lang.bases).values() for lang in langs)
    assert any(lang.tens is None for lang in langs) and any(lang.teens for lang in langs)
    with pytest.raises(ValueError):
        nl.render(langs[0], nl.max_value(langs[0]))


@FAST
@given(seed=SEEDS)
def test_the_numbers_prior_writes_a_number_language(seed: int) -> None:
    program = sample_program("numbers", rng=random.Random(seed))
    assert program.algebra == "int"
    values = [r.rhs[0].value for r in program.rules if not r.variables()]  # type: ignore
    assert set(range(1, 10)) <= set(values)
    scales = {it.scale for r in program.rules for it in r.rhs if hasattr(it, "scale")}
    assert {100} <= scales or {10} <= scales
    episode = sample_episode("numbers", rng=random.Random(seed))
    assert all(isinstance(ex.output, int) for ex in episode.support + episode.query)


def _user_grammar(tmp_path: Path, algebra: str, body: str, name: str = "tiny") -> Path:
    path = tmp_path / f"{name}.lark"
    terminals = "WORD, TOKEN" if algebra == "seq" else "WORD"
    path.write_text(f"%import .core ({algebra}_program, {terminals}, UVAR, XVAR, YVAR, BLANK, "
                    f"COMMENT)\n%ignore BLANK\n%ignore COMMENT\nstart: {algebra}_program\n"
                    + body, encoding="utf-8")
    return path


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(seed=SEEDS)
def test_a_user_grammar_yields_only_its_words_and_tokens(tmp_path: Path, seed: int) -> None:
    path = _user_grammar(tmp_path, "seq",
                         '%override WORD: "ka" | "lo" | "mi" | "nu" | "po" | "re" | "su"\n'
                         '%override TOKEN: "ZAP" | "ZIP" | "ZOP"\n')
    dom = load_domain(path)
    prior = prior_for(path)
    assert prior.family == "rules" and prior.name == "tiny"
    rng = random.Random(seed)
    for episode in (sample_episode(path, prior, rng), oneshot_episode(path, prior, rng)):
        assert _rule_words(episode.program) <= dom.words  # type: ignore[operator]
        assert _rule_tokens(episode.program) <= dom.tokens  # type: ignore[operator]
        assert not any(isinstance(it, Copy) for r in episode.program.rules for it in r.rhs)
        for ex in episode.support + episode.query:
            assert set(ex.input) <= dom.words and set(ex.output) <= dom.tokens  # type: ignore
        _check_outputs(episode)


def test_a_user_grammar_in_the_integer_algebra_gets_a_fitting_prior(tmp_path: Path) -> None:
    closed = _user_grammar(tmp_path, "int", '%override WORD: "ab" | "bc" | "cd" | "de" | "ef"\n')
    prior = prior_for(closed)
    assert prior.family == "rules"
    episode = sample_episode(closed, prior, random.Random(1))
    assert episode.algebra == "int" and all(isinstance(ex.output, int) for ex in episode.support)
    _check_outputs(episode)
    assert prior_for(_user_grammar(tmp_path, "int", "", "open")).family == "numbers"


def test_variable_kinds_follow_the_domain() -> None:
    dom = dataclasses.replace(load_domain("rules"), var_kinds=frozenset({"u"}))
    rng = random.Random(5)
    for _ in range(30):
        program = sample_program(dom, PRIORS["rules"], rng)
        assert all(v.kind == "u" for r in program.rules for v in r.variables())


def test_episodes_of_a_grammar_file_name_it_loadably() -> None:
    from metarlm.lang.domain import load_domain
    from metarlm.neural.sample import episodes

    path = Path(__file__).resolve().parent.parent / "examples" / "lights" / "lights.lark"
    episode = next(episodes(str(path), seed=1))
    assert load_domain(episode.domain).path == path
    assert next(episodes("miniscan", seed=1)).domain == "miniscan"
