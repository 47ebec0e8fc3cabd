"""The primitives generator: the search's starts, read off one-word examples and co-occurrence.

A one-word example ``w -> out`` states the rule ``w -> out``; a word standing for itself (as
identifiers do in code) gives ``u1 -> u1``, kept last. Cross-situational primitives: ``w -> t``
when word w and output token t occur in exactly the same examples, at least two of them
(sequence algebra). SCAN's `jump` is the one word of every example whose output holds
I_JUMP, even when no example shows `jump` alone. Such guesses make a start of their own,
tried before the start without them, so the examples still decide.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from metarlm.lang.dsl import Copy, Rule, Token, Var, Word
from metarlm.lang.interp import reproduces
from metarlm.synth.base import Context, Generator, Move
from metarlm.synth.generators.readoff import word_meaning


class Primitives(Generator):
    """The starts: one-word meanings, with and without cross-situational guesses."""

    name = "primitives"

    def starts(self, ctx: Context) -> Iterable[Move]:
        prims = tuple(one_word_rules(ctx))
        paired = tuple(cross_situational(ctx, prims))
        where = "a word and a token shown in the same examples"
        ctx.note(prims, "a one-word example")
        ctx.note(paired, where)
        if paired:
            yield Move(paired + prims, where)
        yield Move(prims, "a one-word example")


def one_word_rules(ctx: Context) -> list[Rule]:
    """Rules read straight off one-word examples the background does not reproduce."""
    rules, covered, copies = [], set(), False
    for ex in ctx.examples:
        if len(ex.input) != 1 or ex.input[0] in covered or reproduces(ctx.background, [ex]):
            continue
        covered.add(ex.input[0])
        if isinstance(ex.output, int):
            if ex.output >= 0:  # no literal of the language is negative
                rules.append(word_meaning(ex))
        elif ex.output == ex.input and "u" in ctx.kinds:
            copies = True
        else:
            rules.append(word_meaning(ex))
    if copies:
        u1 = Var("u", 1)
        rules.append(Rule((u1,), (Copy(u1),)))
    return rules


def cross_situational(ctx: Context, known: Sequence[Rule]) -> Iterator[Rule]:
    """``w -> t`` for a word and a token that occur in exactly the same examples (at least
    two), sequence algebra only."""
    if ctx.algebra != "seq":
        return
    covered = {it.text for r in (*ctx.background.rules, *known) for it in r.lhs
               if isinstance(it, Word)}
    outputs = [set(ex.output) for ex in ctx.examples]  # type: ignore[arg-type]
    inputs = [set(ex.input) for ex in ctx.examples]
    tokens = set().union(*outputs)
    for word in sorted(set().union(*inputs) - covered):
        where = [word in words for words in inputs]
        if sum(where) < 2:
            continue
        paired = [t for t in sorted(tokens) if t != word and [t in out for out in outputs] == where]
        if len(paired) == 1:
            yield Rule((Word(word),), (Token(paired[0]),))
