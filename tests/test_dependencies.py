"""Declared dependencies: torch is a range that the installed CPU build satisfies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def declared(name: str) -> Requirement:
    """The project's runtime requirement on a distribution."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    (found,) = [r for r in map(Requirement, project["dependencies"]) if r.name == name]
    return found


def test_torch_is_a_range_not_a_pin() -> None:
    spec = declared("torch").specifier
    operators = {s.operator for s in spec}
    assert operators == {">=", "<"}, str(spec)


def test_installed_torch_is_inside_the_declared_range() -> None:
    import torch

    assert declared("torch").specifier.contains(Version(torch.__version__), prereleases=True)


@pytest.mark.slow
def test_installing_the_project_keeps_the_installed_torch(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # --no-index: a requirement the environment does not meet would fail to resolve here
    subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-index",
                    "--no-build-isolation", "--quiet", "--report", str(report), str(ROOT)],
                   check=True, env=env, capture_output=True, timeout=300)
    names = [item["metadata"]["name"] for item in json.loads(report.read_text())["install"]]
    assert names == ["metarlm"]
