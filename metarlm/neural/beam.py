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

from metarlm.neural.decode import Candidate, DecodeState, ProgramConstraint, masked_logp
from metarlm.neural.runtime import network
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
        logits = steps.step(np.array([s[-1] for s in seqs]))
        logp = masked_logp(logits, constraint, states)[:, :VOCAB_SIZE]
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
