"""Evaluation suites: deterministic tasks that parse, with sound labels and ground truth."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from metarlm.data import load_miniscan, load_scan
from metarlm.eval.generated import (
    LANGUAGES,
    code_levels,
    code_reference,
    code_rng,
    lexicon,
    spoken,
)
from metarlm.eval.suites import (
    GLYPHS_NAME,
    SCAN_RULES,
    SUITE_NAMES,
    EvalError,
    SuiteOptions,
    Task,
    build_tasks,
    shot_counts,
    truncated,
)
from metarlm.exec.check import run_many
from metarlm.lang.demo import parse_demo
from metarlm.lang.domain import load_domain
from metarlm.lang.interp import Ok

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> SuiteOptions:
    return SuiteOptions(episodes=2, quick=True, workdir=tmp_path_factory.mktemp("grammars"))


def outputs_hold(program_text: str, task: Task) -> bool:
    """Whether a program reproduces every example and query of a task."""
    demo = parse_demo(task.demo)
    program = demo.domain.parse(program_text)
    if demo.background is not None:
        program = demo.background + program
    items = [(e.input, e.output) for e in demo.examples]
    items += [(q.input, q.expected) for q in demo.queries]
    results = run_many(program, [i for i, _ in items])
    return all(isinstance(r, Ok) and r.value == out for r, (_, out) in zip(results, items))


@pytest.mark.parametrize("suite", SUITE_NAMES)
def test_same_seed_same_tasks_and_tasks_parse(suite: str, quick: SuiteOptions) -> None:
    first, again = build_tasks(suite, 0, quick), build_tasks(suite, 0, quick)
    assert first == again and first
    assert build_tasks(suite, 1, quick) != first
    for task in first:
        demo = parse_demo(task.demo)
        assert len(task.ood) == len(demo.queries) > task.controls >= 0
        assert all(q.expected is not None for q in demo.queries)


def test_unknown_suite_is_refused() -> None:
    with pytest.raises(EvalError, match="unknown suite"):
        build_tasks("nope", 0)


def test_miniscan_is_the_human_study_reordered(quick: SuiteOptions) -> None:
    data = load_miniscan()
    tasks = [build_tasks("miniscan", s, quick)[0] for s in (0, 1)]
    for task in tasks:
        assert sorted(map(str, task.demo["examples"])) == sorted(map(str, data["examples"]))
        assert len(task.demo["examples"]) == 14 and len(task.demo["queries"]) == 8
    assert tasks[0].demo["examples"] != tasks[1].demo["examples"]
    rules = (ROOT / "examples" / "miniscan" / "miniscan.rules").read_text(encoding="utf-8")
    assert outputs_hold(rules, tasks[0])


@pytest.mark.parametrize("suite,split", [("scan-simple", "simple"), ("scan-length", "length"),
                                         ("scan-addjump", "addprim_jump"),
                                         ("scan-aroundright", "around_right")])
def test_scan_support_from_train_queries_from_test(suite: str, split: str,
                                                   quick: SuiteOptions) -> None:
    train, test = set(load_scan(f"{split}_train")), set(load_scan(f"{split}_test"))
    for task in build_tasks(suite, 0, quick):
        support = [(e["input"], e["output"]) for e in task.demo["examples"]]
        queries = [(q["input"], q["output"]) for q in task.demo["queries"]]
        scored, controls = queries[:-task.controls], queries[-task.controls:]
        assert 0 < len(support) <= 30 and set(support) <= train
        assert len(scored) == quick.quick_queries and set(scored) <= test
        assert set(controls) <= train and not {c for c, _ in controls} & {s for s, _ in support}
        assert not any(task.ood[len(scored):])  # controls are in distribution
        assert outputs_hold(SCAN_RULES, task)


def test_scan_length_marks_long_outputs(quick: SuiteOptions) -> None:
    task = build_tasks("scan-length", 0, quick)[0]
    longest = max(len(e["output"].split()) for e in task.demo["examples"])
    for flag, q in zip(task.ood, task.demo["queries"][:-task.controls]):
        assert flag == (len(q["output"].split()) > longest)


def test_scan_rules_match_the_example_file() -> None:
    scan = load_domain("scan")
    shipped = scan.parse((ROOT / "examples" / "scan" / "scan.rules").read_text(encoding="utf-8"))
    assert scan.parse(SCAN_RULES) == shipped


def test_scan_oneshot_withholds_jump_only(quick: SuiteOptions) -> None:
    task = build_tasks("scan-oneshot", 0, quick)[0]
    assert "jump -> I_JUMP" not in task.demo["background"]
    assert len(task.demo["background"].splitlines()) == 13
    assert [e["input"] for e in task.demo["examples"]] == ["jump around left twice"]
    assert shot_counts(task.n_examples) == []
    # background + the missing rule answers every query; the background alone does not
    assert outputs_hold("jump -> I_JUMP", task)
    assert not outputs_hold("", task)


def test_numbers_languages_and_labels(quick: SuiteOptions) -> None:
    assert len(LANGUAGES) >= 9
    tasks = build_tasks("numbers", 0, SuiteOptions(workdir=quick.workdir))
    assert len(tasks) == len(LANGUAGES)
    for task in tasks:
        background = task.demo["background"].splitlines()
        assert all(len(line.split(" -> ")[0].split()) == 1 for line in background)
        assert len(task.demo["examples"]) <= 40 and len(task.demo["queries"]) == 200
        values = [q["output"] for q in task.demo["queries"]]
        assert all(0 <= v < 10**6 for v in values)
        assert list(task.ood) == [v >= 10**5 for v in values]  # examples stop at five digits
        assert not {e["output"] for e in task.demo["examples"]} & set(values)


def test_numbers_words_read_back_with_the_english_program(quick: SuiteOptions) -> None:
    task = next(t for t in build_tasks("numbers", 0, quick) if t.name.endswith("/en"))
    rules = (ROOT / "examples" / "numbers" / "english.rules").read_text(encoding="utf-8")
    assert outputs_hold(rules, task)
    assert ("seven", 7) in lexicon("en") and ("twenty", 20) in lexicon("en")


def test_character_languages_are_split_into_characters() -> None:
    assert spoken(342, "ja") == "三 百 四 十 二"
    assert all(len(w) == 1 for w, _ in lexicon("ja"))


def operators(text: str, levels: list[str]) -> int:
    """How many binary operators an infix text holds."""
    return sum(w in levels for w in text.split())


def test_code_reference_translates_every_item() -> None:
    for seed in (0, 1):
        for index, task in enumerate(build_tasks("code", seed, SuiteOptions(episodes=4))):
            levels = code_levels(code_rng(seed, index))
            assert outputs_hold(code_reference(levels), task)
            shown = max(operators(e["input"], levels) for e in task.demo["examples"])
            asked = [operators(q["input"], levels) for q in task.demo["queries"]]
            assert shown <= 2 and list(task.ood) == [n > shown for n in asked]
            assert any(task.ood) and not all(task.ood)


def test_new_domain_uses_a_written_grammar(quick: SuiteOptions) -> None:
    tasks = build_tasks("new-domain", 0, quick)
    grammar = quick.workdir / GLYPHS_NAME
    assert grammar.is_file()
    domain = load_domain(str(grammar))
    assert domain.words is not None and "zorb" in domain.words
    for task in tasks:
        assert Path(task.demo["domain"]) == grammar.resolve()
        assert {w for e in task.demo["examples"] for w in e["input"].split()} <= domain.words
    assert {t.name.rsplit("-", 1)[1] for t in tasks} == {"full", "oneshot"}


def test_truncation_keeps_labels_and_counts() -> None:
    task = build_tasks("miniscan", 0)[0]
    cut = truncated(task, 4)
    assert cut.shots == 4 and cut.demo["examples"] == task.demo["examples"][:4]
    assert cut.ood == task.ood and cut.demo["queries"] == task.demo["queries"]
    assert shot_counts(14) == [1, 2, 4, 8] and shot_counts(16) == [1, 2, 4, 8]
    assert shot_counts(20, (1, 16, 32)) == [1, 16]


def test_compounding_languages_are_split_into_morphemes() -> None:
    from metarlm.data import number_words
    from metarlm.eval.generated import morpheme_forms, morphemes

    assert spoken(21, "it") == "venti uno"  # ventuno: the elided vowel comes back
    assert spoken(180, "it") == "cento ottanta"
    assert spoken(45_678, "it") == "quaranta cinque mila sei cento settanta otto"
    surface = {full: [s for s, f in morpheme_forms("it").items() if f == full]
               for full in set(morpheme_forms("it").values())}
    rng = random.Random(0)
    for n in [*range(1, 200), *(rng.randrange(10**6) for _ in range(300))]:
        # some surface form of each piece, in order, spells num2words' word again
        pattern = "".join(f"(?:{'|'.join(surface[p])})" for p in spoken(n, "it").split())
        assert re.fullmatch(pattern, number_words(n, "it"))
    with pytest.raises(ValueError, match="morphemes"):
        morphemes("ventiquattrox", "it")


def test_curriculum_demo_is_a_valid_demonstration() -> None:
    from metarlm.eval.generated import CURRICULUM, curriculum_demo

    demo = curriculum_demo("es", queries=50)
    parsed = parse_demo(demo)
    assert 0 < len(parsed.examples) <= len(CURRICULUM) <= 40 and len(parsed.queries) == 50
    shown = {e["output"] for e in demo["examples"]}
    assert not shown & {q["output"] for q in demo["queries"]}
    assert all(0 <= q["output"] < 10**6 for q in demo["queries"])
    assert curriculum_demo("es", queries=50) == demo  # seeded
