"""The built wheel carries everything: installed alone, it runs a shipped example."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def sh(*args: str | Path, cwd: Path | None = None) -> str:
    """Run a command without PYTHONPATH (so only installed code is found); return stdout."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, f"{args}: {proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel from a copy of the sources (the checkout stays untouched)."""
    src = tmp_path_factory.mktemp("src")
    junk = shutil.ignore_patterns("__pycache__", "*.pyc", "*.nbi", "*.nbc", "*.egg-info")
    for folder in ("metarlm", "grammar", "kernels"):  # the last two map into the package
        shutil.copytree(ROOT / folder, src / folder, ignore=junk)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, src / name)
    dist = tmp_path_factory.mktemp("dist")
    sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
       "-q", "-w", dist, src)
    (built,) = dist.glob("metarlm-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with only the wheel installed; dependencies come from this environment."""
    env = tmp_path_factory.mktemp("venv")
    sh(sys.executable, "-m", "venv", "--without-pip", env)
    python = env / "bin" / "python"
    sh(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
       "-q", wheel)
    site = Path(sh(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").strip())
    # a .pth line adds a directory without running that directory's own .pth files, so a
    # development install of metarlm there stays invisible
    deps = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "_test_deps.pth").write_text("\n".join(sorted(deps)) + "\n", encoding="utf-8")
    return env


def test_wheel_has_one_top_level_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"metarlm", wheel.name.split("-py")[0] + ".dist-info"}
    for needed in ("metarlm/grammar/core.lark", "metarlm/grammar/scan.lark",
                   "metarlm/kernels/__init__.py", "metarlm/data/scan.json.xz",
                   "metarlm/data/miniscan.json", "metarlm/data/SCAN_LICENSE"):
        assert needed in names


def test_installed_wheel_runs_an_example(venv: Path, tmp_path: Path) -> None:
    shutil.copy(ROOT / "examples" / "scan" / "scan.rules", tmp_path / "scan.rules")
    out = sh(venv / "bin" / "metarlm", "run", "scan.rules", "--domain", "scan",
             "--input", "jump around left twice", cwd=tmp_path)
    assert out.split() == ["I_TURN_LEFT", "I_JUMP"] * 8
    shutil.copy(ROOT / "examples" / "miniscan" / "miniscan.rules", tmp_path / "m.rules")
    shutil.copy(ROOT / "examples" / "miniscan" / "demo.json", tmp_path / "demo.json")
    sh(venv / "bin" / "metarlm", "check", "m.rules", "--demo", "demo.json", "--json",
       cwd=tmp_path)


def test_installed_package_is_self_contained(venv: Path, tmp_path: Path) -> None:
    code = ("import metarlm, metarlm.kernels, importlib.util as u\n"
            "from metarlm.data import load_scan\n"
            "print(metarlm.__file__)\nprint(len(load_scan('addprim_jump_test')))\n"
            "print(u.find_spec('kernels'), u.find_spec('grammar'))\n")
    where, count, tops = sh(venv / "bin" / "python", "-c", code, cwd=tmp_path).splitlines()
    assert Path(where).is_relative_to(venv) and count == "7706" and tops == "None None"
