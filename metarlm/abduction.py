"""Abduction: the meaning of a word no rule reads, as holes that Z3 fills from the examples.

``jump around left twice -> ...`` with the SCAN rules but ``jump`` known gives the sketch
``jump -> ?``, and the one example pins the hole down to ``I_JUMP``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

from metarlm.demo import Example
from metarlm.dsl import Hole, Program, Rule, Token, Word
from metarlm.rule_prior import is_primitive


class Counter(Protocol):
    """Anything that counts the candidates checked (the enumerator's budget)."""

    candidates: int


def abduce(current: Program, ex: Example, examples: Sequence[Example], lengths: Iterable[int],
           budget: Counter) -> Iterator[Rule]:
    """Sketches ``w -> ? ...`` (each length in ``lengths``) for words of ``ex`` no rule
    understands, filled by Z3 from the examples.

    The examples that decide are those whose every other word some rule understands; the
    holes must be pinned down uniquely by them.
    """
    from metarlm.holes import fill_all

    mentioned = understood(current)
    unknown = [w for w in dict.fromkeys(ex.input) if w not in mentioned]
    for word in unknown[:2]:
        relevant = [e for e in examples if set(e.input) <= mentioned | {word}]
        # All of them first; when the current rules cannot read some of them (no filling
        # fits all), each of the shortest showing the word alone: the scorer judges the result.
        showing = [e for e in relevant if word in e.input][:3]
        for group in [relevant, *([e] for e in showing)] if showing else []:
            found = False
            for n in lengths:
                sketch = Rule((Word(word),), tuple(Hole(i) for i in range(n)))
                solutions = fill_all(Program(current.rules + (sketch,), current.algebra),
                                     group, limit=2)
                budget.candidates += 1
                found = found or bool(solutions)
                if len(solutions) == 1:
                    yield solutions[0].rules[-1]
            if found:
                break


def understood(program: Program) -> set[str]:
    """Words with a meaning of their own: those of primitives and of rules that spell no
    token. A word only a memorising rule names (`x1 turn u1 -> I_TURN_LEFT I_JUMP [u1]`)
    can still be abduced (`turn ->`), and the memorising rule is pruned once unneeded."""
    return {it.text for r in program.rules
            if is_primitive(r) or not any(isinstance(i, Token) for i in r.rhs)
            for it in r.lhs if isinstance(it, Word)}
