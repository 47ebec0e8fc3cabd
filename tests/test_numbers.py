"""examples/numbers/english.rules reads every number word 0..999,999 that num2words writes."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from metarlm.data import number_words
from metarlm.exec.check import run_many
from metarlm.lang.domain import load_domain
from metarlm.lang.dsl import Program
from metarlm.lang.interp import evaluate

pytestmark = pytest.mark.slow

RULES = Path(__file__).resolve().parents[1] / "examples" / "numbers" / "english.rules"
LIMIT = 1_000_000
BLOCK = 50_000


@pytest.fixture(scope="module")
def english() -> Program:
    return load_domain("numbers").parse(RULES.read_text(encoding="utf-8"), source=str(RULES))


def _texts(start: int) -> list[str]:
    """num2words for one block of numbers (num2words takes about 30 µs a number)."""
    return [number_words(n) for n in range(start, min(start + BLOCK, LIMIT))]


def test_all_number_words(english: Program) -> None:
    wrong: list[tuple[int, str, object]] = []
    checked = 0
    with ProcessPoolExecutor(max_workers=2) as pool:
        for start, texts in zip(range(0, LIMIT, BLOCK), pool.map(_texts, range(0, LIMIT, BLOCK))):
            results = run_many(english, [tuple(t.split()) for t in texts])
            wrong += [(start + k, t, r) for k, (t, r) in enumerate(zip(texts, results))
                      if not (r.ok and r.value == start + k)]
            checked += len(texts)
    assert not wrong, f"{len(wrong)} wrong, first: {wrong[:3]}"
    assert checked == LIMIT


@pytest.mark.parametrize(("text", "value"), [
    ("one hundred and five", 105),
    ("one thousand and five", 1005),
    ("one hundred and five thousand two hundred and one", 105201),
    ("one hundred thousand", 100000),
    ("twenty", 20),
    ("zero", 0),
])
def test_and_is_ignored_where_num2words_puts_it(english: Program, text: str, value: int) -> None:
    assert number_words(value) == text
    assert evaluate(english, text.split()).value == value  # type: ignore[union-attr]


def test_not_a_number_fails(english: Program) -> None:
    assert not evaluate(english, "hundred and".split()).ok
    assert not evaluate(english, "one million".split()).ok
