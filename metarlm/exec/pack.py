"""Inputs and examples packed for the kernels, and the kernels' verdicts on lowered rows.

``pack_words`` and ``pack_flat`` give inputs as symbol ids (one ``SymbolTable`` for words and
tokens), ``pack_examples`` adds the expected outputs, and ``kernel_verdicts`` checks rows
against them. ``metarlm.exec.check`` builds its batched checks on these, and
``metarlm.exec.holes`` checks its fillings with ``reproduces``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np

from metarlm.exec.compile import VALID, Lowered, SymbolTable, kernels, lower_programs
from metarlm.kernels import layout
from metarlm.lang.demo import Example
from metarlm.lang.dsl import Program
from metarlm.lang.interp import DEFAULT_FUEL, INT_LIMIT, MAX_OUTPUT
from metarlm.lang.interp import reproduces as reference_reproduces
from metarlm.lang.limits import MAX_OUTPUT_LIMIT

PARALLEL_MIN = 32_768  # smaller batches run on one thread (waking the pool costs more)
TEXT_MIN = 4096  # fewer words are looked up one by one (the text path's set-up costs more)


@dataclass(frozen=True)
class PackedExamples:
    """Examples as kernel arrays (symbol ids from one table)."""

    words: np.ndarray  # (n, max input length) padded input words
    lens: np.ndarray  # (n,) input lengths
    syms: np.ndarray  # (n, max output length) expected tokens (sequence algebra)
    out_lens: np.ndarray  # (n,) expected output lengths
    ints: np.ndarray  # (n,) expected integers (integer algebra)
    possible: bool  # False when some expected output can never be produced


def _clip(value: int) -> int:
    return max(-layout.INT_CLAMP, min(layout.INT_CLAMP, value))


def pack_words(inputs: Sequence[Sequence[str]], symbols: SymbolTable) -> tuple[np.ndarray,
                                                                                np.ndarray]:
    """Inputs as a padded (n, longest) id array and their lengths."""
    lens = np.array([len(w) for w in inputs], dtype=np.int64).reshape(-1)
    words = np.zeros((len(inputs), int(lens.max(initial=0))), dtype=np.int64)
    flat = symbols.ids(w for ws in inputs for w in ws)
    if flat:  # scatter row by row without a Python loop over rows
        rows = np.repeat(np.arange(len(inputs)), lens)
        cols = np.arange(len(flat)) - np.repeat(np.cumsum(lens) - lens, lens)
        words[rows, cols] = flat
    return words, lens


def pack_flat(inputs: Sequence[Sequence[str]], symbols: SymbolTable) -> tuple[np.ndarray,
                                                                               np.ndarray]:
    """Inputs as one array of word ids and the (n + 1,) offsets where each input begins."""
    starts = _offsets(np.fromiter(map(len, inputs), dtype=np.int64, count=len(inputs)))
    count = int(starts[-1])
    words = _text_ids(inputs, starts, symbols) if count >= TEXT_MIN else None
    return (symbols.flat(inputs, count) if words is None else words), starts


def _offsets(lengths: np.ndarray) -> np.ndarray:
    """Where each of the pieces of these lengths begins, and the end of the last one."""
    out = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=out[1:])
    return out


def _text_ids(inputs: Sequence[Sequence[str]], starts: np.ndarray,
              symbols: SymbolTable) -> np.ndarray | None:
    """The words' ids as ``SymbolTable.flat`` gives them (new words interned in sorted
    order), found by a kernel in the inputs' joined text; None when a word is not a str,
    has no UTF-8 or holds a NUL.

    On SCAN a dict lookup per word took a fifth of run_many's time, more than joining the
    text (one C call per input) and the kernel's lookups together.
    """
    try:
        text = np.frombuffer("\0".join(map("\0".join, inputs)).encode(), dtype=np.uint8)
    except (TypeError, UnicodeEncodeError):
        return None
    ids = _lookup(text, starts, symbols)
    if ids is not None and len(ids) and ids.min() < 0:  # words the program does not mention
        for word in sorted(set(chain.from_iterable(inputs)).difference(symbols.texts)):
            symbols.intern(word)
        ids = _lookup(text, starts, symbols)
    return ids


def _lookup(text: np.ndarray, starts: np.ndarray, symbols: SymbolTable) -> np.ndarray | None:
    """The ids of the words of text (-1 for those not in symbols), or None (see _text_ids)."""
    try:
        entries = [t.encode() for t in symbols.texts]
    except UnicodeEncodeError:
        return None
    ids = np.empty(int(starts[-1]), dtype=np.int64)
    vocab = np.frombuffer(b"".join(entries), dtype=np.uint8)
    bounds = _offsets(np.fromiter(map(len, entries), dtype=np.int64, count=len(entries)))
    return ids if kernels()[1].word_ids(text, vocab, bounds, starts, ids) else None


def pack_examples(examples: Sequence[Example], algebra: str,
                  symbols: SymbolTable) -> PackedExamples:
    """Pack examples for the kernels; outputs of the wrong kind make ``possible`` False."""
    words, lens = pack_words([e.input for e in examples], symbols)
    outs = [e.output for e in examples]
    if algebra == "int":
        possible = all(isinstance(o, int) and abs(o) < INT_LIMIT for o in outs)
        ints = [_clip(o) if isinstance(o, int) else 0 for o in outs]
        seqs: list[Sequence[str]] = [() for _ in outs]
    else:
        possible = all(isinstance(o, tuple) for o in outs)
        ints = [0] * len(outs)
        seqs = [o if isinstance(o, tuple) else () for o in outs]
    syms, out_lens = pack_words(seqs, symbols)
    return PackedExamples(words, lens, syms, out_lens,
                          np.array(ints, dtype=np.int64).reshape(-1), possible)


_THREADS: list[int] = []  # Numba's thread count, asked once per process


def parallel_chunks(n: int) -> int:
    """Parallel chunks for a batch of n items; 0 means run serially (small batches)."""
    if not _THREADS:
        import numba

        # OpenMP's spinning workers made batches 30x slower when other processes (or torch's
        # own OpenMP pool) shared the cores; Numba's workqueue layer has no such cliff.
        if "NUMBA_THREADING_LAYER" not in os.environ:
            numba.config.THREADING_LAYER = "workqueue"
        # asked once: every call takes a lock Numba shares between processes, which a forked
        # search killed while holding it would leave taken for good (metarlm.synth.parallel)
        _THREADS.append(int(numba.get_num_threads()))
    threads = _THREADS[0]
    return 0 if threads < 2 or n < PARALLEL_MIN else min(n, 8 * threads)


def serial_only() -> None:
    """Run every batch serially from now on: in a forked child, which has none of Numba's
    worker threads and must never touch the lock Numba shares with its parent."""
    _THREADS[:] = [1]


def kernel_limits(fuel: int, max_output: int) -> tuple[int, int]:
    # the reference caps max_output the same way (metarlm.lang.interp)
    return _clip(fuel), _clip(min(max_output, MAX_OUTPUT_LIMIT))


def kernel_verdicts(code: np.ndarray, status: np.ndarray, packed: PackedExamples,
                    algebra: str, fuel: int, max_output: int) -> np.ndarray:
    """Kernel verdicts for lowered rows: does row p reproduce every packed example (False for
    rows that are not VALID; sequence holes bind one token each)."""
    batch = kernels()[1]
    verdict = np.zeros(len(status), dtype=np.bool_)
    if not packed.possible or not len(status):
        return verdict
    fuel, max_output = kernel_limits(fuel, max_output)
    args = (code, status, packed.words, packed.lens, packed.syms, packed.out_lens, packed.ints,
            fuel, max_output, algebra == "int", verdict)
    chunks = parallel_chunks(len(status))
    if chunks:
        batch.check_parallel(*args, chunks)
    else:
        batch.check_chunk(*args, 0, len(status))
    return verdict


def lowered_verdicts(programs: Sequence[Program], examples: Sequence[Example], algebra: str,
                     fuel: int, max_output: int) -> tuple[Lowered, PackedExamples, np.ndarray]:
    """The programs lowered (``lower_programs``), the examples packed, and the kernels'
    verdict on each program, all under one new symbol table."""
    symbols = SymbolTable()
    packed = pack_examples(examples, algebra, symbols)
    lowered = lower_programs(programs, symbols)
    return lowered, packed, kernel_verdicts(lowered.code, lowered.status, packed, algebra,
                                            fuel, max_output)


def reproduces(program: Program, examples: Iterable[Any], fuel: int = DEFAULT_FUEL,
               max_output: int = MAX_OUTPUT) -> bool:
    """Whether the program gives every example its output, as ``metarlm.lang.interp``'s
    ``reproduces`` says: in the kernels for a hole-free program (the reference took 4 ms a
    filling on thirty number words), by the reference for a sketch or a malformed one."""
    examples = list(examples)
    if not examples or program.algebra not in ("seq", "int"):
        return reference_reproduces(program, examples, fuel, max_output)
    lowered, _, verdict = lowered_verdicts([program], examples, program.algebra, fuel,
                                           max_output)
    if lowered.status[0] != VALID or lowered.code[0, layout.ROW_HOLES] > 0:
        return reference_reproduces(program, examples, fuel, max_output)
    return bool(verdict[0])
