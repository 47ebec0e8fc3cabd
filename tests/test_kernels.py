"""The Numba kernels agree with the reference interpreter: values, failure reasons, fuel."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import fuels, inputs, max_outputs, programs

from metarlm.data import load_miniscan, load_scan
from metarlm.exec.check import check_batch, kernel_run, run_many
from metarlm.exec.compile import SymbolTable, kernels, lower_programs
from metarlm.exec.pack import pack_examples, pack_words
from metarlm.lang.demo import Example
from metarlm.lang.domain import parse_program
from metarlm.lang.dsl import Call, Const, Program, Rule, Var, Word
from metarlm.lang.interp import EMPTY, FUEL, OVERFLOW, TOO_LONG, Fail, Ok, evaluate

ROOT = Path(__file__).resolve().parent.parent
CASES = json.loads((ROOT / "tests" / "data" / "conformance.json").read_text())["cases"]
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def reference(program: Program, words: list[tuple[str, ...]], fuel: int = 200_000,
              max_output: int = 10_000) -> list:
    return [evaluate(program, w, fuel, max_output) for w in words]


@st.composite
def runs(draw: st.DrawFn, algebra: str | None = None) -> tuple:
    program = draw(programs(algebra))
    words = draw(st.lists(inputs(program), min_size=1, max_size=4))
    return program, words, draw(fuels()), draw(max_outputs())


@SETTINGS
@given(runs())
def test_kernel_equals_reference(run: tuple) -> None:
    program, words, fuel, max_output = run
    if program.algebra == "int" and program.holes():
        with pytest.raises(ValueError):
            kernel_run(program, words, fuel, max_output)
        return
    assert kernel_run(program, words, fuel, max_output) == reference(program, words, fuel,
                                                                      max_output)


@settings(max_examples=100, deadline=None)
@given(runs(), st.integers(-3, 10**20))
def test_run_many_is_total(run: tuple, fuel: int) -> None:
    program, words, _, max_output = run
    results = run_many(program, words + [()], fuel, max_output)
    assert len(results) == len(words) + 1
    assert results[-1] == Fail(EMPTY)
    assert results == reference(program, words + [()], fuel, max_output)


ODD_WORDS = ("", "a\0", "\0", "\ud800", "été", "abcdefghij", "zbcdefghij", "abcdefgh", "b")


@SETTINGS
@given(runs(), st.lists(st.lists(st.sampled_from(ODD_WORDS)).map(tuple), max_size=3))
def test_kernel_equals_reference_with_words_looked_up_in_their_text(run: tuple,
                                                                    odd: list) -> None:
    """Every batch packed through the text of its words (small ones are not, in use): empty
    inputs and words, words longer than 8 bytes or alike in their last 8, words holding a
    NUL or with no UTF-8 (those batches go back to a lookup per word)."""
    from metarlm.exec import pack

    program, words, fuel, max_output = run
    if program.algebra == "int" and program.holes():
        return
    words = words + odd
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pack, "TEXT_MIN", 0)
        got = kernel_run(program, words, fuel, max_output)
    assert got == reference(program, words, fuel, max_output)


@pytest.mark.parametrize("words", [
    [("walk", "twice"), ("jump",), ("zz", "walk", "été"), ()],
    [(), ()], [("",), ()], [("",)], [()],
    [("abcdefghij",), ("zbcdefghij", "abcdefgh"), ("walk",) * 9],
    [("a\0b",)], [("a",), ("\0",)], [("walk", "\ud800")], [(1, 2)],
])
def test_words_found_in_their_text_have_the_ids_of_a_lookup_per_word(words: list) -> None:
    from metarlm.exec.pack import _text_ids, pack_flat

    program = parse_program("walk -> WALK\nx1 twice -> [x1] [x1]", "rules")
    by_text, by_word = SymbolTable(), SymbolTable()
    lower_programs([program], by_text)
    lower_programs([program], by_word)
    starts = np.cumsum([0] + [len(w) for w in words])
    ids = _text_ids(words, starts, by_text)
    plain = all(isinstance(w, str) and "\0" not in w and "\ud800" not in w
                for ws in words for w in ws)
    assert (ids is not None) == plain  # the text path declines only what it cannot split
    if ids is not None:
        assert ids.tolist() == by_word.flat(words, int(starts[-1])).tolist()
        assert by_text.texts == by_word.texts  # new words interned in the same (sorted) order
    if plain:
        assert [a.tolist() for a in pack_flat(words, SymbolTable())] == [
            SymbolTable().flat(words, int(starts[-1])).tolist(), starts.tolist()]


@pytest.mark.parametrize("text, words", [
    ("x1 and x2 -> [x1] [x2] SEP\na -> A\nb -> B\nc -> C", "a and b and c"),
    ("x1 -> [x1]\ny1 x1 -> [y1] [x1] [x1]\na -> A", "a a a a"),
    ("u1 x1 -> [x1] u1\nx1 y1 twice -> [x1] [x1] y1\na -> A", "a a twice a twice"),
])
def test_fuel_is_spent_exactly_as_the_reference_spends_it(text: str, words: str) -> None:
    program, ws = parse_program(text, "rules"), tuple(words.split())
    needed = next(f for f in range(10_000) if evaluate(program, ws, f).ok)
    assert evaluate(program, ws, needed - 1) == Fail(FUEL)
    for fuel in range(needed + 3):
        assert kernel_run(program, [ws], fuel) == [evaluate(program, ws, fuel)]


def test_long_outputs_grow_the_arena_and_the_output_buffer() -> None:
    program = parse_program("a -> A B C D E F G H\nx1 twice -> [x1] [x1]", "rules")
    words = [("a",) + ("twice",) * k for k in range(12)]
    got = kernel_run(program, words, max_output=100_000)
    assert got == reference(program, words, max_output=100_000)
    assert len(got[-1].value) == 8 * 2**11  # type: ignore[union-attr]
    assert kernel_run(program, words[-1:], max_output=8 * 2**11 - 1) == [Fail(TOO_LONG)]


@pytest.mark.parametrize("parallel", [False, True])
def test_run_many_in_parallel_chunks_and_with_little_room_equals_the_reference(
        parallel: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    from metarlm.exec import pack

    if parallel:  # chunks whose shares of the token buffer overflow, then finish serially
        monkeypatch.setattr(pack, "PARALLEL_MIN", 1)
    program = parse_program("a -> A B C D E F G H\nb ->\nx1 twice -> [x1] [x1]\n"
                            "x1 and x2 -> [x2] [x1]", "rules")
    words = [("a",) + ("twice",) * (k % 9) for k in range(300)]
    words += [("b", "and", "a", "twice"), ("c",), ("b",), ("a", "and", "a")] * 20
    got = kernel_run(program, words, max_output=100_000)
    assert got == reference(program, words, max_output=100_000)
    assert got[0] is got[9]  # equal outputs share one frozen Ok


@pytest.mark.parametrize("value", [2**62 - 1, 2**62, 2**63 - 1, 2**63, 2**64 + 3, 10**40])
def test_integer_overflow_at_the_reference_points(value: int) -> None:
    x1, u1 = Var("x", 1), Var("u", 1)
    program = Program((
        Rule((Word("big"),), (Const(value),)),
        Rule((Word("neg"),), (Const(-value),)),
        Rule((Word("one"),), (Const(1),)),
        Rule((u1, x1), (Call(u1), Call(x1))),
        Rule((Word("twice"), x1), (Call(x1, 2),)),
        Rule((Word("huge"), x1), (Call(x1, value),)),
    ), "int")
    words = [("big",), ("neg",), ("big", "neg"), ("neg", "big", "one"), ("twice", "big"),
             ("huge", "one"), ("huge", "neg"), ("big", "one"), ("neg", "one")]
    got = kernel_run(program, words)
    assert got == reference(program, words)
    assert Fail(OVERFLOW) in got or value < 2**62


def test_conformance_cases_through_the_kernels() -> None:
    for case in CASES:
        domain = "rules" if case["algebra"] == "seq" else "numbers"
        program = parse_program(case["program"], domain)
        words = tuple(case["input"].split())
        [got] = kernel_run(program, [words])
        assert got == evaluate(program, words), case["name"]
        if "fail" in case["expect"]:
            assert not got.ok, case["name"]
        else:
            out = case["expect"]["output"]
            assert got == Ok(out if isinstance(out, int) else tuple(out.split())), case["name"]


def test_scan_program_reproduces_every_scan_command_in_the_kernels() -> None:
    program = parse_program((ROOT / "examples" / "scan" / "scan.rules").read_text(), "scan")
    pairs = load_scan("tasks")
    assert len(pairs) == 20_910
    results = kernel_run(program, [tuple(c.split()) for c, _ in pairs])
    assert [r.value for r in results] == [tuple(a.split()) for _, a in pairs]  # type: ignore


def test_miniscan_program_reproduces_all_items_in_the_kernels() -> None:
    path = ROOT / "examples" / "miniscan" / "miniscan.rules"
    program = parse_program(path.read_text(), "miniscan")
    data = load_miniscan()
    items = data["examples"] + data["queries"]
    assert len(items) == 22
    results = kernel_run(program, [tuple(i["input"].split()) for i in items])
    assert results == [Ok(tuple(i["output"].split())) for i in items]


@pytest.mark.parametrize("output, verdict", [("A A", True), ("A B", False), ("A", False)])
def test_kernel_binds_each_hole_to_one_token(output: str, verdict: bool) -> None:
    program = parse_program("u1 u2 -> [u1] [u2]\na -> ?", "rules")
    examples = [Example(("a", "a"), tuple(output.split()))]
    symbols = SymbolTable()
    packed = pack_examples(examples, "seq", symbols)
    low = lower_programs([program], symbols)
    got = np.zeros(1, dtype=np.bool_)
    kernels()[1].check_chunk(low.code, low.status, packed.words, packed.lens, packed.syms,
                             packed.out_lens, packed.ints, 1000, 1000, False, got, 0, 1)
    assert bool(got[0]) is verdict
    assert check_batch([program], examples) == [verdict]


def test_parallel_drivers_equal_the_serial_ones() -> None:
    program = parse_program((ROOT / "examples" / "scan" / "scan.rules").read_text(), "scan")
    commands = [tuple(c.split()) for c, _ in load_scan("tasks")[:500]] + [()]
    symbols = SymbolTable()
    code = lower_programs([program], symbols).code
    words, lens = pack_words(commands, symbols)
    outs = []
    for parallel in (False, True):
        out = (np.zeros((len(lens), 64), dtype=np.int64), np.zeros(len(lens), dtype=np.int64),
               np.zeros(len(lens), dtype=np.int64))
        args = (code, words, lens, 10_000, 10_000, False, *out)
        batch = kernels()[1]
        batch.run_parallel(*args, 7) if parallel else batch.run_chunk(*args, 0, len(lens))
        outs.append([a.tolist() for a in out])
    assert outs[0] == outs[1]
    examples = [Example(tuple(c.split()), tuple(a.split())) for c, a in load_scan("tasks")[:30]]
    packed = pack_examples(examples, "seq", symbols)
    many = lower_programs([program, parse_program("walk -> I_WALK", "scan")] * 20, symbols)
    verdicts = []
    for parallel in (False, True):
        got = np.zeros(len(many.status), dtype=np.bool_)
        args = (many.code, many.status, packed.words, packed.lens, packed.syms,
                packed.out_lens, packed.ints, 10_000, 10_000, False, got)
        batch = kernels()[1]
        batch.check_parallel(*args, 5) if parallel else batch.check_chunk(*args, 0, len(got))
        verdicts.append(got.tolist())
    assert verdicts[0] == verdicts[1] == [True, False] * 20
