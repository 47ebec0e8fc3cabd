"""Rule templates read off a demonstration: left-hand sides, bindings, right-hand sides.

Shared by the generators that read rules off examples (``generators.readoff``, ``sums``,
``abduction``, ``cuts``) and by the ``numerals`` plugin.

Left-hand sides come from an example's input (anchor words kept, gaps made variables);
right-hand sides from its output, by segmenting it into sub-values, copies and tokens
(sequence algebra) or as sums with holes for Z3 (integer algebra).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType

from metarlm.lang.dsl import (
    Call,
    Const,
    Copy,
    Hole,
    LhsItem,
    Program,
    RhsItem,
    Rule,
    Token,
    Var,
    Word,
)
from metarlm.lang.interp import Ok, Result, _Evaluator, evaluate


def call_patterns(variables: Sequence[Var], longest: int) -> Iterator[tuple[Var, ...]]:
    """Sequences of calls over the variables, shortest first."""
    for n in range(1, longest + 1):
        yield from itertools.product(variables, repeat=n)


def lhs_templates(words: Sequence[str], max_anchors: int = 2,
                  kinds: frozenset[str] = frozenset("ux"),
                  anchorable: frozenset[str] | None = None,
                  heads: bool = True) -> Iterator[tuple[LhsItem, ...]]:
    """Left-hand sides of the allowed variable kinds that match ``words``: anchors kept, gaps
    made variables (``_gap_options``). With ``heads``, a gap beside an anchor may be its
    nearest word and the rest, where the anchors are function words (``anchorable``, words
    no rule reads alone): a word that has a meaning of its own (an identifier copied by
    `u1 -> u1`) anchors no rule that reads the word beside it apart (`a u1 x1`).

    The anchor-free ones come first: two single words `u1 u2`, two spans `x1 x2`, and a head or
    a tail word and the rest, `u1 x1` and `x1 u1` (`u1 x1` reads "mille tre cento" as 1000+300).
    """
    seen: set[tuple[LhsItem, ...]] = set()
    n = len(words)
    span = _span_kind(kinds)
    heads = heads and anchorable is not None
    loose: list[tuple[LhsItem, ...]] = []
    if n == 2 and "u" in kinds:
        loose.append((Var("u", 1), Var("u", 2)))
    if n == 2 and span:
        loose.append((Var(span, 1), Var(span, 2)))
    if n >= 2 and "u" in kinds and span:
        loose += [(Var("u", 1), Var(span, 1)), (Var(span, 1), Var("u", 1))]
    for lhs in loose:
        if lhs not in seen:
            seen.add(lhs)
            yield lhs
    for k in range(1, max_anchors + 1):
        for anchors in itertools.combinations(range(n), k):
            if len({words[a] for a in anchors}) < k and k > 1:
                continue
            if anchorable is not None and any(words[a] not in anchorable for a in anchors):
                continue
            for lhs in _fill_gaps(words, anchors, kinds, heads):
                if lhs not in seen and len(lhs) > 1:
                    seen.add(lhs)
                    yield lhs


def _span_kind(kinds: frozenset[str]) -> str | None:
    """The kind a gap of several words takes: ``x`` where allowed, else ``y``."""
    return "x" if "x" in kinds else "y" if "y" in kinds else None


def _gap_options(size: int, edge: str | None, kinds: frozenset[str],
                 heads: bool = True) -> list[tuple[str, ...]]:
    """The variable kinds that can fill a gap of ``size`` words, in order of preference.

    One word is a ``u`` or a span; several are a span, or a single word next to an anchor and
    a span for the rest (`ka u1 y1` for a prefix that takes the next word: "ka blorp zib").
    A gap at the start or the end (``edge``) may also be a ``y`` (even an empty one), alone or
    after (before) that single word: `x1 hundred y1` from "two hundred".
    """
    if size == 0:
        return [()] + ([("y",)] if edge and "y" in kinds else [])
    span = _span_kind(kinds)
    out: list[tuple[str, ...]] = []
    if size == 1 and "u" in kinds:
        out.append(("u",))
    if span:
        out.append((span,))
    if edge and "y" in kinds and ("y",) not in out:
        out.append(("y",))
    if heads and "u" in kinds and span:
        rest = "y" if edge and "y" in kinds else span
        if size >= 2 or rest == "y":  # a y rest may be empty: one word will do
            if edge != "start":  # the word right after the anchor before the gap
                out.append(("u", rest))
            if edge != "end":  # the word right before the anchor after it
                out.append((rest, "u"))
    return out


def _fill_gaps(words: Sequence[str], anchors: tuple[int, ...],
               kinds: frozenset[str] = frozenset("ux"),
               heads: bool = True) -> Iterator[tuple[LhsItem, ...]]:
    bounds = [-1, *anchors, len(words)]
    gaps = [bounds[i + 1] - bounds[i] - 1 for i in range(len(bounds) - 1)]
    last = len(gaps) - 1
    options = [_gap_options(g, "start" if i == 0 else "end" if i == last else None, kinds, heads)
               for i, g in enumerate(gaps)]
    for choice in itertools.product(*options):
        items: list[LhsItem] = []
        counts = {"u": 0, "x": 0, "y": 0}
        for gi, kinds_here in enumerate(choice):
            for kind in kinds_here:
                counts[kind] += 1
                items.append(Var(kind, counts[kind]))  # type: ignore[arg-type]
            if gi < len(anchors):
                items.append(Word(words[anchors[gi]]))
        yield tuple(items)


Binding = Mapping[Var, tuple[int, int]]  # a variable's span of the input, [start, end)


def bindings(lhs: tuple[LhsItem, ...], words: Sequence[str], most: int = 3) -> tuple[Binding, ...]:
    """Up to ``most`` bindings of lhs to the whole input, in the interpreter's order."""
    return _bindings(lhs, tuple(words), most)


@functools.lru_cache(maxsize=1 << 14)
def _bindings(lhs: tuple[LhsItem, ...], words: tuple[str, ...],
              most: int) -> tuple[Binding, ...]:
    # remembered (read-only): the generators match the same templates to the same failing
    # examples at every state they expand
    rule = Rule(lhs, ())
    ev = _Evaluator(Program((rule,)), words, 10_000, 10_000)
    out: list[Binding] = []
    for binding in ev.bindings(0, 0, len(words)):
        out.append(MappingProxyType(dict(zip(rule.variables(), binding))))
        if len(out) == most:
            break
    return tuple(out)


@functools.lru_cache(maxsize=1 << 16)
def value(program: Program, words: tuple[str, ...]) -> Result:
    """``evaluate(program, words)``, remembered: generators ask the same spans of the same
    rule lists again and again."""
    return evaluate(program, words)


def function_words(current: Program, words: Sequence[str]) -> frozenset[str] | None:
    """The words no rule interprets alone, which make a template's anchors (None: none are,
    so any word may anchor)."""
    loose = frozenset(w for w in words if not isinstance(value(current, (w,)), Ok))
    return loose or None


def known_parts(current: Program, lhs: tuple[LhsItem, ...], words: Sequence[str]) -> bool:
    """Whether lhs matches the input and the current rules interpret every bound part."""
    found = bindings(lhs, words)
    if not found:
        return False
    return all(s == e or isinstance(value(current, tuple(words[s:e])), Ok)
               for s, e in found[0].values())


def normal(rule: Rule) -> Rule:
    """Drop ``+ 0`` terms and ``* 1`` scales, so equal rules compare equal."""
    rhs: list[RhsItem] = []
    for item in rule.rhs:
        if isinstance(item, Const) and item.value == 0 and len(rule.rhs) > 1:
            continue
        rhs.append(Call(item.var) if isinstance(item, Call) and item.scale == 1 else item)
    return Rule(rule.lhs, tuple(rhs))


def segmentations(output: tuple[str, ...], values: dict[Var, tuple[str, ...]],
                  words: dict[Var, tuple[str, ...]], most: int = 24,
                  longest: int = 12) -> Iterator[tuple]:
    """Right-hand sides that concatenate to ``output``: sub-values, copies, then tokens."""
    found = 0
    pieces = [(Call(v), val) for v, val in values.items() if val]
    pieces += [(Copy(v), ws) for v, ws in words.items() if ws and ws not in values.values()]
    # need[pos]: the fewest items that cover output[pos:]. A branch that cannot end within
    # `longest` items is cut at once, so the walk never explores the exponentially many dead
    # ends of a long output (the same right-hand sides, in the same order).
    need = [0] * (len(output) + 1)
    for pos in range(len(output) - 1, -1, -1):
        need[pos] = 1 + min([need[pos + 1]] + [need[pos + len(val)] for _, val in pieces
                                                if output[pos:pos + len(val)] == val])

    def go(pos: int, acc: tuple[RhsItem, ...]) -> Iterator[tuple[RhsItem, ...]]:
        nonlocal found
        if found >= most or len(acc) + need[pos] > longest:
            return
        if pos == len(output):
            found += 1
            yield acc
            return
        for item, val in pieces:
            if output[pos:pos + len(val)] == val:
                yield from go(pos + len(val), acc + (item,))
        yield from go(pos + 1, acc + (Token(output[pos]),))

    yield from go(0, ())


def int_shapes(known: list[Var]) -> Iterator[tuple[RhsItem, ...]]:
    """Integer right-hand sides using every variable: each [v] or [v] * ?, plus ? or not."""
    for keep in range(len(known), len(known) - 1, -1):
        for subset in itertools.combinations(known, keep):
            for scaled in itertools.product((False, True), repeat=len(subset)):
                terms: list[RhsItem] = []
                for var, sc in zip(subset, scaled):
                    terms.append(Call(var, Hole(0)) if sc else Call(var))
                for with_const in (False, True):
                    yield _number_holes(tuple(terms) + ((Hole(0),) if with_const else ()))


def _number_holes(rhs: tuple[RhsItem, ...]) -> tuple[RhsItem, ...]:
    out, k = [], 0
    for item in rhs:
        if isinstance(item, Hole):
            out.append(Hole(k))
            k += 1
        elif isinstance(item, Call) and isinstance(item.scale, Hole):
            out.append(Call(item.var, Hole(k)))
            k += 1
        else:
            out.append(item)
    return tuple(out)
