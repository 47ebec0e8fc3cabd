"""Grammar-constrained decoding: the proposer network writes only programs that parse.

``ProgramConstraint`` follows a program id sequence (``tokens.PROGRAM_VOCAB``) with the
domain's LALR parse table and says which ids may come next. An id is allowed when

- the parser accepts its terminal (word slot → WORD, token slot → TOKEN, digit → INT, …);
- its slot is in use in the episode, its word or token is in a closed vocabulary and the
  printed program lexes it back as that terminal (an open-vocabulary word ``u1`` would not);
- a left-hand-side variable is new in its rule and a right-hand-side one is bound there;
- the program still fits: at most ``max_rules`` rules and ``max_len`` ids (BOS … EOS), with
  room left to finish (EOS and the ids a half-written rule still needs).

Canonical form (as ``encode_program`` writes it): no empty rules, no ``;`` before EOS, no
empty program, no leading zeros; integers have at most ``max_digits`` digits.

``sample_programs`` draws programs from a BART-style encoder-decoder (a transformers model or
its numpy twin, ``metarlm.neural.runtime``) by ancestral sampling under the mask, keeping the
decoder's key/value cache; ``greedy_program`` takes the argmax.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import numpy as np

from metarlm.errors import ProgramError
from metarlm.lang.dsl import Token, Var, Word
from metarlm.neural.runtime import log_softmax
from metarlm.neural.tokens import (
    ARROW,
    BOS,
    DIGIT0,
    EOS,
    HOLE,
    LBR,
    MAX_VARS,
    N_TOKEN_SLOTS,
    N_WORD_SLOTS,
    PLUS,
    PROGRAM_VOCAB,
    RBR,
    SEP,
    STAR,
    TOKEN0,
    VAR0,
    VOCAB_SIZE,
    WORD0,
    id_var,
)

if TYPE_CHECKING:
    from metarlm.lang.domain import Domain

DEFAULT_MAX_LEN = 256
_CLIP = 8  # no half-written rule needs more ids than this to finish; larger budgets share masks
_FAR = 1 << 20  # "cannot finish"
_END = "$END"
_SHORT = {ARROW: "ARROW", SEP: "SEP", LBR: "LSQB", RBR: "RSQB", HOLE: "HOLE", PLUS: "PLUS",
          STAR: "STAR"}


class DecodeState(NamedTuple):
    """Where one sequence stands; ``stack`` is -1 once EOS is written.

    A NamedTuple rather than a dataclass: one is made per id per sequence, and tuples are
    the cheapest immutable values to build and hash.
    """

    stack: int  # index of the parser's state stack in ProgramConstraint's table
    bound: int  # bit (id - VAR0) set for each variable on this rule's left-hand side
    in_rhs: bool
    rule_empty: bool  # nothing written yet in the current rule
    digits: int  # digits of the integer being written (max_digits after a leading zero)
    rules: int  # rules started so far
    length: int  # ids so far, BOS included


class Slots(Protocol):
    """What the constraint needs of an abstraction: slot i → word/token ('' if unused)."""

    words: Sequence[str]
    tokens: Sequence[str]


class ProgramConstraint:
    """The ids that may follow a prefix under a domain grammar and an episode's slots."""

    def __init__(self, domain: Domain, words: Sequence[str], tokens: Sequence[str],
                 max_rules: int | None = None, max_len: int = DEFAULT_MAX_LEN, *,
                 min_len: int = 0, max_digits: int = 9, allow_holes: bool = True) -> None:
        if len(words) > N_WORD_SLOTS or len(tokens) > N_TOKEN_SLOTS:
            raise ValueError(f"at most {N_WORD_SLOTS} words and {N_TOKEN_SLOTS} tokens")
        self.domain = domain
        self.max_rules = domain.settings["max_rules"] if max_rules is None else max_rules
        self.max_len, self.min_len, self.max_digits = max_len, min_len, max_digits
        self.words, self.tokens = tuple(words), tuple(tokens)
        self._parser = _parse_table(domain)
        self._term = self._terminal_of_ids(allow_holes)
        self._realisable = frozenset(self._term[i] for i in range(VOCAB_SIZE)
                                     if self._term[i] is not None and i not in (SEP, EOS))
        self._ids_of: dict[str, tuple[int, ...]] = {}
        for i, term in enumerate(self._term):
            if term is not None:
                self._ids_of[term] = self._ids_of.get(term, ()) + (i,)
        self._masks: dict[tuple[int, ...], np.ndarray] = {}
        self._min_end_memo: dict[tuple[int, bool], int] = {}
        if not self.mask(self.start()).any():
            raise ValueError(f"no program of this domain fits in max_len={max_len} ids "
                             "with these words")

    @classmethod
    def for_abstraction(cls, domain: Domain, abstraction: Slots, **kwargs: Any
                        ) -> ProgramConstraint:
        """A constraint for an abstraction's slots (keyword arguments as in the constructor)."""
        return cls(domain, abstraction.words, abstraction.tokens, **kwargs)

    # --- per-id terminals ----------------------------------------------------------------

    def _terminal_of_ids(self, allow_holes: bool) -> list[str | None]:
        """The grammar terminal of each program id, or None where the id is never allowed."""
        term: list[str | None] = [None] * VOCAB_SIZE
        names = self._parser.short
        for i, short in _SHORT.items():
            if short in names and (i != HOLE or allow_holes):
                term[i] = names[short]
        term[EOS] = _END
        if "INT" in names:
            for d in range(10):
                term[DIGIT0 + d] = names["INT"]
        vars_ok = [i for i in range(VAR0, WORD0) if _lexes_as_var(self.domain, id_var(i))]
        for i in vars_ok:
            term[i] = names.get(id_var(i).kind.upper() + "VAR")
        for k, word in enumerate(self.words):
            if self._word_ok(word):
                term[WORD0 + k] = names.get("WORD")
        # A token is checked on a right-hand side, so it needs some left-hand side.
        lhs = id_var(vars_ok[0]).name if vars_ok else next(
            (w for k, w in enumerate(self.words) if term[WORD0 + k]), None)
        for k, tok in enumerate(self.tokens):
            if lhs is not None and self._token_ok(tok, lhs):
                term[TOKEN0 + k] = names.get("TOKEN")
        return term

    def _word_ok(self, word: str) -> bool:
        """A word slot is usable: in use, in the domain's vocabulary, lexed as a WORD."""
        vocab = self.domain.words
        return bool(word) and (vocab is None or word in vocab) and _lexes_as_word(
            self.domain, word)

    def _token_ok(self, token: str, lhs: str) -> bool:
        """A token slot is usable: in use, in the domain's vocabulary, lexed as a TOKEN."""
        vocab = self.domain.tokens
        return bool(token) and (vocab is None or token in vocab) and _lexes_as_token(
            self.domain, token, lhs)

    # --- states --------------------------------------------------------------------------

    def start(self) -> DecodeState:
        """The state after BOS."""
        return DecodeState(self._parser.start, 0, False, True, 0, 1, 1)

    def advance(self, state: DecodeState, i: int) -> DecodeState:
        """The state after writing id ``i``, which must be allowed in ``state``."""
        s = state
        if i == EOS:
            return s._replace(stack=-1, digits=0, length=s.length + 1)
        term = self._term[i]
        assert term is not None, PROGRAM_VOCAB[i]
        if DIGIT0 <= i < DIGIT0 + 10:
            digits = s.digits + 1 if s.digits else (self.max_digits if i == DIGIT0 else 1)
            stack = s.stack if s.digits else self._parser.step(s.stack, term)
            return s._replace(stack=stack, digits=digits, rule_empty=False, length=s.length + 1)
        stack = self._parser.step(s.stack, term)
        if i == SEP:
            return DecodeState(stack, 0, False, True, 0, s.rules + 1, s.length + 1)
        bound = s.bound | (1 << (i - VAR0)) if VAR0 <= i < WORD0 and not s.in_rhs else s.bound
        return DecodeState(stack, bound, s.in_rhs or i == ARROW, False, 0, s.rules,
                           s.length + 1)

    def mask(self, state: DecodeState) -> np.ndarray:
        """Allowed next ids as a read-only bool array of length ``tokens.VOCAB_SIZE``."""
        s = state
        key = (s.stack, s.bound, s.in_rhs, s.rule_empty, s.digits, s.rules < self.max_rules,
               min(self.max_len - s.length, _CLIP), s.length + 1 < self.min_len)
        mask = self._masks.get(key)
        if mask is None:
            mask = self._masks[key] = self._compute_mask(s)
        return mask

    def allowed(self, state: DecodeState) -> list[int]:
        """Allowed next ids, ascending."""
        return [int(i) for i in np.flatnonzero(self.mask(state))]

    def _compute_mask(self, s: DecodeState) -> np.ndarray:
        """The mask of a state, from the parser's terminals (called once per mask key)."""
        mask = np.zeros(VOCAB_SIZE, dtype=bool)
        if s.stack < 0:
            return _frozen(mask)
        room = self.max_len - s.length  # ids still to write, EOS included
        if 0 < s.digits < self.max_digits and self._min_end(s.stack, True) < room:
            mask[DIGIT0:DIGIT0 + 10] = True  # extends the integer already fed to the parser
        for term in self._parser.accepts(s.stack):
            ids = self._ids_of.get(term, ())
            if ids and self._cost_after(s.stack, term) < room:
                for i in ids:
                    mask[i] = self._id_ok(s, i)
        if s.length + 1 < self.min_len and mask.sum() > mask[EOS]:
            mask[EOS] = False  # too short: keep going while anything else can follow
        return _frozen(mask)

    def _id_ok(self, s: DecodeState, i: int) -> bool:
        """Binding, rule-count and canonical-form rules for an id the parser accepts."""
        if VAR0 <= i < WORD0:
            bit = 1 << (i - VAR0)
            return not s.bound & bit if not s.in_rhs else bool(s.bound & bit)
        if i == LBR:
            return s.bound != 0
        if i == SEP:
            return not s.rule_empty and s.rules < self.max_rules
        if i == EOS:
            return not s.rule_empty
        return True

    def _cost_after(self, stack: int, term: str) -> int:
        """Fewest ids (EOS included) that must follow a terminal to finish the program."""
        if term == _END:
            return 0
        return self._min_end(self._parser.step(stack, term), term != self._term[SEP])

    def _min_end(self, stack: int, end_ok: bool) -> int:
        """Shortest way to EOS from a parser state (breadth-first; ``;`` never needed)."""
        key = (stack, end_ok)
        if key not in self._min_end_memo:
            self._min_end_memo[key] = self._search_end(stack, end_ok)
        return self._min_end_memo[key]

    def _search_end(self, stack: int, end_ok: bool) -> int:
        """Breadth-first search over parser states for ``_min_end`` (``_FAR`` if none)."""
        frontier, seen = {stack}, {stack}
        for cost in range(1, _CLIP + 1):
            nxt: set[int] = set()
            for st in frontier:
                accepts = self._parser.accepts(st)
                if _END in accepts and (end_ok or cost > 1):
                    return cost
                for t in accepts & self._realisable:
                    nxt.add(self._parser.step(st, t))
            frontier = nxt - seen
            seen |= nxt
        return _FAR


def _frozen(a: np.ndarray) -> np.ndarray:
    """The array, made read-only: cached masks are shared by every sequence."""
    a.setflags(write=False)
    return a


class _ParseTable:
    """Lark's LALR table seen through hashable state stacks (memoized transitions)."""

    def __init__(self, lark_parser: Any) -> None:
        from lark.lexer import Token as LarkToken

        ip = lark_parser.parse_interactive("")
        conf = ip.parser_state.parse_conf
        self._conf = type(conf)(conf.parse_table, {}, conf.start)  # no tree building
        self._token = LarkToken
        names = {str(t.name) for t in lark_parser.terminals}  # plain str: faster than lark's
        # Imported terminals are namespaced (``core__ARROW``, ``_core__SEP``).
        self.short = {n.split("__")[-1].lstrip("_"): n for n in names}
        self._terminals = frozenset(names) | {_END}
        self._stacks: list[tuple[Any, ...]] = []
        self._index: dict[tuple[Any, ...], int] = {}
        self._steps: dict[tuple[int, str], int] = {}
        self._accepts: dict[int, frozenset[str]] = {}
        self.start = self._intern(tuple(ip.parser_state.state_stack))

    def _intern(self, stack: tuple[Any, ...]) -> int:
        """A small int naming a state stack (the same stack always gets the same int)."""
        k = self._index.get(stack)
        if k is None:
            k = self._index[stack] = len(self._stacks)
            self._stacks.append(stack)
        return k

    def step(self, stack: int, terminal: str) -> int:
        """The stack after feeding ``terminal`` (-1 if the parser rejects it or it is $END)."""
        key = (stack, terminal)
        nxt = self._steps.get(key)
        if nxt is None:
            fed = self._feed(stack, terminal)
            nxt = self._steps[key] = -1 if fed is None or terminal == _END else self._intern(fed)
        return nxt

    def _feed(self, stack: int, terminal: str) -> tuple[Any, ...] | None:
        """Lark's own shift/reduce loop on a copy of the stack; None if it rejects."""
        from lark.exceptions import UnexpectedToken
        from lark.parsers.lalr_parser_state import ParserState

        states = list(self._stacks[stack])
        state = ParserState(self._conf, None, states, [None] * len(states))  # type: ignore
        try:
            state.feed_token(self._token(terminal, ""), terminal == _END)
        except UnexpectedToken:
            return None
        return tuple(state.state_stack)

    def accepts(self, stack: int) -> frozenset[str]:
        """Terminals the parser can take next (``$END`` when the input may stop here)."""
        acc = self._accepts.get(stack)
        if acc is None:
            choices = self._conf.states[self._stacks[stack][-1]]
            acc = frozenset(str(t) for t in choices if t in self._terminals
                            and self._feed(stack, t) is not None)
            self._accepts[stack] = acc
        return acc


@functools.lru_cache(maxsize=32)
def _parse_table(domain: Domain) -> _ParseTable:
    """One memoized table per domain, shared by all its constraints."""
    return _ParseTable(domain.parser)


@functools.lru_cache(maxsize=4096)
def _lexes_as_word(domain: Domain, word: str) -> bool:
    """Does ``word ->`` parse with ``word`` as a left-hand-side word?"""
    return _parses_to(domain, f"{word} ->", (Word(word),), ())


@functools.lru_cache(maxsize=64)
def _lexes_as_var(domain: Domain, var: Var) -> bool:
    """Does the domain take ``var`` as a variable of its kind?"""
    return var.kind in domain.var_kinds and var.index <= MAX_VARS and _parses_to(
        domain, f"{var.name} ->", (var,), ())


@functools.lru_cache(maxsize=4096)
def _lexes_as_token(domain: Domain, token: str, lhs: str) -> bool:
    """Does ``lhs -> token`` parse with ``token`` as an output token?"""
    return domain.algebra == "seq" and _parses_to(domain, f"{lhs} -> {token}", None,
                                                  (Token(token),))


def _parses_to(domain: Domain, text: str, lhs: tuple[Any, ...] | None,
               rhs: tuple[Any, ...]) -> bool:
    """Does ``text`` parse as one rule with these sides (``lhs`` None: any)?"""
    try:
        program = domain.parse(text)
    except ProgramError:
        return False
    if len(program.rules) != 1:
        return False
    rule = program.rules[0]
    return (lhs is None or rule.lhs == lhs) and rule.rhs == rhs


# --- sampling from the network -----------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A decoded program: ids (BOS … EOS), log-probability under the masked model, count."""

    ids: tuple[int, ...]
    logprob: float
    count: int = field(default=1, compare=False)


def dedupe(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Distinct programs in order of first appearance, ``count`` summed over repeats."""
    counts: Counter[tuple[int, ...]] = Counter()
    first: dict[tuple[int, ...], Candidate] = {}
    for c in candidates:
        counts[c.ids] += c.count
        first.setdefault(c.ids, c)
    return [Candidate(ids, c.logprob, counts[ids]) for ids, c in first.items()]


def sample_programs(model: Any, encoder_ids: Sequence[int] | np.ndarray,
                    constraint: ProgramConstraint, n: int, *, temperature: float = 1.0,
                    seed: int = 0, batch_size: int = 64, use_cache: bool = True
                    ) -> list[Candidate]:
    """``n`` programs drawn from the model under the grammar mask, in draw order.

    ``model`` is a transformers model or a ``runtime.NumpyBart``: the draws come from one
    numpy random stream seeded by ``seed``, so both give the same programs (up to float
    rounding). Duplicates are kept (``dedupe`` merges them). ``logprob`` is the sum of the
    ids' log-probabilities under the masked distribution at temperature 1, whatever
    temperature drew them, so it ranks programs by the model. The same arguments give the
    same programs, with or without the key/value cache. ``temperature=0`` takes the argmax
    at every step.
    """
    from metarlm.neural.runtime import network

    net = network(model)
    if constraint.max_len > net.max_positions:
        raise ValueError(f"max_len={constraint.max_len} is past the model's "
                         f"{net.max_positions} positions")
    rng = np.random.default_rng(seed)
    out: list[Candidate] = []
    with net.inference():
        memory = net.encode(encoder_ids)
        for start in range(0, n, batch_size):
            rows = min(batch_size, n - start)
            steps = net.decoder(memory, rows, use_cache)
            out += _decode_batch(steps, constraint, rows, temperature, rng)
    return out


def greedy_program(model: Any, encoder_ids: Sequence[int] | np.ndarray,
                   constraint: ProgramConstraint, use_cache: bool = True) -> Candidate:
    """The program of the most likely id at every step under the grammar mask."""
    return sample_programs(model, encoder_ids, constraint, 1, temperature=0.0,
                           use_cache=use_cache)[0]


def _decode_batch(steps: Any, constraint: ProgramConstraint, rows: int, temperature: float,
                  rng: np.random.Generator) -> list[Candidate]:
    """Decode ``rows`` sequences step by step; finished rows leave the batch."""
    states = [constraint.start()] * rows
    seqs = [[BOS] for _ in range(rows)]
    logprob = [0.0] * rows
    live = list(range(rows))  # original row of each batch position
    latest = np.full(rows, BOS, dtype=np.int64)
    while live:
        logp = masked_logp(steps.step(latest), constraint, [states[r] for r in live])
        choice = _draw(logp, temperature, rng)
        picked = logp[np.arange(len(live)), choice].tolist()
        keep = []
        for pos, (r, i) in enumerate(zip(live, choice.tolist())):
            states[r] = constraint.advance(states[r], i)
            seqs[r].append(i)
            logprob[r] += picked[pos]
            if i != EOS:
                keep.append(pos)
        latest = choice[keep]
        if len(keep) < len(live):
            live = [live[p] for p in keep]
            if keep:
                steps.select(keep)
    return [Candidate(tuple(s), lp) for s, lp in zip(seqs, logprob)]


def masked_logp(logits: np.ndarray, constraint: ProgramConstraint,
                states: Sequence[DecodeState]) -> np.ndarray:
    """Each row's log-probabilities under its state's mask (ids outside the program
    vocabulary, and masked ones, are -inf), float64, the logits' shape."""
    if logits.shape[-1] < VOCAB_SIZE:
        raise ValueError(f"the model's vocabulary has {logits.shape[-1]} ids, fewer than "
                         f"the {VOCAB_SIZE} of the program vocabulary")
    allowed = np.zeros(logits.shape, dtype=np.bool_)
    allowed[:, :VOCAB_SIZE] = np.stack([constraint.mask(s) for s in states])
    return log_softmax(np.where(allowed, logits.astype(np.float64), -np.inf))


def _draw(logp: np.ndarray, temperature: float, rng: np.random.Generator) -> np.ndarray:
    """One id per row: the argmax at temperature 0, else a draw from softmax(logp / T) by
    inverting its cumulative sum at one uniform number per row."""
    if temperature <= 0:
        return np.argmax(logp, axis=-1)
    cum = np.cumsum(np.exp(log_softmax(logp / temperature)), axis=-1)
    u = rng.random(len(logp))[:, None] * cum[:, -1:]
    # the first id whose cumulative share passes u; masked ids add 0 and are never taken
    return np.minimum((cum <= u).sum(axis=-1), logp.shape[-1] - 1)
