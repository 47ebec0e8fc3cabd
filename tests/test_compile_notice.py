"""The one-line notice before the kernels compile: printed on a cold cache, and only then."""

from __future__ import annotations

import os
import types
from pathlib import Path

import pytest

from metarlm.exec import compile as C


def fake_batch(tmp_path: Path, indexed: dict[str, float | None]) -> types.ModuleType:
    """A module like kernels/batch.py whose entry points' index files are as given (age in
    seconds relative to the source, or None for absent)."""
    source = tmp_path / "batch.py"
    tmp_path.mkdir(parents=True, exist_ok=True)
    source.write_text("", encoding="utf-8")
    module = types.ModuleType("batch")
    module.__file__ = str(source)
    now = source.stat().st_mtime
    for name in C._ENTRY_POINTS:
        index = tmp_path / f"{name}.nbi"
        age = indexed.get(name)
        if age is not None:
            index.write_bytes(b"")
            os.utime(index, (now + age, now + age))
        cache = types.SimpleNamespace(_cache_file=types.SimpleNamespace(_index_path=str(index)))
        setattr(module, name, types.SimpleNamespace(_cache=cache))
    return module


def test_cold_cache_means_no_entry_point_has_a_current_index(tmp_path: Path) -> None:
    run, check = C._ENTRY_POINTS
    assert C.cold_cache(fake_batch(tmp_path / "a", {}))
    assert C.cold_cache(fake_batch(tmp_path / "b", {run: -50.0, check: -50.0}))  # stale
    assert not C.cold_cache(fake_batch(tmp_path / "c", {run: 5.0}))
    assert not C.cold_cache(fake_batch(tmp_path / "d", {run: 5.0, check: 5.0}))
    assert not C.cold_cache(types.ModuleType("odd"))  # unknown internals: no notice


@pytest.mark.parametrize("cold", [True, False])
def test_kernels_say_when_they_are_about_to_compile(cold: bool, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(C, "cold_cache", lambda batch: cold)
    monkeypatch.setattr(C, "stale_kernels", lambda modules: [])  # nothing else to recompile
    C.kernels.__wrapped__()
    err = capsys.readouterr().err
    assert (err == C.COMPILE_NOTICE + "\n") is cold and (err == "") is not cold


def test_the_real_entry_points_have_the_index_files_looked_for() -> None:
    from metarlm.exec.check import check_batch, run_many
    from metarlm.lang.demo import Example
    from metarlm.lang.domain import parse_program

    program = parse_program("a -> A", "rules")
    assert run_many(program, [("a",)]) and check_batch([program], [Example(("a",), ("A",))])
    batch = C.kernels()[1]
    for name in C._ENTRY_POINTS:  # Numba's private layout, as cold_cache reads it
        assert Path(getattr(batch, name)._cache._cache_file._index_path).is_file()
    assert not C.cold_cache(batch)


def test_kernels_say_so_when_stale_code_is_dropped(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(C, "cold_cache", lambda batch: False)
    monkeypatch.setattr(C, "_drop_cache", lambda module: None)
    monkeypatch.setattr(C, "stale_kernels", lambda modules: list(modules)[:1])
    C.kernels.__wrapped__()
    assert capsys.readouterr().err == C.COMPILE_NOTICE + "\n"
