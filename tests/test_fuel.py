"""Fuel, counted by hand: both interpreters spend exactly what the documented accounting says.

One unit for each span evaluated (a span reused from the memo costs nothing) and one for each
length tried for an ``x`` or ``y`` variable. Each case gives the fuel its derivation needs,
worked out by hand in the comment beside it (not by running either interpreter): with that
much fuel the value comes out, with one unit less the run is out of fuel.
"""

from __future__ import annotations

import pytest

from metarlm.exec.check import check_batch, kernel_run
from metarlm.lang.demo import Example
from metarlm.lang.domain import parse_program
from metarlm.lang.interp import FUEL, Fail, Ok, evaluate

BACKTRACKING = "x1 and x2 -> [x1] [x2]\na -> A\nc -> C\nb and c -> BC"

CASES = [
    # the span; no variable, nothing else
    ("a -> A", "rules", "a", ("A",), 1),
    # the span; x1 tries its one length
    ("x1 -> A", "rules", "a", ("A",), 2),
    # [0,2) 1, x1 ends at 1: 2, then [0,1) 3 (its x1 has no length to try)
    ("x1 fep -> [x1] [x1] [x1]\ndax fep -> SPECIAL\ndax -> RED", "rules", "dax fep",
     ("RED", "RED", "RED"), 3),
    # [0,2) 1, y1 ends at 1: 2; [0,1) 3, its y1 ends at 0: 4 (an empty y calls nothing)
    ("y1 a -> [y1] B\na -> A", "rules", "a a", ("B", "B"), 4),
    # [0,5) 1; x1 ends at 3: 2, x2 at 5: 3; [0,3) 4, x1 at 1: 5, x2 at 3: 6; [0,1) 7;
    # [2,3) 8 fails; x1 ends at 2: 9 (no "and" after it), at 1: 10, x2 at 5: 11; [0,1) again
    # costs nothing (memo); [2,5) 12, x1 at 3: 13, x2 at 5: 14; [2,3) again nothing; BC
    (BACKTRACKING, "rules", "a and b and c", ("A", "BC"), 14),
    # [0,3) 1; x1 ends at 2: 2 (no "hundred" after it), at 1: 3; y1 at 3: 4; [0,1) 5; [2,3) 6
    ("x1 hundred y1 -> [x1] * 100 + [y1]\ntwo -> 2\nfive -> 5", "numbers", "two hundred five",
     205, 6),
]


@pytest.mark.parametrize("text, domain, words, value, needed", CASES)
def test_fuel_needed_is_what_the_accounting_says(text: str, domain: str, words: str,
                                                 value: object, needed: int) -> None:
    program, ws = parse_program(text, domain), tuple(words.split())
    for fuel, want in ((needed, Ok(value)), (needed - 1, Fail(FUEL))):  # type: ignore[arg-type]
        assert evaluate(program, ws, fuel) == want, ("reference", fuel)
        assert kernel_run(program, [ws], fuel) == [want], ("kernel", fuel)
        example = Example(ws, value)  # type: ignore[arg-type]
        assert check_batch([program], [example], fuel=fuel) == [want.ok], ("check", fuel)


def test_fuel_of_several_inputs_in_one_batch_is_counted_per_input() -> None:
    program = parse_program(BACKTRACKING, "rules")
    inputs = [("a",), ("a", "and", "b", "and", "c"), ("a",)]
    assert kernel_run(program, inputs, 14) == [Ok(("A",)), Ok(("A", "BC")), Ok(("A",))]
    assert kernel_run(program, inputs, 13) == [Ok(("A",)), Fail(FUEL), Ok(("A",))]
