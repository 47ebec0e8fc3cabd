"""Grammar-constrained beam search: the policy's most likely programs, best first, no seed.

Sampling draws the likely programs often and the rest at random, so a batch of 16 draws holds
repeats and may miss the most likely one. ``beam_programs`` keeps the ``width`` most likely
unfinished prefixes under the mask (``decode.ProgramConstraint``) and collects finished
programs; it stops when no unfinished prefix can still beat the ``n``-th best finished one
(log-probabilities only fall as ids are added), so the programs it returns are the most
likely among those it explored, in order, each once. With a width at least the number of
prefixes the grammar allows at every length it is exact (the tests check this against
brute force).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from metarlm.neural.decode import Candidate, DecodeState, ProgramConstraint
from metarlm.neural.runtime import log_softmax, network
from metarlm.neural.tokens import BOS, EOS, VOCAB_SIZE


def beam_programs(model: Any, encoder_ids: Sequence[int] | np.ndarray,
                  constraint: ProgramConstraint, width: int, n: int | None = None, *,
                  use_cache: bool = True) -> list[Candidate]:
    """Up to ``n`` (default ``width``) distinct programs, most likely first, by beam search
    of ``width`` prefixes under the grammar mask; ``logprob`` as in ``sample_programs``."""
    n = width if n is None else n
    if width < 1 or n < 1:
        return []
    net = network(model)
    if constraint.max_len > net.max_positions:
        raise ValueError(f"max_len={constraint.max_len} is past the model's "
                         f"{net.max_positions} positions")
    with net.inference():
        steps = net.decoder(net.encode(encoder_ids), 1, use_cache)
        return _search(steps, constraint, width, n)


def _search(steps: Any, constraint: ProgramConstraint, width: int, n: int) -> list[Candidate]:
    """The beam loop over one decoder's steps."""
    seqs: list[tuple[int, ...]] = [(BOS,)]
    states: list[DecodeState] = [constraint.start()]
    scores = np.zeros(1)
    finished: list[Candidate] = []
    while seqs:
        logp = _masked_logp(steps.step(np.array([s[-1] for s in seqs])), constraint, states)
        total = logp + scores[:, None]
        for r in np.flatnonzero(np.isfinite(total[:, EOS])).tolist():
            finished.append(Candidate(seqs[r] + (EOS,), float(total[r, EOS])))
        finished = sorted(finished, key=lambda c: -c.logprob)[:n]
        total[:, EOS] = -np.inf
        flat = total.ravel()
        live = int(np.isfinite(flat).sum())
        if live == 0:
            break
        order = np.argsort(-flat, kind="stable")[: min(width, live)]
        rows, ids = np.divmod(order, total.shape[1])
        scores = flat[order]
        if len(finished) >= n and scores[0] <= finished[-1].logprob:
            break  # nothing still open can enter the n best
        seqs = [seqs[r] + (i,) for r, i in zip(rows.tolist(), ids.tolist())]
        states = [constraint.advance(states[r], i) for r, i in zip(rows.tolist(), ids.tolist())]
        steps.select(rows)
    return finished


def _masked_logp(logits: np.ndarray, constraint: ProgramConstraint,
                 states: list[DecodeState]) -> np.ndarray:
    """Log-probabilities of the program ids under the mask, (rows, VOCAB_SIZE)."""
    if logits.shape[-1] < VOCAB_SIZE:
        raise ValueError(f"the model's vocabulary has {logits.shape[-1]} ids, fewer than "
                         f"the {VOCAB_SIZE} of the program vocabulary")
    allowed = np.zeros(logits.shape, dtype=np.bool_)
    allowed[:, :VOCAB_SIZE] = np.stack([constraint.mask(s) for s in states])
    logp = log_softmax(np.where(allowed, logits.astype(np.float64), -np.inf))
    return logp[:, :VOCAB_SIZE]
