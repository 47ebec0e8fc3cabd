"""The revisions generator: a learned rule list with a rule dropped, moved earlier or widened.

The search adds rules one at a time, each read off the examples at hand; a guess that
fitted the few examples seen then (`thrice -> I_JUMP I_JUMP` from "jump thrice", `u1 and u2`
from "walk and look") can stand in the way of the general rule found later. Revisions are
scored like new rules: the search keeps those that reproduce more of the demonstration. The
``revisions`` setting turns them off (``numerals`` does: each revised integer list costs Z3
fits that number words cannot spare).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from metarlm.lang.dsl import Rule, Var, renamed
from metarlm.synth.base import Context, Generator, Move, State, SubProblem
from metarlm.synth.rule_prior import anchored, is_primitive


def repairs(learned: tuple[Rule, ...]) -> list[tuple[Rule, ...]]:
    """The rule list less one rule, with one rule moved earlier, or with one rule widened."""
    out = []
    for i in range(len(learned)):
        rest = learned[:i] + learned[i + 1:]
        out.append(rest)
        out += [rest[:j] + (learned[i],) + rest[j:] for j in range(i)]
        out += [rest[:i] + (wide,) + rest[i:] for wide in widened(learned[i])]
    return out


def widened(rule: Rule) -> Iterator[Rule]:
    """The rule with one ``u`` made a span variable ``x`` (`u1 and u2` → `u1 and x1`), when
    it has a word: the one-word reading was all the examples seen so far showed."""
    if is_primitive(rule) or not anchored(rule):
        return
    wide = Var("x", max((v.index for v in rule.variables() if v.kind == "x"), default=0) + 1)
    for var in (v for v in rule.variables() if v.kind == "u"):
        yield renamed(rule, var, wide)


class Revisions(Generator):
    """Each revision of the state's learned rules (``repairs``) as a whole new rule list."""

    name = "revisions"

    def propose(self, state: State, problems: Sequence[SubProblem],
                ctx: Context) -> Iterable[Move]:
        if not ctx.settings.revisions:
            return
        for learned in repairs(state.learned):
            yield Move((), "a revision of a learned rule", learned=learned)
