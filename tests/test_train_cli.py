"""``metarlm train`` end to end: a user grammar file, every option, the command it records."""

from __future__ import annotations

import inspect
import json
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from metarlm import cli
from metarlm.neural.train_options import HELP, options, parser

ROOT = Path(__file__).resolve().parent.parent
LIGHTS = ROOT / "examples" / "lights"
TINY = ["--batch-size", "4", "--d-model", "32", "--layers", "1", "--heads", "2", "--ffn", "64",
        "--pool", "8", "--valid-episodes", "4", "--valid-samples", "2", "--threads", "1",
        "--no-progress"]
runner = CliRunner()


@pytest.fixture(scope="module")
def lights_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint trained 3 steps on the lights grammar file, through the CLI."""
    out = tmp_path_factory.mktemp("lights") / "run"
    result = runner.invoke(cli.app, ["train", "--grammar", str(LIGHTS / "lights.lark"),
                                     "--out", str(out), "--steps", "3", *TINY])
    assert result.exit_code == 0, result.output
    return out


def test_training_on_a_user_grammar_validates_and_writes_a_checkpoint(
        lights_checkpoint: Path) -> None:
    log = json.loads((lights_checkpoint / "log.json").read_text(encoding="utf-8"))
    assert [v["step"] for v in log["valid"]] == [3]  # the last step validates
    assert {"loss", "top1", "top10"} <= set(log["valid"][0])
    meta = json.loads((lights_checkpoint / "metarlm.json").read_text(encoding="utf-8"))
    assert meta["steps"] == 3 and meta["grammars"] == [str(LIGHTS / "lights.lark")]


def test_synthesis_with_the_trained_checkpoint(lights_checkpoint: Path) -> None:
    result = runner.invoke(cli.synth_app, ["--demo", str(LIGHTS / "demo.json"), "--checkpoint",
                                           str(lights_checkpoint), "--json", "--timeout", "20"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["consistent"]
    tried = " ".join(record["tried"])
    assert "search (guided by the policy, in turns with the unguided search)" in tried
    assert record["costs"]["lanes"]["guided"]["model_calls"] > 0  # the trained policy guided


def test_the_recorded_command_is_the_run(lights_checkpoint: Path) -> None:
    meta = json.loads((lights_checkpoint / "metarlm.json").read_text(encoding="utf-8"))
    words = shlex.split(meta["command"])
    assert words[:2] == ["metarlm", "train"]
    again = vars(parser("metarlm train").parse_args(words[2:]))
    config = meta["train_config"]
    assert again["warmup"] == config["warmup"] == 1  # a fifth of 3 steps, at least 1
    for key in ("steps", "batch_size", "seed", "lr", "pool", "valid_episodes", "valid_samples",
                "threads", "symbols"):
        assert again[key] == config[key], key
    assert again["d_model"] == config["model"]["d_model"] == 32
    assert again["grammar"] == list(config["grammars"])


def test_every_training_option_is_on_the_command_line() -> None:
    names = list(inspect.signature(options).parameters)
    assert sorted(names) == sorted(HELP)
    shown = runner.invoke(cli.app, ["train", "--help"])
    assert shown.exit_code == 0
    for name in names:
        flag = f"--no-{name}" if name == "progress" else "--" + name.replace("_", "-")
        assert flag in shown.output, flag


def test_a_given_warmup_is_kept() -> None:
    args = parser("metarlm train").parse_args(["--grammar", "scan", "--out", "x",
                                                "--steps", "20", "--warmup", "7"])
    assert args.warmup == 7


def test_bad_options_and_grammars_are_one_line_errors(tmp_path: Path) -> None:
    missing = runner.invoke(cli.app, ["train", "--grammar", str(tmp_path / "none.lark"),
                                      "--out", str(tmp_path / "x")])
    assert missing.exit_code == 2 and "grammar file not found" in missing.output
    assert not (tmp_path / "x").exists()
    typo = runner.invoke(cli.app, ["train", "--grammar", "scan", "--out", str(tmp_path / "x"),
                                   "--stpes", "3"])
    assert typo.exit_code == 2 and typo.output.count("\n") == 1
    assert "unrecognized arguments: --stpes" in typo.output


@pytest.mark.parametrize(("name", "module"), [("default", "metarlm.neural.train"),
                                              ("nometa", "metarlm.neural.train"),
                                              ("nye", "metarlm.train")])
def test_the_shipped_checkpoints_record_the_commands_of_their_configs(name: str,
                                                                      module: str) -> None:
    from metarlm.neural.checkpoint_info import CHECKPOINTS
    from metarlm.neural.train_options import resolved_warmup

    for record in ("metarlm.json", "log.json"):
        data = json.loads((CHECKPOINTS / name / record).read_text(encoding="utf-8"))
        config = data.get("train_config") or data["config"]
        words = shlex.split(config["command"])
        assert words[:3] == ["python", "-m", module]  # nye: the module's name back then
        again = vars(parser("metarlm train").parse_args(words[3:]))
        assert resolved_warmup(again["warmup"], again["steps"]) == config["warmup"]
        for key in ("steps", "batch_size", "seed", "lr", "threads", "workers", "valid_every",
                    "valid_episodes", "valid_samples", "checkpoint_every", "symbols"):
            assert again[key] == config[key], (record, key)
        assert again["grammar"] == config["grammars"]
        assert (again["d_model"], again["heads"]) == (config["model"]["d_model"],
                                                      config["model"]["heads"])
