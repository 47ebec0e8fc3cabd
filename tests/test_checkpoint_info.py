"""``metarlm info`` and ``metarlm train`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from metarlm import cli
from metarlm.neural.checkpoint_info import checkpoint_sha256, describe

runner = CliRunner()


def test_train_then_info(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = runner.invoke(cli.app, ["train", "--grammar", "miniscan", "--out", str(out),
                                     "--steps", "3", "--batch-size", "4", "--d-model", "32",
                                     "--layers", "1", "--valid-every", "3",
                                     "--checkpoint-every", "3", "--threads", "1",
                                     "--symbols", "fixed"])
    assert result.exit_code == 0, result.output
    info = describe(out)
    assert info["steps"] == 3 and info["grammars"] == ["miniscan"]
    assert info["symbols"] == "fixed" and "--symbols fixed" in info["command"]
    assert info["command"].startswith("metarlm train --grammar miniscan")
    assert info["sha256"] == checkpoint_sha256(out) and len(info["sha256"]) == 64
    assert info["task"] == "policy" and "nometa" in info["role"]
    shown = runner.invoke(cli.app, ["info", str(out), "--json"])
    assert shown.exit_code == 0 and json.loads(shown.stdout)["steps"] == 3


def test_train_rejects_an_unknown_symbol_mode(tmp_path: Path) -> None:
    result = runner.invoke(cli.app, ["train", "--grammar", "miniscan", "--out",
                                     str(tmp_path / "x"), "--symbols", "shuffled"])
    assert result.exit_code == 2 and "--symbols: invalid choice" in result.output


def test_info_on_a_non_checkpoint(tmp_path: Path) -> None:
    result = runner.invoke(cli.app, ["info", str(tmp_path)])
    assert result.exit_code == 2 and "not a metarlm checkpoint" in result.stderr


def test_info_knows_the_shipped_checkpoints_by_name() -> None:
    for name, words in (("default", "meta-trained"), ("nometa", "nometa"),
                        ("nye", "whole-program")):
        shown = runner.invoke(cli.app, ["info", name, "--json"])
        assert shown.exit_code == 0, shown.output
        record = json.loads(shown.stdout)
        assert words in record["role"] and record["validation"]
