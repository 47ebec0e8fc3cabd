"""Meta-training: random episodes from domain grammars, teacher-forced program decoding.

Every batch is a pure function of ``(seed, rank, step)``: its episodes, their abstractions
and the dropout masks are drawn from seeds derived from those three numbers. So a run that
resumes from a checkpoint takes exactly the steps the uninterrupted run would have taken, and
under ``torchrun`` each process trains on its own stream. Only rank 0 validates and writes.

The output directory is a loadable checkpoint (``metarlm.neural.model.load_checkpoint``) plus the
training state (``optimizer.safetensors`` + ``optimizer.json``), ``log.json`` and ``curve.png``.

    python -m metarlm.neural.train --grammar miniscan --grammar scan --steps 20000 --out ckpt
    python -m metarlm.neural.train --grammar miniscan --grammar scan --steps 20000 --out ckpt \
        --resume
    torchrun --nproc_per_node 2 -m metarlm.neural.train --grammar scan --steps 1000 --out ckpt

On a few CPU cores, ``--threads`` matters: torch's threads spin while they wait for each other,
so when other jobs share the cores one thread per process is much faster than several.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import torch

from metarlm.errors import MetarlmError
from metarlm.neural.curves import plot_curves
from metarlm.neural.model import (
    ModelConfig,
    build_model,
    collate,
    count_parameters,
    load_checkpoint,
    load_optimizer,
    read_meta,
    save_checkpoint,
    save_optimizer,
    validate,
)
from metarlm.neural.policy import validate_policy
from metarlm.neural.tokens import SYMBOL_MODES, EncodedEpisode, encode_pair
from metarlm.neural.train_options import check_options, command_line, options, parse

TASKS = ("policy", "program")
LOG_FILE = "log.json"
CURVE_FILE = "curve.png"


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on (``batch_size`` is per process)."""

    out: Path
    grammars: tuple[str, ...] = ("miniscan", "scan", "numbers", "code")
    priors: tuple[str, ...] = ()  # one per grammar, a name in sample.PRIORS or "auto"
    steps: int = 1000
    batch_size: int = 32
    lr: float = 1e-3
    warmup: int = 200
    weight_decay: float = 0.01
    clip: float = 1.0
    seed: int = 0
    model: ModelConfig = field(default_factory=ModelConfig)
    max_src: int = 512
    max_tgt: int = 256
    one_shot: float = 0.0  # share of uses that cut an episode's support to its first example
    symbols: str = "episode"  # "fixed": no per-episode abstraction (the nometa baseline)
    pool: int = 256  # episodes per chunk of the stream
    reuse: int = 1  # times each sampled episode is used, with fresh slots each time
    bucket: bool = True  # batch episodes of similar length together (less padding)
    threads: int = 0  # torch threads per process (0: torch's default)
    valid_every: int = 500
    valid_episodes: int = 64
    valid_samples: int = 16
    valid_seed: int = 9_000_001  # fixed, so runs with other seeds meet the same episodes
    checkpoint_every: int = 500
    log_every: int = 20
    workers: int = 0  # processes that build batches ahead of the model (0: inline)
    resume: bool = False  # continue from the checkpoint in ``out`` (its model size wins)
    stop_at: int = 0  # stop after this step as if interrupted (0: run to ``steps``)
    progress: bool = True
    command: str = ""
    task: str = "policy"  # "policy": one rule for a search state; "program": whole programs
    states_per_episode: int = 4  # policy states labelled per sampled episode
    on_policy: float = 0.05  # share of sampled episodes that also give the search's own states

    def __post_init__(self) -> None:
        if self.pool < self.batch_size:
            raise ValueError(f"pool ({self.pool}) must hold at least one batch "
                             f"({self.batch_size})")
        if max(self.max_src, self.max_tgt) > self.model.max_positions:
            raise ValueError("max_src and max_tgt must fit the model's max_positions")
        if self.symbols not in SYMBOL_MODES:
            raise ValueError(f"symbols must be one of {', '.join(SYMBOL_MODES)}")
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {', '.join(TASKS)}")


@dataclass(frozen=True)
class Stream:
    """One source of episodes: a grammar and the prior that samples its programs."""

    grammar: str
    prior: str = "auto"
    task: str = "policy"
    states_per_episode: int = 4
    on_policy: float = 0.05


def derive_seed(*parts: int | str) -> int:
    """A 63-bit seed determined by all the parts (stable across runs and platforms)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def streams_of(cfg: TrainConfig) -> list[Stream]:
    """The episode streams of a config; ValueError if priors and grammars do not pair up."""
    if cfg.priors and len(cfg.priors) != len(cfg.grammars):
        raise ValueError("give one prior per grammar, or none")
    priors = cfg.priors or ("auto",) * len(cfg.grammars)
    return [Stream(g, p, cfg.task, cfg.states_per_episode, cfg.on_policy)
            for g, p in zip(cfg.grammars, priors)]


def episode_iter(stream: Stream, seed: int) -> Iterator[Any]:
    """The sampler's episodes for a stream (``metarlm.neural.sample``), or for the policy
    the search states labelled from them (``metarlm.neural.states``)."""
    from metarlm.neural import sample
    from metarlm.neural.states import policy_episodes

    prior = (sample.prior_for(stream.grammar) if stream.prior == "auto"
             else sample.PRIORS[stream.prior])
    episodes = sample.episodes(stream.grammar, prior, seed)
    if stream.task == "program":
        return episodes
    return policy_episodes(episodes, derive_seed(seed, "states"), stream.states_per_episode,
                           stream.on_policy)


def prepare(episode: Any, rng: random.Random, cfg: TrainConfig,
            first_only: bool) -> EncodedEpisode | None:
    """Abstract and encode one episode within the config's limits (None if it does not fit)."""
    return encode_pair(episode, rng, cfg.max_src, cfg.max_tgt, first_only, cfg.symbols)


def usable_episodes(stream: Stream, count: int, seed: int, cfg: TrainConfig) -> list[Any]:
    """``count`` episodes of a stream that fit the model (MetarlmError if they rarely do)."""
    probe = random.Random(0)  # fitting does not depend on the slots drawn
    out: list[Any] = []
    for tries, episode in enumerate(episode_iter(stream, seed)):
        if len(out) == count:
            break
        if tries > 50 * count + 50:
            raise MetarlmError(f"episodes of {stream.grammar} rarely fit the model's limits "
                               f"(max_src={cfg.max_src}, max_tgt={cfg.max_tgt}, slots)")
        if prepare(episode, probe, cfg, False) is not None:
            out.append(episode)
    return out


def chunk_episodes(cfg: TrainConfig, streams: Sequence[Stream], rank: int, k: int) -> list[Any]:
    """Chunk ``k`` of a process's episodes: ``cfg.pool`` of them, streams mixed at random."""
    rng = random.Random(derive_seed(cfg.seed, "chunk", rank, k))
    counts = [0] * len(streams)
    for _ in range(cfg.pool):
        counts[rng.randrange(len(streams))] += 1
    out: list[Any] = []
    for j, (stream, count) in enumerate(zip(streams, counts)):
        if count:
            out += usable_episodes(stream, count, derive_seed(cfg.seed, "episodes", rank, k, j),
                                   cfg)
    return out


def steps_per_chunk(cfg: TrainConfig) -> int:
    """Steps that draw on one chunk: each of its episodes is seen ``cfg.reuse`` times."""
    return cfg.reuse * max(1, cfg.pool // cfg.batch_size)


def episode_size(episode: Any, cfg: TrainConfig) -> int:
    """Padded cost of an episode in a batch: its source plus target length (slot-free)."""
    item = prepare(episode, random.Random(0), cfg, False)
    return 0 if item is None else len(item.src) + len(item.tgt)


def chunk_batches(cfg: TrainConfig, chunk: Sequence[Any], rank: int, k: int) -> list[list[int]]:
    """The episode indices of each step of chunk ``k``: ``reuse`` shuffled passes.

    With ``cfg.bucket``, each run of 8 batches of a pass is sorted by size before it is cut,
    so batches hold episodes of similar length (less padding), and the batches are shuffled.
    """
    rng = random.Random(derive_seed(cfg.seed, "order", rank, k))
    size = [episode_size(e, cfg) for e in chunk] if cfg.bucket else []
    width, out = cfg.batch_size, []
    for _ in range(cfg.reuse):
        order = rng.sample(range(len(chunk)), len(chunk))
        if cfg.bucket:
            group = 8 * width
            order = [i for g in range(0, len(order), group)
                     for i in sorted(order[g:g + group], key=size.__getitem__)]
        batches = [order[j:j + width] for j in range(0, len(order), width)]
        if cfg.bucket:
            rng.shuffle(batches)
        out += batches[: max(1, cfg.pool // width)]
    return out


def make_batch(cfg: TrainConfig, chunk: Sequence[Any], picks: Sequence[int], rank: int,
               step: int) -> list[EncodedEpisode]:
    """The items of one step, freshly abstracted: a pure function of its arguments."""
    rng = random.Random(derive_seed(cfg.seed, "batch", rank, step))
    items = [prepare(chunk[i], rng, cfg, rng.random() < cfg.one_shot) for i in picks]
    return [it for it in items if it is not None]


def validation_items(cfg: TrainConfig, streams: Sequence[Stream]) -> list[EncodedEpisode]:
    """The held-out episodes: the same for every run that validates with ``valid_seed``."""
    per = math.ceil(cfg.valid_episodes / len(streams))
    rng = random.Random(cfg.valid_seed)
    items: list[EncodedEpisode] = []
    for stream in streams:
        seed = derive_seed(cfg.valid_seed, "valid", stream.grammar, stream.prior)
        items += [prepare(e, rng, cfg, False) for e in usable_episodes(stream, per, seed, cfg)]
    return [it for it in items if it is not None][: cfg.valid_episodes]


class Feeder:
    """Training batches by step; chunks of episodes are built ahead by ``cfg.workers`` processes
    (inline when 0), so sampling and the model can use different cores."""

    def __init__(self, cfg: TrainConfig, streams: Sequence[Stream], rank: int) -> None:
        self.cfg, self.streams, self.rank = cfg, list(streams), rank
        self.last = math.ceil(cfg.steps / steps_per_chunk(cfg))
        self.pending: dict[int, Future[list[Any]]] = {}
        self.current: tuple[int, list[Any], list[list[int]]] = (-1, [], [])
        self.pool = (ProcessPoolExecutor(cfg.workers, mp_context=get_context("spawn"))
                     if cfg.workers else None)

    def chunk(self, k: int) -> tuple[list[Any], list[list[int]]]:
        """Chunk ``k`` and its batches (waiting for its worker if need be)."""
        if self.current[0] == k:
            return self.current[1], self.current[2]
        if self.pool is None:
            episodes = chunk_episodes(self.cfg, self.streams, self.rank, k)
        else:
            for j in range(k, min(self.last, k + self.cfg.workers + 1)):
                if j not in self.pending:  # start the next chunks while the model trains
                    self.pending[j] = self.pool.submit(chunk_episodes, self.cfg, self.streams,
                                                       self.rank, j)
            episodes = self.pending.pop(k).result()
        self.current = (k, episodes, chunk_batches(self.cfg, episodes, self.rank, k))
        return self.current[1], self.current[2]

    def batch(self, step: int) -> dict[str, torch.Tensor]:
        """The collated batch of a step."""
        per = steps_per_chunk(self.cfg)
        episodes, batches = self.chunk(step // per)
        return collate(make_batch(self.cfg, episodes, batches[step % per], self.rank, step))

    def close(self) -> None:
        """Stop the workers (chunks still being built are dropped)."""
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * (0.1 + 0.45 * (1 + math.cos(math.pi * min(1.0, progress))))


def train_step(model: Any, opt: torch.optim.Optimizer, batch: dict[str, torch.Tensor],
               cfg: TrainConfig, rank: int, step: int) -> float:
    """One optimizer step on one batch; returns the batch's mean token loss."""
    for group in opt.param_groups:
        group["lr"] = lr_at(step, cfg)
    torch.manual_seed(derive_seed(cfg.seed, "dropout", rank, step))  # resumable dropout
    model.train()
    device = next(model.parameters()).device
    loss = model(**{k: v.to(device) for k, v in batch.items()}).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
    opt.step()
    opt.zero_grad(set_to_none=True)
    return float(loss.detach())


def write_checkpoint(model: Any, opt: torch.optim.Optimizer, cfg: TrainConfig,
                     log: dict[str, Any], step: int, started: float) -> None:
    """Write the model, the optimizer, the log and the curve; files replace the old ones."""
    tmp = cfg.out / ".writing"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    valid = log["valid"][-1] if log["valid"] else None
    meta = {"grammars": list(cfg.grammars), "priors": [s.prior for s in streams_of(cfg)],
            "steps": step, "seed": cfg.seed, "symbols": cfg.symbols, "task": cfg.task,
            "command": cfg.command,
            "validation": valid,
            "train_config": config_to_json(cfg), "seconds": round(time.time() - started, 2),
            "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "parameters": count_parameters(model),
            "world_size": world_size()}
    save_optimizer(opt, tmp, step)
    save_checkpoint(model, tmp, meta)
    for path in sorted(tmp.iterdir(), key=lambda p: p.name == "metarlm.json"):
        os.replace(path, cfg.out / path.name)  # metarlm.json last: it names the step
    tmp.rmdir()
    write_log(cfg, log)


def write_log(cfg: TrainConfig, log: dict[str, Any]) -> None:
    """``log.json`` and ``curve.png`` in the output directory."""
    cfg.out.mkdir(parents=True, exist_ok=True)
    (cfg.out / LOG_FILE).write_text(json.dumps(log, indent=1) + "\n", encoding="utf-8")
    plot_curves(log, cfg.out / CURVE_FILE)


def config_to_json(cfg: TrainConfig) -> dict[str, Any]:
    """A TrainConfig as a JSON object."""
    data = asdict(cfg)
    data["out"] = str(cfg.out)
    return data


def world_size() -> int:
    """Number of processes in this run (1 without torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def init_distributed() -> tuple[int, int]:
    """Join the process group when launched by torchrun; returns (rank, world size)."""
    world = world_size()
    if world == 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), world


def restore(cfg: TrainConfig) -> tuple[Any, int, dict[str, Any], TrainConfig, float]:
    """Model, step, log, config (with the checkpoint's model size) and seconds spent so far."""
    meta = read_meta(cfg.out)
    model, _ = load_checkpoint(cfg.out)
    cfg = replace(cfg, model=ModelConfig.from_dict(meta["model_config"]))
    log_path = cfg.out / LOG_FILE
    log = json.loads(log_path.read_text(encoding="utf-8")) if log_path.exists() else new_log(cfg)
    step = int(meta["steps"])
    for key in ("train", "valid"):  # drop what was logged after the checkpoint
        log[key] = [r for r in log[key] if r["step"] <= step]
    return model, step, log, cfg, float(meta.get("seconds", 0.0))


def new_log(cfg: TrainConfig) -> dict[str, Any]:
    """An empty training log."""
    return {"config": config_to_json(cfg), "train": [], "valid": []}


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (the loop reseeds torch per step as well)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@dataclass
class Run:
    """The mutable state of a training run in one process."""

    cfg: TrainConfig
    rank: int
    world: int
    model: Any
    net: Any  # the model, wrapped for data parallelism when world > 1
    opt: torch.optim.Optimizer
    start: int
    log: dict[str, Any]
    started: float  # wall-clock origin, earlier runs' seconds included (after --resume)
    valid: list[EncodedEpisode]
    window: list[float] = field(default_factory=list)


def setup(cfg: TrainConfig) -> Run:
    """Seed, build or restore the model and optimizer, join the process group."""
    rank, world = init_distributed()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    seed_everything(derive_seed(cfg.seed, "process", rank))
    spent, found = 0.0, (cfg.out / "metarlm.json").exists()
    if found and not cfg.resume:
        raise MetarlmError(f"{cfg.out} already holds a checkpoint: resume it (--resume) "
                           "or train into another directory")
    if found:
        model, start, log, cfg, spent = restore(cfg)
    else:
        model, start, log = build_model(cfg.model, cfg.seed), 0, new_log(cfg)
    on_gpu = torch.cuda.is_available()
    model.to(torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0"))) if on_gpu else "cpu")
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    if start:
        load_optimizer(opt, cfg.out)
    net = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model)
    valid = validation_items(cfg, streams_of(cfg)) if rank == 0 and cfg.valid_every else []
    return Run(cfg, rank, world, model, net, opt, start, log, time.time() - spent, valid)


def after_step(run: Run, step: int, loss: float) -> None:
    """Rank 0's bookkeeping: log the loss, validate and checkpoint when due."""
    cfg, done = run.cfg, step + 1
    run.window.append(loss)
    if run.rank != 0:
        return
    if done % cfg.log_every == 0 or done == cfg.steps:
        run.log["train"].append({
            "step": done, "loss": sum(run.window) / len(run.window), "lr": lr_at(step, cfg),
            "seconds": round(time.time() - run.started, 2),
            "episodes": done * cfg.batch_size * run.world})
        run.window = []
    if run.valid and (done % cfg.valid_every == 0 or done == cfg.steps):
        figures = validate_with_progress(run)
        run.log["valid"].append({"step": done, **figures})
        write_log(cfg, run.log)
    if done % cfg.checkpoint_every == 0 or done in (cfg.steps, cfg.stop_at):
        write_checkpoint(run.model, run.opt, cfg, run.log, done, run.started)


def validate_with_progress(run: Run) -> dict[str, float]:
    """Validate on the held-out episodes, with a bar of its own (it takes a while)."""
    from tqdm import tqdm

    cfg = run.cfg
    with tqdm(total=len(run.valid), desc="validating", unit="episode", leave=False,
              dynamic_ncols=True, disable=not cfg.progress) as bar:
        check = validate_policy if cfg.task == "policy" else validate
        return check(run.model, run.valid, cfg.valid_samples, cfg.max_tgt, cfg.valid_seed,
                     progress=lambda: bar.update(1))


def train(cfg: TrainConfig) -> Path:
    """Run (or resume) training; returns the output directory, a loadable checkpoint."""
    from tqdm import tqdm

    run = setup(cfg)
    cfg = run.cfg
    feeder = Feeder(cfg, streams_of(cfg), run.rank)
    bar = tqdm(total=cfg.steps, initial=run.start, unit="step", dynamic_ncols=True,
               disable=run.rank != 0 or not cfg.progress)
    try:
        for step in range(run.start, cfg.stop_at or cfg.steps):
            loss = train_step(run.net, run.opt, feeder.batch(step), cfg, run.rank, step)
            after_step(run, step, loss)
            bar.update(1)
            if run.log["train"]:
                bar.set_postfix(loss=f"{run.log['train'][-1]['loss']:.3f}", refresh=False)
    finally:
        bar.close()
        feeder.close()
    if run.world > 1:
        import torch.distributed as dist

        dist.barrier()  # no rank leaves before rank 0 has written the last checkpoint
        dist.destroy_process_group()
    return cfg.out


# TrainConfig fields that the command-line options set under the same name
SAME_NAMED = ("steps", "batch_size", "lr", "warmup", "seed", "pool", "reuse", "one_shot",
              "symbols", "workers", "threads", "valid_every", "valid_episodes", "valid_samples",
              "checkpoint_every", "stop_at", "resume", "progress", "task", "states_per_episode",
              "on_policy")


def train_main(grammar: Sequence[str], out: str | Path, *,
               prog: str = "python -m metarlm.neural.train", **given: Any) -> Path:
    """Train from the keyword options of ``train_options.options``; returns the output
    directory (MetarlmError on bad options). ``prog`` starts the recorded command."""
    opts = options(grammar, out, **given)
    # options no run can use, and a misspelt grammar, fail now, not after the model is built
    check_options(opts["grammar"], out,
                  **{k: v for k, v in opts.items() if k not in ("grammar", "out")})
    model = ModelConfig(d_model=opts["d_model"], encoder_layers=opts["layers"],
                        decoder_layers=opts["layers"], heads=opts["heads"], ffn=opts["ffn"])
    try:
        cfg = TrainConfig(out=Path(out), grammars=tuple(opts["grammar"]),
                          priors=tuple(opts["prior"]), model=model,
                          command=command_line(prog, opts), **{k: opts[k] for k in SAME_NAMED})
    except ValueError as err:
        raise MetarlmError(str(err)) from None
    return train(cfg)


def main(argv: Sequence[str] | None = None, prog: str = "python -m metarlm.neural.train") -> Path:
    """Parse a training command line (``train_options.parser``) and run it."""
    return train_main(**parse(argv, prog), prog=prog)


if __name__ == "__main__":
    try:
        main()
    except MetarlmError as err:  # one line and the exit code, as from metarlm train
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(err.exit_code) from None
