"""Program token vocabulary shared by the decoder, the sampler and the kernels' lowering.

A program is written for the model as a flat sequence of ids with words and output tokens
abstracted to per-episode *slots*: ``W0..`` stand for input words and ``T0..`` for output
tokens, so a model learns structure, not vocabulary. Integers are written digit by digit.

    BOS  W3 X1 -> [ X1 ] [ X1 ] ; X1 W0 X2 -> [ X2 ] [ X1 ] ; ... EOS

Inside brackets a variable is a call ``[v]``; a bare variable on a right-hand side is a copy.

An episode (support examples, optional background rules) is written for the encoder in the
same vocabulary, extended by a few encoder-only symbols (``encode_episode``); an
``Abstraction`` fixes which word and token each slot stands for in one episode.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from metarlm.lang.demo import Example
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

if TYPE_CHECKING:
    import numpy as np

MAX_VARS = 4  # per kind: u1..u4, x1..x4, y1..y4
N_WORD_SLOTS = 48
N_TOKEN_SLOTS = 32

SPECIALS = ("<pad>", "<bos>", "<eos>", ";", "->", "[", "]", "?", "+", "*")
PAD, BOS, EOS, SEP, ARROW, LBR, RBR, HOLE, PLUS, STAR = range(len(SPECIALS))
DIGIT0 = len(SPECIALS)  # ids DIGIT0..DIGIT0+9 are the digits 0..9
VAR0 = DIGIT0 + 10  # then u1..u4, x1..x4, y1..y4
WORD0 = VAR0 + 3 * MAX_VARS
TOKEN0 = WORD0 + N_WORD_SLOTS
VOCAB_SIZE = TOKEN0 + N_TOKEN_SLOTS

PROGRAM_VOCAB: tuple[str, ...] = (
    SPECIALS
    + tuple(str(d) for d in range(10))
    + tuple(f"{k}{i}" for k in "uxy" for i in range(1, MAX_VARS + 1))
    + tuple(f"W{i}" for i in range(N_WORD_SLOTS))
    + tuple(f"T{i}" for i in range(N_TOKEN_SLOTS))
)
assert len(PROGRAM_VOCAB) == VOCAB_SIZE


def var_id(var: Var) -> int:
    """The id of a variable (ValueError past MAX_VARS)."""
    if not 1 <= var.index <= MAX_VARS:
        raise ValueError(f"variable {var.name} is past the model's {MAX_VARS} per kind")
    return VAR0 + "uxy".index(var.kind) * MAX_VARS + var.index - 1


def id_var(i: int) -> Var:
    """The variable of an id in [VAR0, WORD0)."""
    k, n = divmod(i - VAR0, MAX_VARS)
    return Var("uxy"[k], n + 1)  # type: ignore[arg-type]


def _int_ids(value: int) -> list[int]:
    return [DIGIT0 + int(d) for d in str(value)]


def encode_program(program: Program, word_slot: Mapping[str, int],
                   token_slot: Mapping[str, int]) -> list[int]:
    """Program → ids (BOS … EOS); KeyError if a word or token has no slot."""
    out = [BOS]
    for r, rule in enumerate(program.rules):
        if r:
            out.append(SEP)
        for item in rule.lhs:
            out.append(WORD0 + word_slot[item.text] if isinstance(item, Word) else var_id(item))
        out.append(ARROW)
        for k, rhs in enumerate(rule.rhs):
            if k and program.algebra == "int":
                out.append(PLUS)
            out.extend(_rhs_ids(rhs, token_slot))
    out.append(EOS)
    return out


def _rhs_ids(item: RhsItem, token_slot: Mapping[str, int]) -> list[int]:
    if isinstance(item, Token):
        return [TOKEN0 + token_slot[item.text]]
    if isinstance(item, Hole):
        return [HOLE]
    if isinstance(item, Copy):
        return [var_id(item.var)]
    if isinstance(item, Const):
        return _int_ids(item.value)
    assert isinstance(item, Call)
    ids = [LBR, var_id(item.var), RBR]
    if isinstance(item.scale, Hole):
        return ids + [STAR, HOLE]
    return ids if item.scale == 1 else ids + [STAR] + _int_ids(item.scale)


def decode_program(ids: Sequence[int], words: Sequence[str], tokens: Sequence[str],
                   algebra: str = "seq") -> Program:
    """Ids → Program, slot i meaning ``words[i]``/``tokens[i]``; ValueError if malformed."""
    body = [int(i) for i in ids if int(i) not in (PAD, BOS)]
    if EOS in body:
        body = body[: body.index(EOS)]
    rules: list[Rule] = []
    holes = 0
    chunks: list[list[int]] = [[]]
    for i in body:
        if i == SEP:
            chunks.append([])
        else:
            chunks[-1].append(i)
    for chunk in chunks:
        if not chunk:
            continue
        if ARROW not in chunk:
            raise ValueError("rule without '->'")
        cut = chunk.index(ARROW)
        lhs: list[LhsItem] = []
        for i in chunk[:cut]:
            if WORD0 <= i < TOKEN0:
                lhs.append(Word(words[i - WORD0]))
            elif VAR0 <= i < WORD0:
                lhs.append(id_var(i))
            else:
                raise ValueError(f"{PROGRAM_VOCAB[i]!r} on a left-hand side")
        rhs, holes = _decode_rhs(chunk[cut + 1:], tokens, algebra, holes)
        if not lhs:
            raise ValueError("empty left-hand side")
        _check_binding(lhs, rhs)
        rules.append(Rule(tuple(lhs), tuple(rhs)))
    return Program(tuple(rules), algebra)  # type: ignore[arg-type]


def _check_binding(lhs: list[LhsItem], rhs: list[RhsItem]) -> None:
    """ValueError for a variable twice on the left or unbound on the right (as the parser)."""
    bound = [it for it in lhs if isinstance(it, Var)]
    if len(set(bound)) != len(bound):
        raise ValueError("a variable appears twice on a left-hand side")
    for item in rhs:
        var = getattr(item, "var", None)
        if var is not None and var not in bound:
            raise ValueError(f"variable {var.name} is not bound on the left-hand side")


def _decode_rhs(ids: list[int], tokens: Sequence[str], algebra: str,
                holes: int) -> tuple[list[RhsItem], int]:
    out: list[RhsItem] = []
    k = 0
    while k < len(ids):
        i = ids[k]
        if i == PLUS and algebra == "int":
            k += 1
            continue
        if i == LBR:
            if k + 2 >= len(ids) or ids[k + 2] != RBR or not VAR0 <= ids[k + 1] < WORD0:
                raise ValueError("malformed call")
            var, k = id_var(ids[k + 1]), k + 3
            scale: int | Hole = 1
            if k < len(ids) and ids[k] == STAR:
                if k + 1 < len(ids) and ids[k + 1] == HOLE:
                    scale, holes, k = Hole(holes), holes + 1, k + 2
                else:
                    scale, k = _read_int(ids, k + 1)
            out.append(Call(var, scale))
        elif i == HOLE:
            out.append(Hole(holes))
            holes, k = holes + 1, k + 1
        elif DIGIT0 <= i < DIGIT0 + 10:
            value, k = _read_int(ids, k)
            out.append(Const(value))
        elif VAR0 <= i < WORD0:
            out.append(Copy(id_var(i)))
            k += 1
        elif TOKEN0 <= i < VOCAB_SIZE:
            out.append(Token(tokens[i - TOKEN0]))
            k += 1
        else:
            raise ValueError(f"{PROGRAM_VOCAB[i]!r} on a right-hand side")
    return out, holes


def _read_int(ids: list[int], k: int) -> tuple[int, int]:
    start = k
    while k < len(ids) and DIGIT0 <= ids[k] < DIGIT0 + 10:
        k += 1
    if k == start:
        raise ValueError("expected an integer")
    return int("".join(str(i - DIGIT0) for i in ids[start:k])), k


# --- Episodes: the encoder's input --------------------------------------------------------
#
# The encoder reads a whole episode: an algebra mark, alias pairs, the background program
# (if any) and the support examples, all with the episode's slots. Its symbols share one
# vocabulary with the decoder; the encoder-only ones come after the program vocabulary so
# that the ids above never move.
#
#     <seq> <alias> W5 T2 <bg> W3 -> T1 ; ... </bg> W3 W0 => T1 T1 | W3 => T1 | <eos>
#
# ``<alias> Wi Tj`` says that word slot i and token slot j are the same string (a copy and a
# literal token then give the same output, and the model must be able to see that). An
# output string that is an input word is written with its word slot, any other with its token
# slot; integers are written digit by digit, with ``-`` before a negative one.

ENCODER_SPECIALS = ("<seq>", "<int>", "<alias>", "<bg>", "</bg>", "=>", "|", "-")
SEQ_MARK, INT_MARK, ALIAS, BG_OPEN, BG_CLOSE, IN_OUT, EX_END, MINUS = range(
    VOCAB_SIZE, VOCAB_SIZE + len(ENCODER_SPECIALS))
ENCODER_VOCAB_SIZE = VOCAB_SIZE + len(ENCODER_SPECIALS)
VOCAB: tuple[str, ...] = PROGRAM_VOCAB + ENCODER_SPECIALS
MAX_EPISODE_LEN = 512
assert len(VOCAB) == ENCODER_VOCAB_SIZE


@dataclass(frozen=True)
class Abstraction:
    """Per-episode renaming: ``words[i]``/``tokens[i]`` is the string of slot i ('' if unused)."""

    words: tuple[str, ...]
    tokens: tuple[str, ...]

    @cached_property
    def word_slot(self) -> dict[str, int]:
        """Word → its slot."""
        return {w: i for i, w in enumerate(self.words) if w}

    @cached_property
    def token_slot(self) -> dict[str, int]:
        """Output token → its slot."""
        return {t: i for i, t in enumerate(self.tokens) if t}

    def word_ids(self) -> list[int]:
        """The program ids of the word slots in use (ascending)."""
        return sorted(WORD0 + i for i in self.word_slot.values())

    def token_ids(self) -> list[int]:
        """The program ids of the token slots in use (ascending)."""
        return sorted(TOKEN0 + i for i in self.token_slot.values())

    def decode(self, ids: Sequence[int], algebra: str = "seq") -> Program:
        """Ids → Program under this abstraction; ValueError if malformed or a slot is unused."""
        used = set(self.word_ids()) | set(self.token_ids())
        for i in ids:
            if WORD0 <= int(i) < VOCAB_SIZE and int(i) not in used:
                raise ValueError(f"slot {PROGRAM_VOCAB[int(i)]} is not used in this episode")
        return decode_program(ids, self.words, self.tokens, algebra)


def _choose(rng: random.Random | np.random.Generator, n: int, k: int) -> list[int]:
    """k distinct numbers out of range(n), in random order, from either kind of generator."""
    if isinstance(rng, random.Random):
        return rng.sample(range(n), k)
    return [int(i) for i in rng.choice(n, size=k, replace=False)]


def make_abstraction(words: Iterable[str], tokens: Iterable[str],
                     rng: random.Random | np.random.Generator) -> Abstraction:
    """Give each distinct word and token a random slot; ValueError if there are too many."""
    ws, ts = _fitting(words, tokens)  # sorted: the result depends on rng only
    word_of = [""] * N_WORD_SLOTS
    for w, slot in zip(ws, _choose(rng, N_WORD_SLOTS, len(ws))):
        word_of[slot] = w
    token_of = [""] * N_TOKEN_SLOTS
    for t, slot in zip(ts, _choose(rng, N_TOKEN_SLOTS, len(ts))):
        token_of[slot] = t
    return Abstraction(tuple(word_of), tuple(token_of))


def fixed_abstraction(words: Iterable[str], tokens: Iterable[str]) -> Abstraction:
    """Slots that do not depend on the episode: each string goes to the slot its CRC picks
    (the next free one on a collision); ValueError if there are too many.

    This is training *without* per-episode abstraction: a word keeps its slot everywhere, so
    a model can learn what a word means instead of reading it off the support set.
    """
    ws, ts = _fitting(words, tokens)
    return Abstraction(_hashed(ws, N_WORD_SLOTS), _hashed(ts, N_TOKEN_SLOTS))


def _fitting(words: Iterable[str], tokens: Iterable[str]) -> tuple[list[str], list[str]]:
    """The distinct words and tokens, sorted; ValueError if the slots cannot hold them."""
    ws, ts = sorted(set(words)), sorted(set(tokens))
    if len(ws) > N_WORD_SLOTS or len(ts) > N_TOKEN_SLOTS:
        raise ValueError(f"{len(ws)} words and {len(ts)} tokens; the model has "
                         f"{N_WORD_SLOTS} word and {N_TOKEN_SLOTS} token slots")
    return ws, ts


def _hashed(strings: list[str], n: int) -> tuple[str, ...]:
    """Strings placed by CRC-32 with linear probing (in sorted order, so deterministic)."""
    table = [""] * n
    for s in strings:
        k = zlib.crc32(s.encode()) % n
        while table[k]:
            k = (k + 1) % n
        table[k] = s
    return tuple(table)


SYMBOL_MODES = ("episode", "fixed")


def abstraction_for(mode: str, words: Iterable[str], tokens: Iterable[str],
                    rng: random.Random | np.random.Generator) -> Abstraction:
    """``episode``: random slots (meta-learning); ``fixed``: one slot per string everywhere."""
    if mode == "fixed":
        return fixed_abstraction(words, tokens)
    if mode != "episode":
        raise ValueError(f"unknown symbol mode {mode!r}; choose from {', '.join(SYMBOL_MODES)}")
    return make_abstraction(words, tokens, rng)


def episode_symbols(examples: Iterable[Example],
                    programs: Iterable[Program | None] = ()) -> tuple[list[str], list[str]]:
    """The words and tokens an abstraction must cover: programs' literals and the examples'.

    Words are the programs' left-hand-side words and the inputs' words; tokens are the
    programs' output tokens and every output string that is not a word (a copied word needs
    no token slot).
    """
    words: set[str] = set()
    tokens: set[str] = set()
    for program in programs:
        for rule in program.rules if program is not None else ():
            words.update(it.text for it in rule.lhs if isinstance(it, Word))
            tokens.update(it.text for it in rule.rhs if isinstance(it, Token))
    examples = list(examples)
    for ex in examples:
        words.update(ex.input)
    for ex in examples:
        if not isinstance(ex.output, int):
            tokens.update(t for t in ex.output if t not in words)
    return sorted(words), sorted(tokens)


def encode_target(program: Program, abstraction: Abstraction) -> list[int]:
    """The decoder's target: ``encode_program`` of the canonical order (BOS … EOS)."""
    program = canonical_order(program, abstraction)
    return encode_program(program, abstraction.word_slot, abstraction.token_slot)


def canonical_order(program: Program, abstraction: Abstraction) -> Program:
    """The same program with each run of one-word rules sorted by word slot.

    Rules whose left-hand side is one distinct word match disjoint spans, so their order never
    changes what the program means; sorting them removes an order the model could not guess
    from the support set (a permutation of n primitives costs log n! nats of loss otherwise).
    """
    rules, run = [], []

    def flush() -> None:
        words = [r.lhs[0].text for r in run]  # type: ignore[union-attr]
        if len(set(words)) == len(words):
            run.sort(key=lambda r: abstraction.word_slot.get(r.lhs[0].text, -1))  # type: ignore[union-attr]
        rules.extend(run)
        run.clear()

    for rule in program.rules:
        if len(rule.lhs) == 1 and isinstance(rule.lhs[0], Word):
            run.append(rule)
        else:
            flush()
            rules.append(rule)
    flush()
    return Program(tuple(rules), program.algebra)


def _example_ids(example: Example, abstraction: Abstraction) -> list[int]:
    """``input => output |`` with slots; KeyError if a string has no slot."""
    ids = [WORD0 + abstraction.word_slot[w] for w in example.input] + [IN_OUT]
    out = example.output
    if isinstance(out, int):
        ids += ([MINUS] if out < 0 else []) + _int_ids(abs(out))
    else:
        for t in out:
            slot = abstraction.word_slot.get(t)
            ids.append(WORD0 + slot if slot is not None else TOKEN0 + abstraction.token_slot[t])
    return ids + [EX_END]


def _header_ids(abstraction: Abstraction, algebra: str, background: Program | None) -> list[int]:
    """Algebra mark, alias pairs and the background program."""
    ids = [INT_MARK if algebra == "int" else SEQ_MARK]
    for t, j in sorted(abstraction.token_slot.items(), key=lambda kv: kv[1]):
        i = abstraction.word_slot.get(t)
        if i is not None:
            ids += [ALIAS, WORD0 + i, TOKEN0 + j]
    if background is not None and background.rules:
        body = encode_program(background, abstraction.word_slot, abstraction.token_slot)
        ids += [BG_OPEN] + body[1:-1] + [BG_CLOSE]
    return ids


def encode_episode(support: Sequence[Example], abstraction: Abstraction, algebra: str = "seq",
                   background: Program | None = None,
                   max_len: int = MAX_EPISODE_LEN) -> list[int]:
    """The encoder's input for a support set (ends with EOS, at most ``max_len`` ids).

    Too long: whole examples are dropped from the end (the first ones are kept, so put the
    most informative first); ValueError if not even the header, the background and the first
    example fit. KeyError if a word or token has no slot.
    """
    ids = _header_ids(abstraction, algebra, background)
    for k, example in enumerate(support):
        more = _example_ids(example, abstraction)
        if len(ids) + len(more) + 1 > max_len:
            if k == 0:
                raise ValueError(f"the background and the first example take "
                                 f"{len(ids) + len(more) + 1} ids, more than max_len={max_len}")
            break
        ids += more
    return ids + [EOS]


@dataclass(frozen=True)
class EncodedEpisode:
    """An episode as the model meets it: the support it is shown (after truncation), the
    abstraction, the encoder ids and the target ids."""

    episode: Any  # a metarlm.neural.sample.Episode (support, target, background, algebra, domain)
    support: tuple[Example, ...]
    abstraction: Abstraction
    src: tuple[int, ...]
    tgt: tuple[int, ...]


def encode_pair(episode: Any, rng: random.Random | np.random.Generator,
                max_src: int = MAX_EPISODE_LEN, max_tgt: int = 256,
                first_only: bool = False, symbols: str = "episode") -> EncodedEpisode | None:
    """Abstract an episode at random and encode source and target; None if it does not fit
    (too many symbols, target longer than ``max_tgt``, no example within ``max_src``).

    ``first_only`` shows only the first support example (the one-shot case); ``symbols`` is
    a mode of ``abstraction_for``. Whether an episode fits does not depend on the slots drawn.
    """
    support = tuple(episode.support[:1]) if first_only else tuple(episode.support)
    words, tokens = episode_symbols(support, [episode.target, episode.background])
    try:
        abstraction = abstraction_for(symbols, words, tokens, rng)
        src = encode_episode(support, abstraction, episode.algebra, episode.background, max_src)
        tgt = encode_target(episode.target, abstraction)
    except (ValueError, KeyError):
        return None
    if len(tgt) > max_tgt or not support:
        return None
    shown = support[: src.count(EX_END)]  # examples past max_src were dropped
    return EncodedEpisode(episode, shown, abstraction, tuple(src), tuple(tgt))


def render_ids(ids: Sequence[int]) -> str:
    """Ids as readable symbols (for logs and debugging)."""
    return " ".join(VOCAB[int(i)] if 0 <= int(i) < ENCODER_VOCAB_SIZE else f"<{int(i)}>"
                    for i in ids)
