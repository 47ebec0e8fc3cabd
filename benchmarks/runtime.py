"""The policy's two runtimes side by side: numpy (what the search runs) and torch (not a test).

In one run, on the shipped policy (or ``--checkpoint``):

- load: a fresh interpreter that imports what it needs and loads the checkpoint, wall time,
  median of ``--repeats`` (numpy: ``Policy.load``; torch: ``model.load_checkpoint``);
- score: one teacher-forced pass over ``--rules`` rules of 16 ids against a 60-id episode;
- step: one cached decoder step of 16 rows.

Both networks run on one thread (BLAS for numpy, intra-op for torch), the search's setting.

    python benchmarks/runtime.py --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

LOADS = {
    "numpy": "from metarlm.neural.policy import Policy; Policy.load({path!r})",
    "torch": "from metarlm.neural.model import load_checkpoint; load_checkpoint({path!r})",
}


def load_seconds(kind: str, path: str, repeats: int) -> float:
    """Median wall seconds of a fresh interpreter that loads the checkpoint that way."""
    code = LOADS[kind].format(path=path)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def per_call(fn: Callable[[], object], repeats: int) -> float:
    """Median seconds of one call, after one untimed call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def calls(path: str, rules: int, repeats: int) -> dict[str, float]:
    """Seconds of a scoring pass and of a decoder step, numpy and torch."""
    import torch

    from metarlm.neural.model import load_checkpoint
    from metarlm.neural.runtime import NumpyBart, one_blas_thread
    from metarlm.neural.torchnet import TorchNet

    torch.set_num_threads(1)
    model, _ = load_checkpoint(path)
    net = NumpyBart.load(path)
    rng = np.random.default_rng(0)
    src = rng.integers(3, 100, 60).tolist()
    tgt = rng.integers(3, 100, (rules, 16))
    memory = net.encode(src)

    def torch_score() -> object:
        with torch.inference_mode():
            enc = model.get_encoder()(input_ids=torch.tensor([src])).last_hidden_state
            return model(encoder_outputs=(enc.expand(rules, -1, -1),),
                         decoder_input_ids=torch.tensor(tgt)).logits

    def numpy_steps() -> object:
        steps = net.decoder(memory, 16)
        return [steps.step(tgt[:16, t]) for t in range(8)]

    with torch.inference_mode():  # both decoders read an episode encoded beforehand
        enc = model.get_encoder()(input_ids=torch.tensor([src])).last_hidden_state

    torch_net = TorchNet(model)

    def torch_steps() -> object:  # the same stepping the sampler runs on a torch model
        with torch_net.inference():
            steps = torch_net.decoder(enc, 16)
            return [steps.step(tgt[:16, t]) for t in range(8)]

    with one_blas_thread():
        out = {"score_numpy_s": per_call(lambda: net.logits(memory, tgt), repeats),
               "step_numpy_s": per_call(numpy_steps, repeats) / 8}
    out["score_torch_s"] = per_call(torch_score, repeats)
    out["step_torch_s"] = per_call(torch_steps, repeats) / 8
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    from metarlm.neural.policy import checkpoint_dir

    path = str(checkpoint_dir(args.checkpoint))
    report: dict[str, Any] = {"checkpoint": path, "rules": args.rules}
    report["load_numpy_s"] = load_seconds("numpy", path, args.repeats)
    report["load_torch_s"] = load_seconds("torch", path, args.repeats)
    report.update(calls(path, args.rules, args.repeats * 4))
    for what in ("load", "score", "step"):
        report[f"{what}_torch_over_numpy"] = report[f"{what}_torch_s"] / report[f"{what}_numpy_s"]
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default=None, help="policy (default: the shipped one)")
    ap.add_argument("--rules", type=int, default=32, help="rules in one scoring pass")
    ap.add_argument("--repeats", type=int, default=5, help="fresh loads timed per runtime")
    ap.add_argument("--json", action="store_true", help="print JSON instead of lines")
    args = ap.parse_args(argv)
    report = run(args)
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    for what, unit in (("load", "s"), ("score", "ms"), ("step", "ms")):
        scale = 1 if unit == "s" else 1000
        print(f"{what:5}  numpy {report[f'{what}_numpy_s'] * scale:8.2f} {unit}   torch "
              f"{report[f'{what}_torch_s'] * scale:8.2f} {unit}   torch / numpy "
              f"{report[f'{what}_torch_over_numpy']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
