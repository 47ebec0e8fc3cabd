"""The cuts generator: sub-demonstrations cut out of an example at the learned rules.

With ``x1 after x2 -> [x2] [x1]`` and ``walk -> I_WALK`` learned, the example
``jump left twice after walk -> I_TURN_LEFT I_JUMP I_TURN_LEFT I_JUMP I_WALK`` says that
``jump left twice`` must give ``I_TURN_LEFT I_JUMP I_TURN_LEFT I_JUMP``; with ``x1 twice ->
[x1] [x1]`` that in turn says ``jump left -> I_TURN_LEFT I_JUMP``: a two-word demonstration
that no example shows, from which the rule ``u1 u2 -> [u2] [u1]`` can be read. The cut is a
hypothesis (another rule might take the span first); the search scores what it proposes
against the real examples. ``Cuts`` offers them as sub-problems (up to the ``cut_depth``
setting) to every generator; the search keeps the shortest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from metarlm.exec.check import run_many
from metarlm.lang.demo import Example
from metarlm.lang.dsl import Call, Const, Copy, Program, Rule, Token, Var
from metarlm.lang.interp import Ok
from metarlm.synth.base import Context, Generator, State, SubProblem
from metarlm.synth.rule_prior import is_primitive
from metarlm.synth.templates import bindings

Span = tuple[int, int]
Value = tuple[str, ...] | int


def span_values(program: Program, words: Sequence[str]) -> dict[Span, Value | None]:
    """The program's value of every non-empty span of ``words`` (None where it has none)."""
    return span_values_many(program, [words])[0]


def span_values_many(program: Program,
                     inputs: Sequence[Sequence[str]]) -> list[dict[Span, Value | None]]:
    """``span_values`` of each input, in one run of the program over every span of all."""
    spans = [[(s, e) for s in range(len(ws)) for e in range(s + 1, len(ws) + 1)]
             for ws in inputs]
    results = iter(run_many(program, [tuple(ws[s:e]) for ws, sp in zip(inputs, spans)
                                      for s, e in sp]))
    return [{span: r.value if isinstance(r, Ok) else None  # type: ignore[misc]
             for span, r in zip(sp, results)} for sp in spans]


def invert(rule: Rule, binding: dict[Var, Span], values: dict[Span, Value | None],
           words: Sequence[str], output: tuple[str, ...]) -> tuple[Span, Value] | None:
    """The span and value that one unknown ``[v]`` of ``rule`` must have for ``output``.

    Every other part of the right-hand side must be known (a token, a copy, an understood
    span); the unknown part may occur k times, each a k-th of what the rest leaves over.
    """
    def known(item: object) -> tuple[str, ...] | None:
        if isinstance(item, Token):
            return (item.text,)
        assert isinstance(item, (Call, Copy))
        s, e = binding[item.var]
        if isinstance(item, Copy) or s == e:
            return tuple(words[s:e])
        return values.get((s, e))

    unknown = {it.var for it in rule.rhs if isinstance(it, Call) and known(it) is None}
    if len(unknown) != 1:
        return None
    var = unknown.pop()
    k = sum(isinstance(it, Call) and it.var == var for it in rule.rhs)
    rest = sum(len(known(it) or ()) for it in rule.rhs
               if not (isinstance(it, Call) and it.var == var))
    if len(output) < rest or (len(output) - rest) % k:  # an empty value is a meaning too
        return None
    width, pos, value = (len(output) - rest) // k, 0, None
    for item in rule.rhs:
        if isinstance(item, Call) and item.var == var:
            piece = tuple(output[pos:pos + width])
            if value is not None and piece != value:
                return None
            value = piece
        else:
            piece = known(item)  # type: ignore[assignment]
            if tuple(output[pos:pos + len(piece)]) != piece:
                return None
        pos += len(piece)
    return binding[var], value  # type: ignore[return-value]


def invert_sum(rule: Rule, binding: dict[Var, Span], values: dict[Span, Value | None],
               output: int) -> list[tuple[Span, int]]:
    """``invert`` in the integer algebra: the spans and values parts must have for ``output``.

    The one part with no value is what the rest leaves over, divided by its scale: `x1 cent
    y1 -> [x1] * 100 + [y1]` cuts "cinq cent quatre vingts" (580) at "quatre vingts", which
    must be 80. When every part has a value but the sum is wrong, each part in turn is the
    one to blame, where the others leave it a whole value: a span read wrongly ("seratus
    delapan puluh delapan" read as (100 + 8) * 10 + 8) is cut like one not read at all.
    """
    terms: list[tuple[Var, int, int | None]] = []  # (variable, scale, value)
    rest = output
    for item in rule.rhs:
        if isinstance(item, Const):
            rest -= item.value
            continue
        assert isinstance(item, Call) and isinstance(item.scale, int)
        s, e = binding[item.var]
        terms.append((item.var, item.scale, 0 if s == e else values.get((s, e))))  # type: ignore[arg-type]
    unknown = {v for v, _, value in terms if value is None}
    if len(unknown) > 1:
        return []
    if not unknown:
        if sum(k * value for _, k, value in terms) == rest:  # type: ignore[operator]
            return []  # the rule already gives the output: nothing to cut
        unknown = {v for v, _, _ in terms if binding[v][0] < binding[v][1]}
    cuts = []
    for var in sorted(unknown, key=str):
        scale = sum(k for v, k, _ in terms if v == var)
        left = rest - sum(k * value for v, k, value in terms if v != var)  # type: ignore[operator]
        if scale > 0 and left >= 0 and left % scale == 0:
            cuts.append((binding[var], left // scale))
    return cuts


def sub_demos(program: Program, example: Example, depth: int = 3) -> list[Example]:
    """Sub-demonstrations of ``example`` cut at the program's rules (``cut_levels``)."""
    return list(cut_levels(program, example, depth))


class Cuts(Generator):
    """Sub-problems: the failing examples cut at the learned rules (``cut_levels``)."""

    name = "cuts"

    def subproblems(self, state: State, failing: Sequence[Example],
                    ctx: Context) -> Iterable[SubProblem]:
        current = ctx.program(state.learned)
        cut = [ex for ex in failing[: ctx.settings.cut_examples] if len(ex.input) > 1]
        # every span of every example in one run: the program is lowered once
        for ex, values in zip(cut, span_values_many(current, [ex.input for ex in cut])):
            levels = cut_levels(current, ex, ctx.settings.cut_depth, ctx.settings.bindings,
                                values)
            for sub, cuts in levels.items():
                yield SubProblem(sub, cuts + 1)


def cut_levels(program: Program, example: Example, depth: int = 3, most: int = 3,
               values: dict[Span, Value | None] | None = None) -> dict[Example, int]:
    """Sub-demonstrations of ``example`` cut at the program's rules, up to ``depth`` cuts
    deep, each with the number of cuts that gave it (1: cut out of the example itself).

    Each sub-demonstration is a span of the example's input that the program does not
    interpret yet (or, in the integer algebra, interprets wrongly), with the output the cut
    says it must have. ``values`` are the program's ``span_values`` of the input, if known.
    """
    words = example.input
    if len(words) < 2:
        return {}
    if values is None:
        values = span_values(program, words)
    rules = [r for r in program.rules if not is_primitive(r)]  # those with variables
    found: dict[Example, int] = {}

    def cut(start: int, end: int, output: Value, left: int) -> None:
        for rule in rules:
            for binding in bindings(rule.lhs, words[start:end], most):
                shifted = {v: (s + start, e + start) for v, (s, e) in binding.items()}
                if isinstance(output, int):
                    got = invert_sum(rule, shifted, values, output)
                else:
                    one = invert(rule, shifted, values, words, output)
                    got = [] if one is None else [one]  # type: ignore[list-item]
                for (s, e), value in got:
                    sub = Example(tuple(words[s:e]), value)
                    if sub not in found:
                        found[sub] = depth - left + 1
                        if left > 1 and e - s > 1:
                            cut(s, e, value, left - 1)

    cut(0, len(words), example.output, depth)
    return found
