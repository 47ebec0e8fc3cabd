"""The neural proposer: sample programs from the meta-trained model and keep consistent ones.

Each batch renames the demonstration's words and tokens to fresh random slots (the model was
trained under such renamings, so every batch is a new view of the same task), samples under the
grammar mask, prepends the background rules, and checks the whole batch in the kernels.
"""

from __future__ import annotations

import functools
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from metarlm.errors import MetarlmError, shorten
from metarlm.exec.check import check_token_batch
from metarlm.lang.demo import Demo
from metarlm.lang.dsl import Program
from metarlm.neural.checkpoint_info import SHIPPED_NYE as SHIPPED
from metarlm.neural.tokens import (
    BOS,
    PAD,
    SEP,
    Abstraction,
    abstraction_for,
    encode_episode,
    encode_program,
    encode_target,
    episode_symbols,
)
from metarlm.types import Budget, Candidate, SearchConfig

MAX_PROGRAM_IDS = 160  # a 14-rule SCAN program is 126 ids


def default_checkpoint() -> Path:
    """The whole-program checkpoint shipped inside the package (the Nye et al. baseline)."""
    return SHIPPED


@dataclass
class ModelProposer:
    """A loaded checkpoint that proposes programs for demonstrations."""

    model: Any
    meta: dict[str, Any]
    path: Path

    @classmethod
    def load(cls, checkpoint: str | Path | None = None) -> ModelProposer:
        """Load a checkpoint directory (default: the shipped one); MetarlmError if absent.

        Loaded once per process and directory: an evaluation calls this for every task.
        """
        path = Path(checkpoint) if checkpoint is not None else SHIPPED
        weights = os.path.join(path, "model.safetensors")
        # os.path.isfile, unlike Path.is_file, is False for names too long or with a NUL byte
        if not (os.path.isfile(os.path.join(path, "config.json")) and os.path.isfile(weights)):
            raise MetarlmError(f"no model checkpoint at {shorten(str(path))}; train one with "
                               "`metarlm train` or search without a model (--no-model)")
        try:
            return _load(path.resolve(), os.stat(weights).st_mtime_ns)
        except MetarlmError:
            raise
        except Exception as err:  # noqa: BLE001 - a damaged checkpoint fails in torch/transformers
            raise MetarlmError(f"cannot load the checkpoint at {shorten(str(path))}: "
                               f"{type(err).__name__}: {shorten(str(err), 200)}") from None

    @property
    def symbols(self) -> str:
        """How the checkpoint was trained to see words: ``episode`` slots or ``fixed`` ones."""
        return str(self.meta.get("symbols", "episode"))

    def _views(self, demo: Demo, seed: int) -> tuple[list[str], list[str], random.Random]:
        words, tokens = episode_symbols(demo.examples, [demo.background])
        return words, tokens, random.Random(seed)

    def unreadable(self, demo: Demo) -> str | None:
        """Why the model cannot read the demonstration (too many distinct words or tokens for
        its slots, a background past its variables, no program of the domain that fits the
        decoder), or None when it can."""
        from metarlm.neural.decode import ProgramConstraint

        words, tokens = episode_symbols(demo.examples, [demo.background])
        room = demo.domain.settings["max_rules"] - len(demo.background or ())
        try:
            view = abstraction_for(self.symbols, words, tokens, random.Random(0))
            # the background must be writable in the model's ids (at most u4, x4, y4), and
            # some program of the domain must fit the decoder under this view
            encode_episode(demo.examples, view, demo.domain.algebra, demo.background)
            if room > 0:
                ProgramConstraint.for_abstraction(demo.domain, view, max_rules=room,
                                                  max_len=MAX_PROGRAM_IDS)
        except (ValueError, KeyError) as err:
            return str(err)
        return None

    def propose(self, demo: Demo, cfg: SearchConfig, budget: Budget) -> list[Candidate]:
        """Consistent programs (background + proposed rules) found within the budget."""
        from metarlm.neural.decode import ProgramConstraint, greedy_program, sample_programs

        words, tokens, rng = self._views(demo, cfg.seed)
        algebra = demo.domain.algebra
        room = demo.domain.settings["max_rules"] - len(demo.background or ())
        seen: set[Program] = set()
        found: list[Candidate] = []
        drawn = 0
        while drawn < cfg.samples and not budget.exhausted() and room > 0:
            view = abstraction_for(self.symbols, words, tokens, rng)
            source = encode_episode(demo.examples, view, algebra, demo.background)
            constraint = ProgramConstraint.for_abstraction(
                demo.domain, view, max_rules=room, max_len=MAX_PROGRAM_IDS)
            if cfg.greedy:
                batch = [greedy_program(self.model, source, constraint)]
            else:
                batch = sample_programs(self.model, source, constraint, cfg.batch,
                                        temperature=cfg.temperature, seed=rng.randrange(2**31))
            drawn += len(batch)
            if cfg.greedy:
                drawn = cfg.samples
            fresh = []
            for cand in batch:
                program = view.decode(cand.ids, algebra)
                if program not in seen:
                    seen.add(program)
                    fresh.append((program, cand))
            if not fresh:
                continue
            budget.candidates += len(fresh)
            ids = _with_background([c.ids for _, c in fresh], demo.background, view)
            verdict = check_token_batch(ids, view.words, view.tokens, demo.examples, algebra)
            now = time.monotonic()
            for ok, (program, cand) in zip(verdict.tolist(), fresh):
                if ok:
                    found.append(Candidate(_full(program, demo), cand.logprob, "model",
                                           budget.candidates, now))
        return found

    def logprob(self, demo: Demo, program: Program) -> float:
        """Teacher-forced log-probability of the program's learned rules under one view."""
        import torch

        n = len(demo.background or ())
        learned = Program(program.rules[n:], program.algebra)
        words, tokens, rng = self._views(demo, 0)
        words_extra, tokens_extra = episode_symbols([], [learned])
        view = abstraction_for(self.symbols, set(words) | set(words_extra),
                               set(tokens) | set(tokens_extra), rng)
        source = encode_episode(demo.examples, view, program.algebra, demo.background)
        try:
            target = encode_target(learned, view)
        except (KeyError, ValueError):
            return float("-inf")
        device = next(self.model.parameters()).device
        with torch.inference_mode():
            out = self.model(input_ids=torch.tensor([source], device=device),
                             decoder_input_ids=torch.tensor([target[:-1]], device=device))
            logp = torch.log_softmax(out.logits[0].float(), dim=-1)
            picked = logp.gather(1, torch.tensor(target[1:], device=device).unsqueeze(1))
        return float(picked.sum())


@functools.lru_cache(maxsize=4)
def _load(path: Path, stamp: int) -> ModelProposer:
    """The proposer of a checkpoint directory (``stamp`` changes when its weights do)."""
    import torch

    from metarlm.neural.model import load_checkpoint

    # One thread: decoding steps are small, and torch's worker threads spin while they wait,
    # which was measured 6-7x slower than one thread whenever anything else used the cores.
    torch.set_num_threads(1)
    model, meta = load_checkpoint(path)
    return ModelProposer(model, meta, path)


def _full(program: Program, demo: Demo) -> Program:
    """Background rules first, then the proposed ones (the checker's order)."""
    full = demo.background + program if demo.background is not None else program
    if full.holes():
        from metarlm.exec.holes import fill_holes

        filled = fill_holes(full, demo.examples)
        return filled if filled is not None else full
    return full


def _with_background(rows: list[tuple[int, ...]], background: Program | None,
                     view: Abstraction) -> np.ndarray:
    """Id rows with the background rules spliced in after BOS, padded into one array."""
    prefix: list[int] = []
    if background is not None and background.rules:
        prefix = encode_program(background, view.word_slot, view.token_slot)[1:-1] + [SEP]
    full = [[BOS] + prefix + [i for i in row if i != BOS] for row in rows]
    width = max(len(r) for r in full)
    out = np.full((len(full), width), PAD, dtype=np.int64)
    for k, row in enumerate(full):
        out[k, :len(row)] = row
    return out
