"""Writing an evaluation: ``results.json``, ``results.md`` (Markdown tables) and PNG plots."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from metarlm.eval.metrics import Record, solved_times

PLOT_SHOTS = "accuracy_vs_demonstrations.png"
PLOT_SOLVED = "solved_vs_seconds.png"


def _pct(value: float | None) -> str:
    """A share as a percentage with one decimal, or a dash."""
    return "–" if value is None else f"{100 * value:.1f}"


def _num(value: float | None, digits: int = 2) -> str:
    """A number (floats to ``digits`` places), or a dash."""
    if value is None:
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _interval(iv: dict[str, Any]) -> str:
    """``mean [low, high]`` in percent; the interval is left out when there is none."""
    if iv["mean"] is None:
        return "–"
    if iv["low"] is None:
        return _pct(iv["mean"])
    return f"{_pct(iv['mean'])} [{_pct(max(0.0, iv['low']))}, {_pct(min(1.0, iv['high']))}]"


def _where(checkpoint: str | None) -> str:
    """A checkpoint path as a reader can find it: inside the package from its root
    (``metarlm/checkpoints/default``), else relative to the working directory when below it."""
    if not checkpoint:
        return "–"
    path = Path(checkpoint)
    package = Path(__file__).resolve().parents[1]
    for base, prefix in ((package, Path(package.name)), (Path.cwd().resolve(), Path())):
        if path.is_relative_to(base):
            return (prefix / path.relative_to(base)).as_posix()
    return checkpoint


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table as lines."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def main_table(aggregates: Sequence[dict[str, Any]]) -> list[str]:
    """One row per suite × system: accuracy, solved, speed and the OOD gap."""
    header = ["suite", "system", "accuracy % (95% CI)", "solved", "consistent %",
              "cand. (median)", "s (median)", "ID %", "OOD %", "gap (pts)", "errors"]
    rows = [[a["suite"], a["system"], _interval(a["accuracy"]), f"{a['solved']}/{a['tasks']}",
             _pct(a["consistent_rate"]), _num(a["candidates_to_consistent"]["median"], 0),
             _num(a["seconds_to_consistent"]["median"]), _pct(a["id_accuracy"]),
             _pct(a["ood_accuracy"]),
             "–" if a["ood_gap"] is None else f"{100 * a['ood_gap']:+.1f}", str(a["errors"])]
            for a in aggregates]
    return _table(header, rows)


def shots_table(aggregates: Sequence[dict[str, Any]]) -> list[str]:
    """Accuracy (%) against the number of demonstrations kept."""
    keys = list(dict.fromkeys(k for a in aggregates for k in a["shots"]))
    keys.sort(key=lambda k: float("inf") if k == "all" else int(k))
    rows = [[a["suite"], a["system"],
             *(_interval(a["shots"][k]) if k in a["shots"] else "–" for k in keys)]
            for a in aggregates]
    return _table(["suite", "system", *(f"k={k}" for k in keys)], rows)


def systems_table(systems: Sequence[dict[str, Any]]) -> list[str]:
    """Which systems ran, on which checkpoint."""
    rows = [[s["name"], "yes" if not s["reason"] else f"no: {s['reason']}",
             _where(s["checkpoint"]), (s["sha256"] or "–")[:16]] for s in systems]
    return _table(["system", "available", "checkpoint", "sha256 (first 16)"], rows)


def markdown(results: dict[str, Any]) -> str:
    """The Markdown report of a results object."""
    cfg, machine = results["config"], results["machine"]
    budgets = ", ".join(f"{k} {v}" for k, v in results["budgets"].items() if v != {})
    lines = ["# metarlm evaluation", "",
             f"Seeds {cfg['seeds']}, budgets: {budgets}; quick: {cfg['quick']}; "
             f"{results['wall_seconds']:.1f} s wall with {cfg['workers']} worker(s) on "
             f"{machine['platform']} ({machine['cpus']} CPUs), Python {machine['python']}, "
             f"torch {machine['torch']}.", "",
             "Accuracy: mean over seeds of the mean task accuracy, 95% t interval over seeds. "
             "Solved: tasks with every query right. Candidates and seconds: median over the "
             "runs that ended with a consistent program. ID/OOD: per-suite rule below; SCAN "
             "tasks add held-out train commands as in-distribution controls (not in the "
             "accuracy).", "",
             "## Results", "", *main_table(results["aggregates"]), "",
             "## Accuracy against demonstrations", "", *shots_table(results["aggregates"]), "",
             "## Out of distribution means", ""]
    lines += [f"- {name}: {info['ood_rule']}" for name, info in results["suites"].items()]
    lines += ["", "## Systems", "", *systems_table(results["systems"]), ""]
    return "\n".join(lines)


def _grid(n: int) -> tuple[int, int]:
    """Rows and columns (at most three) for ``n`` panels."""
    cols = min(3, max(1, n))
    return (n + cols - 1) // cols, cols


def plot_shots(aggregates: Sequence[dict[str, Any]], path: Path) -> None:
    """Accuracy against demonstrations: one panel per suite, one line per system."""
    import matplotlib.pyplot as plt

    suites = list(dict.fromkeys(a["suite"] for a in aggregates))
    rows, cols = _grid(len(suites))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, suite in zip(axes.flat, suites):
        ticks: set[float] = set()
        for a in (a for a in aggregates if a["suite"] == suite):
            points = [(a["examples"] if k == "all" else int(k), v["mean"])
                      for k, v in a["shots"].items() if v["mean"] is not None]
            if not points or a["examples"] is None:
                continue
            xs, ys = zip(*sorted(points))
            ticks.update(xs)
            ax.plot(xs, [100 * y for y in ys], marker="o", label=a["system"])
        ax.set(title=suite, xscale="log", xlabel="demonstrations (last: all)",
               ylabel="accuracy %", ylim=(-2, 102))
        ax.set_xticks(sorted(ticks), [f"{t:g}" for t in sorted(ticks)])
        ax.minorticks_off()
        ax.legend(fontsize=7)
    _save(fig, axes, len(suites), path)


def _save(fig: Any, axes: Any, used: int, path: Path) -> None:
    """Blank the grid's unused panels, write the figure as PNG and free it."""
    import matplotlib.pyplot as plt

    for ax in list(axes.flat)[used:]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_solved(records: Sequence[Record], path: Path) -> None:
    """Cumulative share of tasks solved against seconds of search, per suite and system."""
    import matplotlib.pyplot as plt

    pairs = list(dict.fromkeys((r["suite"], r["system"]) for r in records))
    suites = list(dict.fromkeys(s for s, _ in pairs))
    rows, cols = _grid(len(suites))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, suite in zip(axes.flat, suites):
        # every curve runs on to the longest run of the suite, so unsolved systems show too
        end = max([float(r["seconds"] or 0.0) for r in records if r["suite"] == suite] + [1e-3])
        for _, system in (p for p in pairs if p[0] == suite):
            times, total = solved_times([r for r in records
                                         if r["suite"] == suite and r["system"] == system])
            ys = [100 * (k + 1) / max(1, total) for k in range(len(times))]
            ax.step([0.0, *times, 1.05 * end], [0.0, *ys, ys[-1] if ys else 0.0], where="post",
                    label=system)
        ax.set(title=suite, xlabel="seconds", ylabel="solved %", ylim=(-2, 102),
               xlim=(0, 1.05 * end))
        ax.legend(fontsize=7)
    _save(fig, axes, len(suites), path)


def write_outputs(results: dict[str, Any], out: Path) -> list[Path]:
    """Write the JSON, the Markdown and both plots into ``out``; return their paths."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "results.json", out / "results.md", out / PLOT_SHOTS, out / PLOT_SOLVED]
    paths[0].write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n",
                        encoding="utf-8")
    paths[1].write_text(markdown(results), encoding="utf-8")
    plot_shots(results["aggregates"], paths[2])
    plot_solved(results["runs"], paths[3])
    return paths
