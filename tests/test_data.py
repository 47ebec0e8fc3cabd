"""The SCAN and MiniSCAN data shipped inside the package."""

from __future__ import annotations

import hashlib

import pytest

from metarlm.data import (
    load_miniscan,
    load_scan,
    scan_digest,
    scan_license,
    scan_readme,
    scan_splits,
    scan_text,
)

COUNTS = {
    "tasks": 20_910,
    "simple_train": 16_728,
    "simple_test": 4_182,
    "length_train": 16_990,
    "length_test": 3_920,
    "addprim_jump_train": 14_670,
    "addprim_jump_test": 7_706,
    "addprim_turn_left_train": 21_890,
    "addprim_turn_left_test": 1_208,
    "around_right_train": 15_225,
    "around_right_test": 4_476,
}


def test_split_names() -> None:
    assert scan_splits() == tuple(COUNTS)


@pytest.mark.parametrize("split", list(COUNTS))
def test_split_counts_and_bytes(split: str) -> None:
    pairs = load_scan(split)
    assert len(pairs) == COUNTS[split]
    # the pairs written back are byte for byte the original file
    assert hashlib.sha256(scan_text(pairs).encode()).hexdigest() == scan_digest(split)


def test_first_task_and_types() -> None:
    command, actions = load_scan()[0]
    assert command == "walk opposite right thrice after run opposite right"
    assert actions.split()[:3] == ["I_TURN_RIGHT", "I_TURN_RIGHT", "I_RUN"]


def test_splits_partition_tasks() -> None:
    tasks = set(load_scan("tasks"))
    for name in ("simple", "length", "addprim_jump", "around_right"):
        train, test = set(load_scan(f"{name}_train")), set(load_scan(f"{name}_test"))
        assert not train & test
        assert train | test <= tasks


def test_addprim_jump_keeps_repeated_primitive() -> None:
    train = load_scan("addprim_jump_train")
    assert train.count(("jump", "I_JUMP")) == 1467
    assert not any("jump" in c.split() for c, _ in train if c != "jump")
    assert all("jump" in c.split() for c, _ in load_scan("addprim_jump_test"))


def test_unknown_split_names_choices() -> None:
    with pytest.raises(ValueError, match="unknown SCAN split 'jump'.*addprim_jump_test"):
        load_scan("jump")
    with pytest.raises(ValueError, match="unknown SCAN split"):
        scan_digest("nope")


def test_miniscan() -> None:
    data = load_miniscan()
    assert data["domain"] == "miniscan"
    assert len(data["examples"]) == 14 and len(data["queries"]) == 8
    assert {"input": "dax fep", "output": "RED RED RED"} in data["examples"]


def test_license_and_readme() -> None:
    assert scan_license().startswith("BSD License")
    assert "Redistribution and use" in scan_license()
    assert "SCAN" in scan_readme()
