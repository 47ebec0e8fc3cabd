"""The training command line: every option of a run, its help, the checks of its values
(``check_options``, before any model is built) and the command it records.

``metarlm train`` and ``python -m metarlm.neural.train`` (also under ``torchrun``) share this
one parser, so they take the same options; ``metarlm.neural.train.train_main`` runs them. The
command recorded in a checkpoint is written from the resolved options (every one of them,
``--warmup`` as it was applied), so that typing it again reproduces the run whatever the
defaults have become.
"""

from __future__ import annotations

import argparse
import inspect
import math
import shlex
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
    "valid_samples": "beam width (rules proposed) per validation state",
    "checkpoint_every": "steps between checkpoints",
    "stop_at": "stop after this step as if interrupted (0: run to --steps)",
    "resume": "continue the run in --out",
    "progress": "progress bars on stderr",
    "task": "policy: the next rule of a search state (the guide of the search); program: "
            "whole programs from the demonstration (the Nye-style sampler)",
    "states_per_episode": "search states labelled per sampled episode (policy task)",
    "on_policy": "share of sampled episodes that also give the states an unguided search "
                 "visits on them (policy task)",
}


def options(grammar: Sequence[str], out: str | Path, *, steps: int = 1000,
            batch_size: int = 32, prior: Sequence[str] = (), seed: int = 0,
            lr: float = 1e-3, warmup: int | None = None, d_model: int = 128, layers: int = 2,
            heads: int = 4, ffn: int = 512, pool: int = 256, reuse: int = 1,
            one_shot: float = 0.0, symbols: str = "episode", workers: int = 0,
            threads: int = 0,
            valid_every: int = 500, valid_episodes: int = 64, valid_samples: int = 16,
            checkpoint_every: int = 500, stop_at: int = 0, resume: bool = False,
            progress: bool = True, task: str = "policy", states_per_episode: int = 4,
            on_policy: float = 0.05) -> dict[str, Any]:
    """Every training option with its default, resolved as a run applies them (``layers``:
    encoder and decoder depth each; ``warmup``: see ``resolved_warmup``)."""
    resolved = dict(locals())
    resolved.update(grammar=list(grammar), out=str(out), prior=list(prior),
                    warmup=resolved_warmup(warmup, steps))
    return resolved


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
    """The parser of every option of ``options``, each with its help."""
    from metarlm.neural.tokens import SYMBOL_MODES

    out = _Parser(prog=prog, description="Meta-train the proposer on random programs sampled "
                  "from the given grammars.")
    out.add_argument("--grammar", action="append", required=True, help=HELP["grammar"])
    out.add_argument("--out", required=True, help=HELP["out"])
    for name, param in inspect.signature(options).parameters.items():
        flag, default = "--" + name.replace("_", "-"), param.default
        if name not in HELP or name in ("grammar", "out"):
            continue
        if isinstance(default, bool):
            out.add_argument(flag if not default else f"--no-{name}", dest=name,
                             action="store_false" if default else "store_true",
                             help=HELP[name])
        elif isinstance(default, tuple):
            out.add_argument(flag, dest=name, action="append", default=[], help=HELP[name])
        elif name in ("symbols", "task"):
            choices = SYMBOL_MODES if name == "symbols" else ("policy", "program")
            out.add_argument(flag, dest=name, choices=choices, default=default,
                             help=HELP[name] + f" (default {default})")
        else:
            kind = int if default is None else type(default)
            shown = "" if default is None else f" (default {default})"
            out.add_argument(flag, dest=name, type=kind, default=default,
                             help=HELP[name] + shown)
    return out


def parse(argv: Sequence[str] | None, prog: str) -> dict[str, Any]:
    """The resolved options of a training command line (MetarlmError when it is bad)."""
    return options(**vars(parser(prog).parse_args(argv)))


_AT_LEAST = {"steps": 1, "batch_size": 1, "d_model": 1, "heads": 1, "layers": 1, "ffn": 1,
             "reuse": 1, "valid_episodes": 1, "valid_samples": 1, "checkpoint_every": 1,
             "warmup": 0, "workers": 0, "threads": 0, "valid_every": 0, "stop_at": 0,
             "states_per_episode": 1}


def check_options(grammar: Sequence[str], out: str | Path, **values: Any) -> None:
    """InputError for options no run can use, before any model is built: the grammars must
    load, ``out`` must be a directory that can be made, and numbers must be in range."""
    from metarlm.errors import InputError, shorten
    from metarlm.lang.domain import load_domain

    for name, low in _AT_LEAST.items():
        if values[name] < low:
            raise InputError(f"--{name.replace('_', '-')} must be at least {low}, "
                             f"not {values[name]}")
    if not (math.isfinite(values["lr"]) and values["lr"] > 0):
        raise InputError(f"--lr must be a positive number, not {values['lr']}")
    if not 0 <= values["on_policy"] <= 1:
        raise InputError(f"--on-policy must be between 0 and 1, not {values['on_policy']}")
    if not 0 <= values["one_shot"] <= 1:
        raise InputError(f"--one-shot must be between 0 and 1, not {values['one_shot']}")
    if values["pool"] < values["batch_size"]:
        raise InputError(f"--batch-size {values['batch_size']} is more than the pool of "
                         f"{values['pool']} episodes")
    if values["d_model"] % values["heads"]:
        raise InputError(f"--d-model {values['d_model']} must be a multiple of the "
                         f"{values['heads']} attention heads")
    if not grammar:
        raise InputError("give at least one grammar to train on")
    for name in grammar:
        load_domain(name)
    try:
        Path(out).mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"--out {shorten(str(out))}: cannot make the directory: "
                         f"{err.strerror}") from None
