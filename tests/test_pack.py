"""Packing for the kernels, and ``reproduces`` in the kernels against the reference's."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import TOKENS, fuels, inputs, programs

from metarlm.exec.compile import SymbolTable
from metarlm.exec.pack import pack_examples, reproduces
from metarlm.lang import interp
from metarlm.lang.demo import Example
from metarlm.lang.domain import parse_program
from metarlm.lang.dsl import Program
from metarlm.lang.interp import Ok, evaluate

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def cases(draw: st.DrawFn) -> tuple[Program, list[Example], int]:
    """A program (sometimes with holes), examples that it often reproduces, and a fuel."""
    program = draw(programs(max_rules=4))
    examples = []
    for words in draw(st.lists(inputs(program, max_words=4), min_size=1, max_size=4)):
        result = evaluate(program, words)
        if isinstance(result, Ok) and draw(st.integers(0, 3)):
            examples.append(Example(words, result.value))  # type: ignore[arg-type]
        elif program.algebra == "seq":
            examples.append(Example(words, tuple(draw(st.lists(st.sampled_from(TOKENS),
                                                               max_size=3)))))
        else:
            examples.append(Example(words, draw(st.integers(0, 30))))
    return program, examples, draw(fuels())


@SETTINGS
@given(cases())
def test_reproduces_in_the_kernels_is_the_reference(case: tuple) -> None:
    program, examples, fuel = case
    assert reproduces(program, examples, fuel) == interp.reproduces(program, examples, fuel)


def test_reproduces_at_the_integer_limit_and_without_examples() -> None:
    program = parse_program("a -> 3", "numbers")
    assert reproduces(program, [Example(("a",), 3)])
    assert not reproduces(program, [Example(("a",), 2**70)])
    assert reproduces(program, [])


def test_pack_examples_marks_outputs_of_the_wrong_kind_impossible() -> None:
    seq = [Example(("a",), ("A",))]
    assert pack_examples(seq, "seq", SymbolTable()).possible
    assert not pack_examples(seq, "int", SymbolTable()).possible
    assert not pack_examples([Example(("a",), 2**63)], "int", SymbolTable()).possible


def test_numba_is_asked_its_thread_count_once(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Every numba.get_num_threads() takes a lock Numba shares between processes; a forked
    search killed while holding it once left its parent waiting for good."""
    import numba

    from metarlm.exec import pack

    calls = []
    monkeypatch.setattr(pack, "_THREADS", [])
    monkeypatch.setattr(numba, "get_num_threads", lambda: calls.append(1) or 2)
    big = 10 * pack.PARALLEL_MIN
    assert pack.parallel_chunks(big) == 16 and pack.parallel_chunks(big) == 16
    assert len(calls) == 1
    pack.serial_only()  # what a forked child does first
    assert pack.parallel_chunks(big) == 0 and len(calls) == 1
