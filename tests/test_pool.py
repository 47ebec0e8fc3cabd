"""The rule pool: one id per distinct rule, lowered once, profiled on the examples."""

from __future__ import annotations

from metarlm.kernels.layout import SAT

from metarlm.exec.compile import SymbolTable, lower_rule
from metarlm.exec.pack import pack_words
from metarlm.exec.pool import RulePool
from metarlm.lang.domain import parse_program
from metarlm.lang.dsl import Hole, Rule, Word

INPUTS = [("dax",), ("dax", "fep"), ("lug", "kiki", "dax")]


def pool() -> RulePool:
    symbols = SymbolTable()
    words, lens = pack_words(INPUTS, symbols)
    return RulePool("seq", symbols, words, lens, 10**4)


def rules(text: str) -> tuple[Rule, ...]:
    return parse_program(text, "rules").rules


def test_equal_rules_share_an_id_and_are_lowered_once() -> None:
    p = pool()
    a, b = rules("dax -> RED\nx1 fep -> [x1] [x1]")
    copy = Rule(a.lhs, a.rhs)  # another object, equal
    ids = p.ids([a, b, copy, a]).tolist()
    assert ids == [0, 1, 0, 0] and len(p.rules) == 2
    top, length, longest = p.rmeta[1].tolist()
    assert p.pool[top: top + length].tolist() == lower_rule(b, "seq", p.symbols)
    assert longest == 2 and p.max_lhs == 2


def test_profile_says_which_examples_a_rule_touches() -> None:
    p = pool()
    dax, fep, loose = rules("dax -> RED\nx1 fep -> [x1] [x1]\nu1 u2 -> [u2] [u1]")
    ids = p.ids([dax, fep, loose]).tolist()
    touched = [p.tlist[p.toff[r]: p.toff[r + 1]].tolist() for r in ids]
    assert touched[0] == [0, 1, 2]  # every input holds "dax"
    assert touched[1] == [1]  # only "dax fep" has "fep"
    assert 1 in touched[2] and 0 not in touched[2]  # two words bind, one does not
    assert all(p.cmax[r] == p.cost[r].max() for r in ids)


def test_rules_with_holes_are_slow_and_touch_everything() -> None:
    p = pool()
    sketch = Rule((Word("dax"),), (Hole(0),))
    (rid,) = p.ids([sketch]).tolist()
    assert rid in p.slow and p.touch[rid].all() and (p.cost[rid] == SAT).all()


def test_ids_stay_when_the_object_table_starts_afresh() -> None:
    p = pool()
    p.OBJECTS = 4
    made = [Rule((Word(w),), ()) for w in ("a", "b", "c", "d", "e", "f")]
    first = p.ids(made).tolist()
    again = p.ids([Rule(r.lhs, r.rhs) for r in made] + made).tolist()
    assert again == first + first and len(p.rules) == 6
