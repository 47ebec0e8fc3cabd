"""The training command line: every option of a run, its help, and the command it records.

``metarlm train`` and ``python -m metarlm.neural.train`` (also under ``torchrun``) share this
one parser, so they take the same options. The command recorded in a checkpoint is written
from the resolved options (every one of them, ``--warmup`` as it was applied), so that typing
it again reproduces the run whatever the defaults have become.
"""

from __future__ import annotations

import argparse
import inspect
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from metarlm.errors import MetarlmError

AUTO_WARMUP = 200  # warm-up steps when --warmup is not given, at most a fifth of the run

HELP: dict[str, str] = {
    "grammar": "a built-in domain name or a .lark grammar file (repeat to mix domains)",
    "out": "output directory: checkpoint, log.json, curve.png",
    "steps": "optimisation steps",
    "batch_size": "episodes per step and process",
    "prior": "the sampling prior of each grammar, in order: a name of "
             "metarlm.neural.sample.PRIORS or auto (repeat; default auto for all)",
    "seed": "seed of data, weights and order",
    "lr": "peak learning rate",
    "warmup": f"linear warm-up steps (default: {AUTO_WARMUP}, at most a fifth of --steps)",
    "d_model": "model width",
    "layers": "encoder and decoder layers each",
    "heads": "attention heads",
    "ffn": "feed-forward width",
    "pool": "episodes sampled per chunk of the stream",
    "reuse": "times each sampled episode is used, with fresh slots each time",
    "one_shot": "share of uses that cut an episode's support to its first example",
    "symbols": "episode: random slots per episode (meta-learning); fixed: one slot per word "
               "everywhere (the nometa baseline)",
    "workers": "processes that sample episodes ahead of the model (0: inline)",
    "threads": "torch threads per process (0: torch's default)",
    "valid_every": "steps between validations (0: never; the last step always validates "
                   "otherwise)",
    "valid_episodes": "held-out episodes per validation",
    "valid_samples": "grammar-constrained samples per validation episode",
    "checkpoint_every": "steps between checkpoints",
    "stop_at": "stop after this step as if interrupted (0: run to --steps)",
    "resume": "continue the run in --out",
    "progress": "progress bars on stderr",
}


def train_main(grammar: Sequence[str], out: str | Path, *, steps: int = 1000,
               batch_size: int = 32, prior: Sequence[str] = (), seed: int = 0,
               lr: float = 1e-3, warmup: int | None = None, d_model: int = 128, layers: int = 2,
               heads: int = 4, ffn: int = 512, pool: int = 256, reuse: int = 1,
               one_shot: float = 0.0, symbols: str = "episode", workers: int = 0,
               threads: int = 0,
               valid_every: int = 500, valid_episodes: int = 64, valid_samples: int = 16,
               checkpoint_every: int = 500, stop_at: int = 0, resume: bool = False,
               progress: bool = True, prog: str = "python -m metarlm.neural.train") -> Path:
    """Train from keyword options; returns the output directory (MetarlmError on bad ones).

    ``layers`` is the depth of the encoder and of the decoder each; ``prog`` starts the
    recorded command.
    """
    from metarlm.lang.domain import load_domain
    from metarlm.neural.model import ModelConfig
    from metarlm.neural.train import TrainConfig, train

    for name in grammar:  # a misspelt grammar fails now, not after the model is built
        load_domain(name)
    options = {k: v for k, v in locals().items() if k in HELP}
    options["warmup"] = resolved_warmup(warmup, steps)
    model = ModelConfig(d_model=d_model, encoder_layers=layers, decoder_layers=layers,
                        heads=heads, ffn=ffn)
    try:
        cfg = TrainConfig(
            out=Path(out), grammars=tuple(grammar), priors=tuple(prior), steps=steps,
            batch_size=batch_size, lr=lr, warmup=options["warmup"], seed=seed, model=model,
            pool=pool, reuse=reuse, one_shot=one_shot, symbols=symbols, workers=workers,
            threads=threads, valid_every=valid_every, valid_episodes=valid_episodes,
            valid_samples=valid_samples, checkpoint_every=checkpoint_every, stop_at=stop_at,
            resume=resume, progress=progress, command=command_line(prog, options))
    except ValueError as err:
        raise MetarlmError(str(err)) from None
    return train(cfg)


def resolved_warmup(warmup: int | None, steps: int) -> int:
    """The warm-up a run applies: the one given, else AUTO_WARMUP up to a fifth of the run."""
    return warmup if warmup is not None else min(AUTO_WARMUP, max(1, steps // 5))


def command_line(prog: str, options: dict[str, Any]) -> str:
    """The command that reruns a training run with these resolved options."""
    words = shlex.split(prog)
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            words += [flag] if value and name != "progress" else []
            words += ["--no-progress"] if name == "progress" and not value else []
        elif isinstance(value, (list, tuple)):
            for item in value:
                words += [flag, str(item)]
        else:
            words += [flag, str(value)]
    return shlex.join(words)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one-line MetarlmErrors (exit 2), not usage dumps."""

    def error(self, message: str) -> NoReturn:
        raise MetarlmError(f"{message} (see {self.prog} --help)")


def parser(prog: str) -> argparse.ArgumentParser:
    """The parser of every ``train_main`` option, each with its help."""
    from metarlm.neural.tokens import SYMBOL_MODES

    out = _Parser(prog=prog, description="Meta-train the proposer on random programs sampled "
                  "from the given grammars.")
    out.add_argument("--grammar", action="append", required=True, help=HELP["grammar"])
    out.add_argument("--out", required=True, help=HELP["out"])
    for name, param in inspect.signature(train_main).parameters.items():
        flag, default = "--" + name.replace("_", "-"), param.default
        if name not in HELP or name in ("grammar", "out"):
            continue
        if isinstance(default, bool):
            out.add_argument(flag if not default else f"--no-{name}", dest=name,
                             action="store_false" if default else "store_true",
                             help=HELP[name])
        elif isinstance(default, tuple):
            out.add_argument(flag, dest=name, action="append", default=[], help=HELP[name])
        elif name == "symbols":
            out.add_argument(flag, dest=name, choices=SYMBOL_MODES, default=default,
                             help=HELP[name] + f" (default {default})")
        else:
            kind = int if default is None else type(default)
            shown = "" if default is None else f" (default {default})"
            out.add_argument(flag, dest=name, type=kind, default=default,
                             help=HELP[name] + shown)
    return out


def main(argv: Sequence[str] | None = None, prog: str = "python -m metarlm.neural.train") -> Path:
    """Parse a training command line and run it; returns the output directory."""
    args = parser(prog).parse_args(argv)
    return train_main(**vars(args), prog=prog)


def run_module() -> None:
    """``python -m metarlm.neural.train``: a MetarlmError is one line on stderr and its code."""
    try:
        main()
    except MetarlmError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(err.exit_code) from None
