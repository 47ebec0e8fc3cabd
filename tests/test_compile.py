"""Lowering: decoder ids and ASTs give the same rows; malformed id rows are INVALID."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import TOKENS, WORDS, programs

from metarlm.exec.compile import (
    INVALID,
    NEEDS_REFERENCE,
    VALID,
    RowCache,
    SymbolTable,
    kernels,
    lower_program,
    lower_programs,
    lower_token_ids,
    slot_map,
    stale_kernels,
)
from metarlm.lang.domain import parse_program
from metarlm.lang.dsl import Call, Const, Copy, Hole, Program, Rule, Token, Var, Word
from metarlm.neural.tokens import (
    ARROW,
    BOS,
    DIGIT0,
    EOS,
    HOLE,
    LBR,
    PAD,
    PLUS,
    RBR,
    SEP,
    STAR,
    TOKEN0,
    VAR0,
    VOCAB_SIZE,
    WORD0,
    decode_program,
    encode_program,
)

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOT_WORDS = ("",) + WORDS  # slot 0 is unused (empty), so slots are not the identity
SLOT_TOKENS = ("",) + TOKENS
X1, U1 = VAR0 + 4, VAR0  # ids of x1 and u1


def token_lowering(ids: list[list[int]], algebra: str,
                   symbols: SymbolTable | None = None) -> tuple:
    symbols = symbols if symbols is not None else SymbolTable()
    width = max(map(len, ids))
    arr = np.array([row + [PAD] * (width - len(row)) for row in ids], dtype=np.int64)
    low = lower_token_ids(arr, slot_map(SLOT_WORDS, symbols), slot_map(SLOT_TOKENS, symbols),
                          algebra)
    return low, symbols


def encode(program: Program) -> list[int]:
    return encode_program(program, {w: i for i, w in enumerate(SLOT_WORDS)},
                          {t: i for i, t in enumerate(SLOT_TOKENS)})


@SETTINGS
@given(st.lists(programs(), min_size=1, max_size=4))
def test_token_lowering_equals_ast_lowering(progs: list[Program]) -> None:
    for algebra in ("seq", "int"):
        group = [p for p in progs if p.algebra == algebra]
        if not group:
            continue
        low, symbols = token_lowering([encode(p) for p in group], algebra)
        for k, program in enumerate(group):
            row, status = lower_program(program, symbols)
            assert low.status[k] == status
            if status == VALID:
                assert low.code[k, : len(row)].tolist() == row


ID_ALPHABET = st.one_of(
    st.sampled_from([SEP, ARROW, LBR, RBR, PLUS, STAR, EOS, PAD, BOS, DIGIT0, DIGIT0 + 7]),
    st.integers(VAR0, VAR0 + 11), st.integers(WORD0, WORD0 + 5), st.integers(TOKEN0, TOKEN0 + 4),
    st.integers(0, VOCAB_SIZE + 3))


@st.composite
def mutated(draw: st.DrawFn, algebra: str) -> list[int]:
    """An encoded program with one id replaced, inserted or deleted."""
    ids = encode(draw(programs(algebra)))
    at = draw(st.integers(1, len(ids) - 1))
    how = draw(st.sampled_from(("replace", "insert", "delete")))
    if how == "delete":
        return ids[:at] + ids[at + 1:]
    return ids[:at] + [draw(ID_ALPHABET)] + ids[at + (how == "replace"):]


@st.composite
def id_rows(draw: st.DrawFn) -> tuple[list[list[int]], str]:
    """Rows of ids, random or near-misses of encoded programs, and their algebra."""
    algebra = draw(st.sampled_from(("seq", "int")))
    row = st.one_of(st.lists(ID_ALPHABET, max_size=16).map(lambda r: [BOS] + r),
                    mutated(algebra))
    return draw(st.lists(row, min_size=1, max_size=6)), algebra


@SETTINGS
@given(id_rows())
def test_random_id_rows_lower_like_their_decoding(case: tuple) -> None:
    rows, algebra = case
    low, symbols = token_lowering(rows, algebra)
    for k, row in enumerate(rows):
        if low.status[k] == INVALID:
            continue
        program = decode_program(row, SLOT_WORDS, SLOT_TOKENS, algebra)
        ast_row, status = lower_program(program, symbols)
        assert status == low.status[k]
        if status == VALID:
            assert low.code[k, : len(ast_row)].tolist() == ast_row


def test_encoded_scan_program_lowers_like_its_ast() -> None:
    program = parse_program("walk -> I_WALK\nx1 and x2 -> [x1] [x2]\nu1 twice -> [u1] u1",
                            "rules")
    words, tokens = ["walk", "and", "twice"], ["I_WALK"]
    ids = encode_program(program, {w: i for i, w in enumerate(words)}, {"I_WALK": 0})
    symbols = SymbolTable()
    low = lower_token_ids(np.array([ids]), slot_map(words, symbols), slot_map(tokens, symbols),
                          "seq")
    row, status = lower_program(program, symbols)
    assert status == VALID and low.status[0] == VALID
    assert low.code[0, : len(row)].tolist() == row


def rule_ids(*body: int) -> list[int]:
    return [BOS, *body, EOS]


@pytest.mark.parametrize("ids, algebra, status", [
    (rule_ids(WORD0 + 1, ARROW, TOKEN0 + 1), "seq", VALID),
    (rule_ids(PAD, WORD0 + 1, BOS, ARROW, TOKEN0 + 1, EOS, STAR), "seq", VALID),
    (rule_ids(SEP, WORD0 + 1, ARROW, SEP, SEP), "seq", VALID),
    (rule_ids(WORD0 + 1, TOKEN0 + 1), "seq", INVALID),  # no arrow
    (rule_ids(ARROW, TOKEN0 + 1), "seq", INVALID),  # empty left-hand side
    (rule_ids(WORD0 + 1, ARROW, LBR, X1, RBR), "seq", INVALID),  # unbound variable
    (rule_ids(X1, X1, ARROW), "seq", INVALID),  # a variable twice on the left
    (rule_ids(X1, ARROW, LBR, X1, RBR, STAR, DIGIT0 + 2), "seq", INVALID),  # scale in seq
    (rule_ids(X1, ARROW, DIGIT0 + 2), "seq", INVALID),  # integer in seq
    (rule_ids(X1, ARROW, X1, PLUS, X1), "seq", INVALID),
    (rule_ids(X1, ARROW, LBR, X1), "seq", INVALID),  # unclosed call
    (rule_ids(WORD0, ARROW, TOKEN0), "seq", INVALID),  # slot 0 is unused ('')
    (rule_ids(WORD0 + 40, ARROW, TOKEN0 + 1), "seq", INVALID),  # slot past the map
    (rule_ids(WORD0 + 1, ARROW, TOKEN0 + 1, ARROW), "seq", INVALID),
    (rule_ids(X1, ARROW, LBR, X1, RBR, PLUS, DIGIT0 + 1, DIGIT0), "int", VALID),
    (rule_ids(X1, ARROW, LBR, X1, RBR, DIGIT0 + 1), "int", INVALID),  # no '+'
    (rule_ids(X1, ARROW, DIGIT0 + 1, PLUS), "int", INVALID),  # trailing '+'
    (rule_ids(X1, ARROW, DIGIT0, DIGIT0 + 5), "int", INVALID),  # leading zero
    (rule_ids(X1, ARROW, TOKEN0 + 1), "int", INVALID),
    (rule_ids(X1, ARROW, X1), "int", INVALID),  # copies are sequence-only
    (rule_ids(U1, ARROW, HOLE), "int", NEEDS_REFERENCE),
    (rule_ids(U1, ARROW, LBR, U1, RBR, STAR, HOLE), "int", NEEDS_REFERENCE),
    (rule_ids(U1, ARROW, LBR, U1, RBR, STAR, HOLE, PLUS, TOKEN0), "int", INVALID),
    ([BOS, WORD0 + 1, ARROW, VOCAB_SIZE + 5, EOS], "seq", INVALID),
    ([BOS, WORD0 + 1, ARROW, -3, EOS], "seq", INVALID),
])
def test_id_rows_status(ids: list[int], algebra: str, status: int) -> None:
    low, _ = token_lowering([ids], algebra)
    assert low.status[0] == status


def test_ids_after_eos_are_ignored() -> None:
    low, symbols = token_lowering([rule_ids(WORD0 + 1, ARROW, TOKEN0 + 1) + [SEP, ARROW]], "seq")
    row, _ = lower_program(Program((Rule((Word(SLOT_WORDS[1]),), (Token(SLOT_TOKENS[1]),)),)),
                           symbols)
    assert low.status[0] == VALID and low.code[0, : len(row)].tolist() == row


def test_symbol_table_shares_ids_between_words_and_tokens() -> None:
    symbols = SymbolTable(["a", "b"])
    assert symbols.ids(["b", "c", "a", "c"]) == [1, 2, 0, 2]
    assert symbols.texts == ["a", "b", "c"] and len(symbols) == 3
    x = Var("x", 1)
    copy = Program((Rule((x, Word("b")), (Copy(x), Token("a"))),))
    row, status = lower_program(copy, symbols)
    assert status == VALID and symbols.intern("a") in row


@pytest.mark.parametrize("program", [
    Program((Rule((Word("a"),), (Call(Var("x", 1)),)),)),  # unbound
    Program((Rule((Var("x", 1), Var("x", 1)), ()),)),  # twice on the left
    Program((Rule((Word("a"),), (Const(3),)),), "seq"),
    Program((Rule((Word("a"),), (Token("A"),)),), "int"),
    Program((Rule((), (Token("A"),)),)),
    Program((Rule((Var("x", 1),), (Call(Var("x", 1), 2),)),), "seq"),
    Program((Rule((Word("a"),), (Hole(-1),)),)),  # its marker would read as a symbol
    Program((Rule((Word("a"),), (Const(1.5),)),), "int"),  # type: ignore[arg-type]
    Program((Rule((Word("a"),), ()),), "bool"),  # type: ignore[arg-type]
])
def test_malformed_asts_are_invalid(program: Program) -> None:
    assert lower_program(program, SymbolTable())[1] == INVALID
    low = lower_programs([program, parse_program("a -> A", "rules")], SymbolTable())
    assert low.status.tolist() == [INVALID, VALID]


def test_parallel_lowering_equals_serial_lowering() -> None:
    rows = [encode(parse_program(f"a -> A\nx{k % 4 + 1} and b -> [x{k % 4 + 1}] B", "rules"))
            for k in range(50)]
    arr = np.array(rows + [[BOS, ARROW, EOS] + [PAD] * (len(rows[0]) - 3)], dtype=np.int64)
    symbols = SymbolTable()
    maps = (slot_map(SLOT_WORDS, symbols), slot_map(SLOT_TOKENS, symbols))
    serial, parallel = lower_token_ids(arr, *maps, "seq"), lower_token_ids(arr, *maps, "seq", 6)
    assert serial.status.tolist() == parallel.status.tolist() == [VALID] * 50 + [INVALID]
    assert (serial.code[:50] == parallel.code[:50]).all()


def test_kernels_compiled_from_other_sources_are_found_stale(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from metarlm.kernels import batch, layout, lower, machine

    kernels()
    modules = (machine, lower, batch)
    assert stale_kernels(modules) == []
    monkeypatch.setattr(layout, "STAMP", layout.STAMP + 1)
    assert stale_kernels(modules) == list(modules)


def _children(parents: list[Program], extra: list[Rule]) -> list[Program]:
    """Sketch-like programs: each parent extended by a shared rule object and by an equal
    copy of it (a new object, the cache's by-value path)."""
    out = []
    for parent, rule in zip(parents, extra):
        out.append(Program(parent.rules + (rule,), parent.algebra))
        out.append(Program(parent.rules + (Rule(rule.lhs, rule.rhs),), parent.algebra))
    return out


@SETTINGS
@given(st.lists(programs("seq"), min_size=1, max_size=4),
       st.lists(programs(), min_size=1, max_size=3), st.integers(1, 40))
def test_row_cache_lowers_like_lower_programs(parents: list[Program], others: list[Program],
                                              limit: int) -> None:
    symbols = SymbolTable()
    cache = RowCache("seq", symbols)
    cache.LIMIT = limit  # small limits make the cache reset between batches
    extra = [r for p in parents + others for r in p.rules]
    batches = [parents, _children(parents, extra), _children(parents, extra[::-1]),
               others + [Program((), "seq")], parents]
    for batch in batches:
        got, want = cache.lower(batch), lower_programs(batch, symbols)
        assert got.status.tolist() == want.status.tolist()
        for k, status in enumerate(want.status):
            if status != INVALID:
                assert (got.code[k] == want.code[k, : got.code.shape[1]]).all()
                assert not want.code[k, got.code.shape[1]:].any()


def test_row_cache_marks_a_malformed_parent_invalid_in_every_child() -> None:
    bad = Rule((Word("a"),), (Call(Var("x", 1)),))  # unbound
    good = parse_program("b -> B", "rules").rules[0]
    cache = RowCache("seq", SymbolTable())
    low = cache.lower([Program((bad, good)), Program((bad, good, good)), Program((good, good))])
    assert low.status.tolist() == [INVALID, INVALID, VALID]
