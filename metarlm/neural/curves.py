"""The training curve: loss and validation rates against steps, drawn as a PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_curves(log: dict[str, Any], path: Path) -> None:
    """Loss (training and validation) and validation rates against steps, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    train, valid = log["train"], log["valid"]
    left.plot([r["step"] for r in train], [r["loss"] for r in train], label="training")
    left.plot([r["step"] for r in valid], [r["loss"] for r in valid], "o-", label="validation")
    left.set(xlabel="step", ylabel="token loss", yscale="log", title="loss")
    left.legend()
    rates = sorted({k for r in valid for k in r if k.startswith(("greedy_", "solve"))})
    for key in rates:
        right.plot([r["step"] for r in valid], [r[key] for r in valid], "o-", label=key)
    right.set(xlabel="step", ylabel="share of episodes", ylim=(0, 1), title="validation")
    if rates:
        right.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
