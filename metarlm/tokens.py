"""Program token vocabulary shared by the decoder, the sampler and the kernels' lowering.

A program is written for the model as a flat sequence of ids with words and output tokens
abstracted to per-episode *slots*: ``W0..`` stand for input words and ``T0..`` for output
tokens, so a model learns structure, not vocabulary. Integers are written digit by digit.

    BOS  W3 X1 -> [ X1 ] [ X1 ] ; X1 W0 X2 -> [ X2 ] [ X1 ] ; ... EOS

Inside brackets a variable is a call ``[v]``; a bare variable on a right-hand side is a copy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from metarlm.dsl import Call, Const, Copy, Hole, LhsItem, Program, RhsItem, Rule, Token, Var, Word

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
        rules.append(Rule(tuple(lhs), tuple(rhs)))
    return Program(tuple(rules), algebra)  # type: ignore[arg-type]


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
