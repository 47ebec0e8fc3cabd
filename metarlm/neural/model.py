"""The proposer network: a small BART-style encoder-decoder built from a config (no download).

The encoder reads an episode (``tokens.encode_episode``), the decoder writes a program
(``tokens.encode_program``); both share one vocabulary (``tokens.VOCAB``). A checkpoint is a
directory written by ``save_pretrained`` (``config.json``, ``model.safetensors``) plus
``metarlm.json`` with what trained it; nothing in it is a pickle. The optimizer's state is
kept the same way (``optimizer.safetensors`` + ``optimizer.json``) so that training resumes.
``validate`` measures a model on held-out episodes.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metarlm.errors import MetarlmError
from metarlm.lang.demo import Example
from metarlm.lang.dsl import Program
from metarlm.neural.tokens import BOS, ENCODER_VOCAB_SIZE, EOS, PAD, VOCAB, EncodedEpisode

if TYPE_CHECKING:
    import torch
    from transformers import BartForConditionalGeneration

META_FILE = "metarlm.json"
OPTIMIZER_TENSORS = "optimizer.safetensors"
OPTIMIZER_JSON = "optimizer.json"
FORMAT = 1


@dataclass(frozen=True)
class ModelConfig:
    """Size of the network; the default has about 1.1M parameters."""

    d_model: int = 128
    encoder_layers: int = 2
    decoder_layers: int = 2
    heads: int = 4
    ffn: int = 512
    max_positions: int = 512
    vocab_size: int = ENCODER_VOCAB_SIZE
    dropout: float = 0.1

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """A config from a JSON object (unknown keys are an error)."""
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown model config keys: {', '.join(sorted(unknown))}")
        return cls(**data)


def bart_config(cfg: ModelConfig) -> Any:
    """The transformers BartConfig for a ModelConfig, with the program vocabulary's specials."""
    from transformers import BartConfig

    return BartConfig(
        vocab_size=cfg.vocab_size, d_model=cfg.d_model, max_position_embeddings=cfg.max_positions,
        encoder_layers=cfg.encoder_layers, decoder_layers=cfg.decoder_layers,
        encoder_attention_heads=cfg.heads, decoder_attention_heads=cfg.heads,
        encoder_ffn_dim=cfg.ffn, decoder_ffn_dim=cfg.ffn, dropout=cfg.dropout,
        attention_dropout=0.0, activation_dropout=0.0,
        pad_token_id=PAD, bos_token_id=BOS, eos_token_id=EOS, decoder_start_token_id=BOS,
        forced_eos_token_id=None, tie_word_embeddings=True)


def _set_generation_ids(model: BartForConditionalGeneration) -> None:
    """Generation utilities read these from the generation config, not the model config."""
    gen = model.generation_config
    gen.pad_token_id, gen.bos_token_id, gen.eos_token_id = PAD, BOS, EOS
    gen.decoder_start_token_id = BOS
    gen.forced_eos_token_id = None
    gen.forced_bos_token_id = None


def build_model(cfg: ModelConfig = ModelConfig(), seed: int = 0) -> BartForConditionalGeneration:
    """A freshly initialised model; the same config and seed give the same weights."""
    import torch
    from transformers import BartForConditionalGeneration

    with torch.random.fork_rng(devices=[]):  # leave the caller's random stream alone
        torch.manual_seed(seed)
        model = BartForConditionalGeneration(bart_config(cfg))
    _set_generation_ids(model)
    return model


def model_config(model: BartForConditionalGeneration) -> ModelConfig:
    """The ModelConfig a model was built from."""
    c = model.config
    return ModelConfig(d_model=c.d_model, encoder_layers=c.encoder_layers,
                       decoder_layers=c.decoder_layers, heads=c.encoder_attention_heads,
                       ffn=c.encoder_ffn_dim, max_positions=c.max_position_embeddings,
                       vocab_size=c.vocab_size, dropout=c.dropout)


def count_parameters(model: Any) -> int:
    """Number of distinct trainable parameters (tied embeddings counted once)."""
    seen = {id(p): p for p in model.parameters() if p.requires_grad}
    return sum(p.numel() for p in seen.values())


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Hide transformers' per-file progress bars (checkpoints are small; they are noise)."""
    from transformers.utils import logging

    was_on = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            logging.enable_progress_bar()


def save_checkpoint(model: Any, directory: str | Path, meta: dict[str, Any]) -> Path:
    """Write config, safetensors weights and ``metarlm.json`` (meta must be JSON-safe)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    model = getattr(model, "module", model)  # unwrap DistributedDataParallel
    with _quiet():
        model.save_pretrained(out, safe_serialization=True)
    record = {"format": FORMAT, "model_config": asdict(model_config(model)),
              "vocab": list(VOCAB), **meta}
    tmp = out / (META_FILE + ".tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(out / META_FILE)  # atomic: a reader never sees half a file
    return out


def read_meta(directory: str | Path) -> dict[str, Any]:
    """The ``metarlm.json`` of a checkpoint (MetarlmError if missing or unreadable)."""
    path = Path(directory) / META_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MetarlmError(f"{directory}: not a metarlm checkpoint (no {META_FILE})") from None
    except (OSError, json.JSONDecodeError) as err:
        raise MetarlmError(f"{path}: cannot read: {err}") from None


def loadable_meta(directory: str | Path) -> dict[str, Any]:
    """The meta record of a checkpoint this version can read (MetarlmError if it was
    trained with another token vocabulary)."""
    meta = read_meta(directory)
    if meta.get("vocab") != list(VOCAB):
        raise MetarlmError(f"{directory}: the checkpoint was trained with another token "
                           "vocabulary than this version of metarlm")
    return meta


def load_checkpoint(directory: str | Path) -> tuple[BartForConditionalGeneration, dict[str, Any]]:
    """Load a checkpoint from a local directory (eval mode) and its meta record."""
    from transformers import BartForConditionalGeneration

    meta = loadable_meta(directory)
    with _quiet():
        model = BartForConditionalGeneration.from_pretrained(
            str(directory), local_files_only=True, use_safetensors=True)
    _set_generation_ids(model)
    model.eval()
    return model, meta


def save_optimizer(opt: Any, directory: str | Path, step: int) -> None:
    """Optimizer state as safetensors (tensors) plus JSON (groups, scalars, step)."""
    import torch
    from safetensors.torch import save_file

    state = opt.state_dict()
    tensors, scalars = {}, {}
    for pid, entry in state["state"].items():
        for key, value in entry.items():
            if torch.is_tensor(value):
                tensors[f"{pid}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{pid}.{key}"] = value
    save_file(tensors, str(Path(directory) / OPTIMIZER_TENSORS))
    record = {"step": step, "param_groups": state["param_groups"], "scalars": scalars}
    (Path(directory) / OPTIMIZER_JSON).write_text(json.dumps(record), encoding="utf-8")


def load_optimizer(opt: Any, directory: str | Path) -> int:
    """Restore what ``save_optimizer`` wrote; returns the step it was saved at."""
    from safetensors.torch import load_file

    record = json.loads((Path(directory) / OPTIMIZER_JSON).read_text(encoding="utf-8"))
    state: dict[int, dict[str, Any]] = {}
    for name, value in [*load_file(str(Path(directory) / OPTIMIZER_TENSORS)).items(),
                        *record["scalars"].items()]:
        pid, key = name.split(".", 1)
        state.setdefault(int(pid), {})[key] = value
    groups = [{**g, "betas": tuple(g["betas"])} if "betas" in g else g
              for g in record["param_groups"]]
    opt.load_state_dict({"state": state, "param_groups": groups})
    return int(record["step"])


def generate_ids(model: Any, sources: Sequence[Sequence[int]], samples: int = 0,
                 max_new_tokens: int = 256, seed: int = 0,
                 chunk: int = 32) -> list[list[list[int]]]:
    """Unconstrained programs for each encoded episode: one greedy row, or ``samples`` drawn.

    Rows start with BOS and stop at EOS (padding removed). Sampling draws from a private
    random stream seeded by ``seed``. Grammar-constrained decoding lives in
    ``metarlm.neural.decode``.
    """
    import torch

    model = getattr(model, "module", model)
    device = next(model.parameters()).device
    out: list[list[list[int]]] = []
    was_training = model.training
    model.eval()
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(seed)
        for lo in range(0, len(sources), chunk):
            rows = [list(s) for s in sources[lo:lo + chunk]]
            width = max(len(r) for r in rows)
            src = torch.tensor([r + [PAD] * (width - len(r)) for r in rows], device=device)
            n = max(1, samples)
            # top_k=0: sample from the whole distribution (transformers' default keeps 50)
            drawing = {"do_sample": True, "top_k": 0} if samples else {"do_sample": False}
            ids = model.generate(input_ids=src, attention_mask=(src != PAD).long(),
                                 max_new_tokens=max_new_tokens, num_return_sequences=n,
                                 num_beams=1, **drawing)
            for k in range(len(rows)):
                out.append([_trim(ids[k * n + j].tolist()) for j in range(n)])
    model.train(was_training)
    return out


def _trim(row: list[int]) -> list[int]:
    """A generated row up to and including its first EOS."""
    return row[: row.index(EOS) + 1] if EOS in row else row


# --- Teacher forcing and validation ----------------------------------------------------


def pad(rows: Sequence[Sequence[int]], value: int) -> torch.Tensor:
    """Rows of ids, right-padded with ``value`` to the longest."""
    import torch

    width = max(len(r) for r in rows)
    return torch.tensor([list(r) + [value] * (width - len(r)) for r in rows], dtype=torch.long)


def collate(items: Sequence[EncodedEpisode]) -> dict[str, torch.Tensor]:
    """Model inputs for teacher forcing: the decoder reads ``tgt[:-1]`` and predicts ``tgt[1:]``."""
    src = pad([it.src for it in items], PAD)
    return {"input_ids": src, "attention_mask": (src != PAD).long(),
            "decoder_input_ids": pad([it.tgt[:-1] for it in items], PAD),
            "labels": pad([it.tgt[1:] for it in items], -100)}


def token_loss(model: Any, items: Sequence[EncodedEpisode], chunk: int = 32) -> float:
    """Teacher-forced cross-entropy per target token (no gradients)."""
    import torch

    total, count = 0.0, 0
    device = next(model.parameters()).device
    with torch.no_grad():
        for lo in range(0, len(items), chunk):
            batch = {k: v.to(device) for k, v in collate(items[lo:lo + chunk]).items()}
            tokens = int((batch["labels"] != -100).sum())
            total += float(model(**batch).loss) * tokens
            count += tokens
    return total / max(1, count)


def reproduces(program: Program | None, examples: Sequence[Example],
               background: Program | None, fuel: int = 20_000) -> float:
    """Share of the examples that ``background + program`` reproduces (0 without a program).

    Checked with the reference interpreter: validation sets are small, and it is the spec.
    """
    from metarlm.lang.interp import Ok, evaluate

    if program is None or not examples or program.holes():
        return 0.0
    full = background + program if background is not None else program
    right = 0
    for ex in examples:
        try:
            result = evaluate(full, ex.input, fuel=fuel, max_output=1000)
        except RecursionError:  # a pathological proposal is a wrong one, not a crash
            return 0.0
        right += isinstance(result, Ok) and result.value == ex.output
    return right / len(examples)


def decoded(item: EncodedEpisode, ids: Sequence[int]) -> Program | None:
    """A generated row as a program under the item's abstraction (None if malformed/empty)."""
    try:
        program = item.abstraction.decode(ids, item.episode.algebra)
    except (ValueError, IndexError):
        return None
    return program if program.rules else None  # an empty program explains nothing


def decode_limit(target_ids: int, max_len: int) -> int:
    """Most ids decoded for an episode whose target has ``target_ids``: twice that and a
    margin, within ``max_len``; a longer program would be no fair proposal for it."""
    return min(max_len, 2 * target_ids + 8)


def proposals(model: Any, item: EncodedEpisode, samples: int, max_len: int,
              seed: int) -> list[tuple[int, ...]]:
    """Programs drawn under the domain's grammar (``metarlm.neural.decode``), in draw order."""
    from metarlm.lang.domain import load_domain
    from metarlm.neural.decode import ProgramConstraint, sample_programs

    try:
        constraint = ProgramConstraint.for_abstraction(
            load_domain(item.episode.domain), item.abstraction, max_len=max_len)
    except ValueError:  # no program of the domain fits these slots: nothing to propose
        return []
    drawn = sample_programs(getattr(model, "module", model), list(item.src), constraint,
                            samples, seed=seed)
    return [c.ids for c in drawn]


def validate(model: Any, items: Sequence[EncodedEpisode], samples: int = 16,
             max_len: int = 256, seed: int = 0,
             progress: Callable[[], None] | None = None) -> dict[str, float]:
    """Validation figures on held-out episodes (shares of ``items`` unless said otherwise).

    ``loss``: teacher-forced token loss. ``greedy_*``: the unconstrained greedy program is
    the target (``exact``), decodes (``parsed``), reproduces the support shown
    (``consistent``); ``greedy_query``: its mean accuracy on the queries. ``solve@k``: the
    greedy program or one of ``samples`` grammar-constrained samples reproduces the support;
    ``solve_query``: the query accuracy of the first such program. Programs are decoded up to
    ``decode_limit`` ids (an untrained model would otherwise run every row to ``max_len``),
    on one torch thread; ``progress`` is called once per episode done.
    """
    import torch

    threads = torch.get_num_threads()
    # Decoding takes many small steps and idle torch threads spin: on 2 busy cores, 2 threads
    # validated 9 times slower than one (the proposer decodes on one thread for that reason).
    torch.set_num_threads(1)
    try:
        return _validate(model, items, samples, max_len, seed, progress)
    finally:
        torch.set_num_threads(threads)


def _validate(model: Any, items: Sequence[EncodedEpisode], samples: int, max_len: int,
              seed: int, progress: Callable[[], None] | None) -> dict[str, float]:
    """``validate``'s figures, on whatever threads torch has."""
    started = time.time()
    was_training = model.training
    model.eval()
    loss = token_loss(model, items)
    longest = max((len(it.tgt) for it in items), default=0)
    greedy = generate_ids(model, [it.src for it in items], 0, decode_limit(longest, max_len))
    sums = dict.fromkeys(("exact", "parsed", "consistent", "query", "solved", "solved_query"), 0.0)
    for item, rows in zip(items, greedy):
        bg, query = item.episode.background, tuple(item.episode.query)
        program = decoded(item, rows[0])
        sums["exact"] += rows[0] == list(item.tgt)
        sums["parsed"] += program is not None
        sums["consistent"] += reproduces(program, item.support, bg) == 1.0
        sums["query"] += reproduces(program, query, bg)
        limit = decode_limit(len(item.tgt), max_len)
        drawn = proposals(model, item, samples, limit, seed) if samples else []
        for row in [rows[0], *drawn]:
            candidate = decoded(item, row)
            if reproduces(candidate, item.support, bg) == 1.0:
                sums["solved"] += 1
                sums["solved_query"] += reproduces(candidate, query, bg)
                break
        if progress is not None:
            progress()
    model.train(was_training)
    n = max(1, len(items))
    figures = {f"greedy_{k}": v / n for k, v in sums.items() if not k.startswith("solved")}
    return {"loss": loss, **figures, f"solve@{samples + 1}": sums["solved"] / n,
            "solve_query": sums["solved_query"] / n, "seconds": round(time.time() - started, 2)}
