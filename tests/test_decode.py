"""Grammar-constrained decoding: masks agree with Lark, samples parse and bind their variables."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metarlm.lang.domain import Domain, load_domain
from metarlm.lang.dsl import Call, Copy, Program, print_program
from metarlm.neural import tokens as tk
from metarlm.neural.decode import (
    Candidate,
    DecodeState,
    ProgramConstraint,
    dedupe,
    greedy_program,
    sample_programs,
)

TINY = """\
// tiny.lark: a closed toy domain with x variables only.
// @max_rules: 3
%import .core (seq_program, WORD, TOKEN, UVAR, XVAR, YVAR, BLANK, COMMENT)
%ignore BLANK
%ignore COMMENT
start: seq_program
%override WORD: "dax" | "wif" | "lug"
%override TOKEN: "RED" | "BLUE"
%override UVAR: /(?!)u/
%override YVAR: /(?!)y/
"""

# Words and tokens an episode might bring, tricky ones included: some lex as variables or
# punctuation, some are outside a closed vocabulary.
WORD_POOL = ("jump", "twice", "and", "dax", "wif", "lug", "one", "hundred", "x", "+", "(",
             "u1", "x2", "y10", "zup", "5", "a;b", "?", "[", "#c", "-", "walk")
TOKEN_POOL = ("I_JUMP", "I_WALK", "RED", "BLUE", "(", ")", "x", "u2", "?", "]", "5", "Q")
FIXTURES = [HealthCheck.function_scoped_fixture]  # module fixtures, not reset per example
_SHORT = {tk.ARROW: "ARROW", tk.SEP: "SEP", tk.LBR: "LSQB", tk.RBR: "RSQB", tk.HOLE: "HOLE",
          tk.PLUS: "PLUS", tk.STAR: "STAR"}


@pytest.fixture(scope="module")
def tiny_domain(tmp_path_factory: pytest.TempPathFactory) -> Domain:
    path = Path(tmp_path_factory.mktemp("grammar")) / "tiny.lark"
    path.write_text(TINY, encoding="utf-8")
    return load_domain(path)


def _domains(tiny: Domain) -> list[Domain]:
    return [load_domain(n) for n in ("scan", "miniscan", "numbers", "code", "rules")] + [tiny]


def _short(name: str) -> str:
    return str(name).split("__")[-1].lstrip("_")


def _symbols(ids: list[int], words: tuple[str, ...], tokens: tuple[str, ...]
             ) -> tuple[str, list[str]]:
    """Program text of ids (after BOS) and the terminal each symbol must lex as."""
    text, kinds = "", []
    prev_digit = False
    for i in ids:
        digit = tk.DIGIT0 <= i < tk.DIGIT0 + 10
        if digit and prev_digit:
            text += str(i - tk.DIGIT0)  # one integer, one INT
            prev_digit = True
            continue
        if tk.WORD0 <= i < tk.TOKEN0:
            sym, kind = words[i - tk.WORD0], "WORD"
        elif tk.TOKEN0 <= i < tk.VOCAB_SIZE:
            sym, kind = tokens[i - tk.TOKEN0], "TOKEN"
        elif tk.VAR0 <= i < tk.WORD0:
            var = tk.id_var(i)
            sym, kind = var.name, var.kind.upper() + "VAR"
        elif digit:
            sym, kind = str(i - tk.DIGIT0), "INT"
        else:
            sym, kind = tk.PROGRAM_VOCAB[i], _SHORT[i]
        text += " " + sym
        kinds.append(kind)
        prev_digit = digit
    return text, kinds


def _check_allowed_with_lark(c: ProgramConstraint, prefix: list[int], state: DecodeState
                             ) -> None:
    """Every allowed id lexes as the intended terminal and keeps the text parseable."""
    parser = c.domain.parser
    for i in c.allowed(state):
        if i == tk.EOS:
            parser.parse(_symbols(prefix, c.words, c.tokens)[0])
            continue
        text, kinds = _symbols(prefix + [i], c.words, c.tokens)
        fed = parser.parse_interactive(text).exhaust_lexer()
        assert [_short(t.type) for t in fed] == kinds, (text, tk.PROGRAM_VOCAB[i])


def _random_program(c: ProgramConstraint, rng: np.random.Generator,
                    check_masks: bool = False) -> list[int]:
    """A uniformly random walk through the constraint's masks (BOS … EOS)."""
    state, ids = c.start(), [tk.BOS]
    while state.stack >= 0:
        allowed = c.allowed(state)
        assert allowed, f"dead end after {tk.render_ids(ids)}"
        if check_masks:
            _check_allowed_with_lark(c, ids[1:], state)
        i = int(rng.choice(allowed))
        ids.append(i)
        state = c.advance(state, i)
    return ids


def _assert_well_formed(ids: tuple[int, ...] | list[int], c: ProgramConstraint) -> Program:
    """The program decodes, parses back to itself, binds only its LHS variables, fits."""
    assert ids[0] == tk.BOS and ids[-1] == tk.EOS and tk.EOS not in ids[:-1]
    assert len(ids) <= c.max_len
    program = tk.decode_program(ids, c.words, c.tokens, c.domain.algebra)
    assert 1 <= len(program) <= c.max_rules
    assert c.domain.parse(print_program(program)) == program
    for rule in program.rules:
        lhs_vars = rule.variables()
        assert len(set(lhs_vars)) == len(lhs_vars)
        used = {it.var for it in rule.rhs if isinstance(it, (Call, Copy))}
        assert used <= set(lhs_vars)
    return program


def _episode(draw: st.DrawFn) -> tuple[tuple[str, ...], tuple[str, ...]]:
    words = draw(st.lists(st.sampled_from(WORD_POOL), min_size=1, max_size=8, unique=True))
    tokens = draw(st.lists(st.sampled_from(TOKEN_POOL), max_size=5, unique=True))
    # Unused slots ('') sit between used ones, as in a random abstraction.
    return tuple(w if k % 3 else "" for k, w in enumerate(["", *words])), tuple(tokens)


@st.composite
def episodes(draw: st.DrawFn) -> tuple[int, tuple[str, ...], tuple[str, ...], int, int]:
    words, tokens = _episode(draw)
    return (draw(st.integers(0, 5)), words, tokens, draw(st.integers(6, 40)),
            draw(st.integers(0, 2**32 - 1)))


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURES)
@given(episodes())
def test_every_allowed_id_lexes_and_parses(tiny_domain: Domain,
                                           ep: tuple[int, tuple[str, ...], tuple[str, ...],
                                                     int, int]) -> None:
    which, words, tokens, max_len, seed = ep
    domain = _domains(tiny_domain)[which]
    c = ProgramConstraint(domain, words, tokens, max_rules=3, max_len=max_len)
    ids = _random_program(c, np.random.default_rng(seed), check_masks=True)
    _assert_well_formed(ids, c)


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURES)
@given(episodes())
def test_random_walks_are_well_formed(tiny_domain: Domain,
                                      ep: tuple[int, tuple[str, ...], tuple[str, ...],
                                                int, int]) -> None:
    which, words, tokens, max_len, seed = ep
    domain = _domains(tiny_domain)[which]
    words = words + ("jump", "dax", "one")  # at least one word every domain takes
    c = ProgramConstraint(domain, words, tokens, max_len=max_len + 20)
    rng = np.random.default_rng(seed)
    for _ in range(10):
        _assert_well_formed(_random_program(c, rng), c)


def _ids(c: ProgramConstraint, text: str) -> list[int]:
    """Program ids of space-separated vocabulary symbols, advanced through the constraint."""
    return [tk.PROGRAM_VOCAB.index(sym) for sym in text.split()]


def _state_after(c: ProgramConstraint, text: str) -> DecodeState:
    state = c.start()
    for i in _ids(c, text):
        assert c.mask(state)[i], (text, tk.PROGRAM_VOCAB[i])
        state = c.advance(state, i)
    return state


def _allowed_symbols(c: ProgramConstraint, text: str) -> set[str]:
    return {tk.PROGRAM_VOCAB[i] for i in c.allowed(_state_after(c, text))}


def test_slots_outside_the_vocabulary_or_lexing_otherwise_are_masked() -> None:
    scan = ProgramConstraint(load_domain("scan"), ("jump", "dax", "", "u1"), ("I_JUMP", "RED"))
    start = _allowed_symbols(scan, "")
    assert "W0" in start and not {"W1", "W2", "W3"} & start
    assert _allowed_symbols(scan, "W0 ->") >= {"T0", "<eos>", "?", ";"}
    assert "T1" not in _allowed_symbols(scan, "W0 ->")
    mini = ProgramConstraint(load_domain("miniscan"), ("dax", "x2", "a;b", "wif"), ("RED",))
    assert {"W0", "W3"} <= _allowed_symbols(mini, "") and "W1" not in _allowed_symbols(mini, "")


def test_variables_bind_once_on_the_left_and_only_bound_ones_on_the_right() -> None:
    c = ProgramConstraint(load_domain("rules"), ("a",), ("A",))
    after_lhs = _allowed_symbols(c, "x1 W0 u2")
    assert {"x1", "u2"}.isdisjoint(after_lhs) and {"x2", "u1", "y1"} <= after_lhs
    rhs = _allowed_symbols(c, "x1 W0 u2 ->")
    assert {"x1", "u2", "[", "T0"} <= rhs and not {"x2", "u1", "y1"} & rhs
    assert _allowed_symbols(c, "x1 W0 u2 -> [") == {"x1", "u2"}
    assert "[" not in _allowed_symbols(c, "W0 ->")  # nothing bound, nothing to call


def test_integers_have_no_leading_zero_and_a_digit_limit() -> None:
    c = ProgramConstraint(load_domain("numbers"), ("one",), (), max_digits=3)
    assert not {str(d) for d in range(10)} & _allowed_symbols(c, "W0 -> 0")
    assert "7" in _allowed_symbols(c, "W0 -> 1 2")
    assert not {str(d) for d in range(10)} & _allowed_symbols(c, "W0 -> 1 2 3")
    assert "+" in _allowed_symbols(c, "W0 -> 1 2 3")
    assert not any(tk.TOKEN0 <= i for i in c.allowed(_state_after(c, "W0 ->")))


def test_canonical_form_no_empty_rules_or_programs() -> None:
    c = ProgramConstraint(load_domain("rules"), ("a",), ("A",))
    assert not {"<eos>", ";"} & _allowed_symbols(c, "")
    assert not {"<eos>", ";"} & _allowed_symbols(c, "W0 -> ;")
    assert {"<eos>", ";"} <= _allowed_symbols(c, "W0 ->")


def test_rule_and_length_limits_are_kept() -> None:
    c = ProgramConstraint(load_domain("rules"), ("a",), ("A",), max_rules=2, max_len=20)
    assert ";" not in _allowed_symbols(c, "W0 -> ; W0 ->")
    assert _allowed_symbols(c, "W0 -> T0 T0 T0 T0 T0 T0 T0 T0 T0 T0 T0 T0 T0 T0 T0 T0") == {
        "<eos>"}
    # Room for "]" and EOS only after this call's variable: no new call may open.
    assert "[" in _allowed_symbols(c, "x1 -> T0 T0 T0 T0 T0 T0 T0 T0 T0 T0 T0 T0 T0")
    assert "[" not in _allowed_symbols(c, "x1 -> T0 T0 T0 T0 T0 T0 T0 T0 T0 T0 T0 T0 T0 T0")
    with pytest.raises(ValueError):
        ProgramConstraint(load_domain("rules"), ("a",), ("A",), max_len=3)
    ProgramConstraint(load_domain("rules"), ("a",), ("A",), max_len=4)  # "W0 ->" fits


def test_min_len_holds_back_eos_while_something_else_fits() -> None:
    c = ProgramConstraint(load_domain("scan"), ("jump",), ("I_JUMP",), max_len=30, min_len=30)
    rng = np.random.default_rng(0)
    assert all(len(_random_program(c, rng)) == 30 for _ in range(20))


def test_user_grammar_variable_kinds_follow_what_lexes(tiny_domain: Domain) -> None:
    c = ProgramConstraint(tiny_domain, ("dax", "zip", "x1", "wif"), ("RED", "GREEN"))
    assert _allowed_symbols(c, "") == {"x1", "x2", "x3", "x4", "W0", "W3"}
    assert _allowed_symbols(c, "W0 ->") & {f"T{k}" for k in range(2)} == {"T0"}


def test_for_abstraction_reads_the_slots() -> None:
    slots = SimpleNamespace(words=("", "jump"), tokens=("I_JUMP",))
    c = ProgramConstraint.for_abstraction(load_domain("scan"), slots, max_len=9)
    assert (c.words, c.tokens, c.max_len) == (("", "jump"), ("I_JUMP",), 9)
    assert "W1" in _allowed_symbols(c, "") and "W0" not in _allowed_symbols(c, "")


def test_dedupe_keeps_first_order_and_counts() -> None:
    a, b = Candidate((1, 2), -1.0), Candidate((1, 3), -2.0)
    assert dedupe([a, b, a, a]) == [a, b]
    assert [c.count for c in dedupe([a, b, a, a])] == [3, 1]


# --- sampling from a small random network --------------------------------------------------


@pytest.fixture(scope="module")
def model() -> Iterator[Any]:
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model: threads only add synchronisation
    yield _tiny_bart(tk.VOCAB_SIZE + 8)
    torch.set_num_threads(threads)


def _tiny_bart(vocab_size: int) -> Any:
    """A randomly initialised BART, a few thousand parameters; ids past the program
    vocabulary stand for encoder-only symbols."""
    torch = pytest.importorskip("torch")
    from transformers import BartConfig, BartForConditionalGeneration

    cfg = BartConfig(vocab_size=vocab_size, d_model=32, encoder_layers=1,
                     decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2,
                     encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=128,
                     pad_token_id=tk.PAD, bos_token_id=tk.BOS, eos_token_id=tk.EOS,
                     decoder_start_token_id=tk.BOS, forced_eos_token_id=None)
    torch.manual_seed(0)
    return BartForConditionalGeneration(cfg)


ENCODER_IDS = [tk.WORD0, tk.WORD0 + 1, tk.TOKEN0, tk.VOCAB_SIZE + 2, tk.EOS]


def _constraints(tiny: Domain) -> list[ProgramConstraint]:
    return [ProgramConstraint(load_domain("scan"), ("jump", "twice"), ("I_JUMP",), max_len=30),
            ProgramConstraint(load_domain("numbers"), ("one", "hundred"), (), max_len=30),
            ProgramConstraint(tiny, ("dax", "", "wif"), ("RED", "BLUE"), max_len=30)]


@settings(max_examples=4, deadline=None, suppress_health_check=FIXTURES)
@given(seed=st.integers(0, 2**31 - 1), which=st.integers(0, 2))
def test_samples_parse_and_repeat_with_the_seed(model: Any, tiny_domain: Domain, seed: int,
                                                which: int) -> None:
    c = _constraints(tiny_domain)[which]
    first = sample_programs(model, ENCODER_IDS, c, 10, seed=seed, batch_size=4)
    assert len(first) == 10
    for cand in first:
        _assert_well_formed(cand.ids, c)
        assert cand.logprob <= 0 and math.isfinite(cand.logprob)
    again = sample_programs(model, ENCODER_IDS, c, 10, seed=seed, batch_size=4)
    assert [x.ids for x in again] == [x.ids for x in first]
    uncached = sample_programs(model, ENCODER_IDS, c, 10, seed=seed, batch_size=4,
                               use_cache=False)
    assert [x.ids for x in uncached] == [x.ids for x in first]
    assert np.allclose([x.logprob for x in uncached], [x.logprob for x in first], atol=1e-4)


def test_seeds_differ_and_model_mode_is_restored(model: Any, tiny_domain: Domain) -> None:
    c = _constraints(tiny_domain)[0]
    model.train()
    a = sample_programs(model, ENCODER_IDS, c, 8, seed=1)
    assert model.training
    model.eval()
    b = sample_programs(model, ENCODER_IDS, c, 8, seed=2)
    assert [x.ids for x in a] != [x.ids for x in b]


def _teacher_forced_logprob(model: Any, ids: tuple[int, ...], c: ProgramConstraint) -> float:
    """Sum of log-probabilities of ids under the masked model, computed in one pass."""
    import torch

    with torch.inference_mode():
        logits = model(input_ids=torch.tensor([ENCODER_IDS]),
                       decoder_input_ids=torch.tensor([ids[:-1]])).logits[0].float()
    total, state = 0.0, c.start()
    for t, i in enumerate(ids[1:]):
        mask = torch.zeros(logits.shape[-1], dtype=torch.bool)
        mask[: tk.VOCAB_SIZE] = torch.tensor(c.mask(state))
        logp = torch.log_softmax(logits[t].masked_fill(~mask, float("-inf")), dim=-1)
        total += float(logp[i])
        state = c.advance(state, i)
    return total


def test_logprob_is_the_masked_model_probability(model: Any, tiny_domain: Domain) -> None:
    model.eval()
    for c in _constraints(tiny_domain):
        for cand in sample_programs(model, ENCODER_IDS, c, 4, seed=7, temperature=0.7):
            assert cand.logprob == pytest.approx(_teacher_forced_logprob(model, cand.ids, c),
                                                 abs=1e-3)


def test_greedy_takes_the_argmax(model: Any, tiny_domain: Domain) -> None:
    import torch

    model.eval()
    c = _constraints(tiny_domain)[0]
    best = greedy_program(model, ENCODER_IDS, c)
    assert greedy_program(model, ENCODER_IDS, c, use_cache=False).ids == best.ids
    _assert_well_formed(best.ids, c)
    with torch.inference_mode():
        logits = model(input_ids=torch.tensor([ENCODER_IDS]),
                       decoder_input_ids=torch.tensor([best.ids[:-1]])).logits[0]
    state = c.start()
    for t, i in enumerate(best.ids[1:]):
        masked = logits[t, : tk.VOCAB_SIZE].masked_fill(~torch.tensor(c.mask(state)),
                                                         float("-inf"))
        assert int(torch.argmax(masked)) == i
        state = c.advance(state, i)


def test_rejects_a_model_without_the_program_vocabulary(tiny_domain: Domain) -> None:
    small = _tiny_bart(vocab_size=tk.WORD0)
    with pytest.raises(ValueError, match="vocabulary"):
        sample_programs(small, [tk.EOS], _constraints(tiny_domain)[0], 2)


def test_rejects_programs_longer_than_the_model_positions(model: Any) -> None:
    long = ProgramConstraint(load_domain("rules"), ("a",), ("A",), max_len=129)
    with pytest.raises(ValueError, match="positions"):
        sample_programs(model, ENCODER_IDS, long, 1)


def test_the_cache_argument_of_earlier_and_later_transformers() -> None:
    from metarlm.neural.torchnet import _cache_argument

    class Earlier:
        def forward(self, decoder_input_ids=None, past_key_values=None, use_cache=None):  # type: ignore[no-untyped-def]
            return None

    class Later:
        def forward(self, decoder_input_ids=None, cache=None, use_cache=None):  # type: ignore[no-untyped-def]
            return None

    assert _cache_argument(Earlier) == "past_key_values"
    assert _cache_argument(Later) == "cache"
