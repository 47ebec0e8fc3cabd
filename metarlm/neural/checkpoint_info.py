"""What a checkpoint is: read ``metarlm.json`` and hash the weights (no torch import)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from metarlm.errors import MetarlmError

CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"
SHIPPED = CHECKPOINTS / "default"  # recipes/default.sh: the meta-trained policy
SHIPPED_NOMETA = CHECKPOINTS / "nometa"  # recipes/nometa.sh: the same, without abstraction
SHIPPED_NYE = CHECKPOINTS / "nye"  # recipes/nye.sh: whole programs (the Nye et al. baseline)


def checkpoint_sha256(directory: str | Path) -> str:
    """The one hash of a checkpoint, in ``metarlm info`` and in evaluation results: the sha256
    of its weights, ``model.safetensors`` (what ``sha256sum`` prints for that file)."""
    directory = Path(directory)
    digest = hashlib.sha256()
    with open(directory / "model.safetensors", "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


SHIPPED_BY_NAME = {"default": SHIPPED, "nometa": SHIPPED_NOMETA, "nye": SHIPPED_NYE}


def role(task: str, symbols: str) -> str:
    """What a checkpoint does in synthesis, in words."""
    if task == "policy":
        how = ("meta-trained: fresh symbols every episode" if symbols == "episode"
               else "fixed symbols, no meta-learning (nometa)")
        return f"policy: proposes and scores the search's next rule ({how})"
    return "whole-program sampler: programs sampled, then checked (Nye et al.)"


def resolve(checkpoint: str | Path | None) -> Path:
    """A checkpoint directory: a path, a shipped name (default, nometa, nye), or the default."""
    if checkpoint is None:
        return SHIPPED
    if str(checkpoint) in SHIPPED_BY_NAME and not os.path.isdir(checkpoint):
        return SHIPPED_BY_NAME[str(checkpoint)]
    return Path(checkpoint)


def describe(checkpoint: str | Path | None = None) -> dict[str, Any]:
    """A JSON-safe summary of a checkpoint directory or shipped name (MetarlmError if it is
    not one)."""
    directory = resolve(checkpoint)
    meta_path = directory / "metarlm.json"
    # os.path.isfile, unlike Path.is_file, is False for names too long or with a NUL byte
    if not (os.path.isfile(meta_path) and os.path.isfile(directory / "model.safetensors")):
        raise MetarlmError(f"not a metarlm checkpoint: {directory} "
                           "(needs metarlm.json and model.safetensors)")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:  # ValueError: bad UTF-8 or JSON
        raise MetarlmError(f"{meta_path}: unreadable: {err}") from None
    if not isinstance(meta, dict):
        raise MetarlmError(f"{meta_path}: unreadable: not a JSON object")
    size = sum(p.stat().st_size for p in directory.iterdir() if p.is_file())
    task, symbols = meta.get("task", "program"), meta.get("symbols", "episode")
    return {
        "checkpoint": str(directory),
        "role": role(str(task), str(symbols)),
        "sha256": checkpoint_sha256(directory),
        "size_bytes": size,
        "parameters": meta.get("parameters"),
        "model": meta.get("model_config"),
        "grammars": meta.get("grammars"),
        "priors": meta.get("priors"),
        "steps": meta.get("steps"),
        "seed": meta.get("seed"),
        "symbols": symbols,
        "task": task,
        "training_seconds": meta.get("seconds"),
        "command": meta.get("command"),
        "written": meta.get("written"),
        "validation": meta.get("validation"),
    }
