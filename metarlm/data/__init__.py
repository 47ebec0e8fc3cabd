"""Data shipped inside the package (SCAN, MiniSCAN) and number words made by num2words.

SCAN (Lake & Baroni 2018, BSD licence, see ``scan_license()``) is stored as one xz-compressed
JSON file: the 20,910 (command, actions) pairs of ``tasks.txt`` once, and each split as the list
of line indices into them, in file order and with the files' repeated lines kept (the add-prim
train splits repeat the primitive). ``pack_scan`` rebuilds that file from the original folder.
"""

from __future__ import annotations

import functools
import hashlib
import json
import lzma
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent
SCAN_FILE = DATA_DIR / "scan.json.xz"
MINISCAN_FILE = DATA_DIR / "miniscan.json"
LICENSE_FILE = DATA_DIR / "SCAN_LICENSE"
README_FILE = DATA_DIR / "SCAN_README.md"

# split name -> file of the original SCAN repository (relative to its root)
SCAN_SOURCES: dict[str, str] = {
    "tasks": "tasks.txt",
    "simple_train": "simple_split/tasks_train_simple.txt",
    "simple_test": "simple_split/tasks_test_simple.txt",
    "length_train": "length_split/tasks_train_length.txt",
    "length_test": "length_split/tasks_test_length.txt",
    "addprim_jump_train": "add_prim_split/tasks_train_addprim_jump.txt",
    "addprim_jump_test": "add_prim_split/tasks_test_addprim_jump.txt",
    "addprim_turn_left_train": "add_prim_split/tasks_train_addprim_turn_left.txt",
    "addprim_turn_left_test": "add_prim_split/tasks_test_addprim_turn_left.txt",
    "around_right_train": "template_split/tasks_train_template_around_right.txt",
    "around_right_test": "template_split/tasks_test_template_around_right.txt",
}


def scan_splits() -> tuple[str, ...]:
    """The names ``load_scan`` accepts, ``tasks`` (the whole set) first."""
    return tuple(SCAN_SOURCES)


@functools.lru_cache(maxsize=1)
def _scan_store() -> dict[str, Any]:
    """The decoded SCAN file (decompressed once per process)."""
    return json.loads(lzma.decompress(SCAN_FILE.read_bytes()))


def load_scan(split: str = "tasks") -> list[tuple[str, str]]:
    """The (command, actions) pairs of a SCAN split in file order; ValueError if unknown."""
    if split not in SCAN_SOURCES:
        raise ValueError(f"unknown SCAN split {split!r}: use one of {', '.join(scan_splits())}")
    store = _scan_store()
    tasks = store["tasks"]
    if split == "tasks":
        return [(c, a) for c, a in tasks]
    return [(tasks[i][0], tasks[i][1]) for i in store["splits"][split]]


def scan_digest(split: str) -> str:
    """The sha256 of the split's original file, recorded when the data was packed."""
    if split not in SCAN_SOURCES:
        raise ValueError(f"unknown SCAN split {split!r}: use one of {', '.join(scan_splits())}")
    return str(_scan_store()["sha256"][split])


def scan_text(pairs: list[tuple[str, str]]) -> str:
    """Pairs written back in SCAN's line format ``IN: ... OUT: ...`` (one per line)."""
    return "".join(f"IN: {c} OUT: {a}\n" for c, a in pairs)


def load_miniscan() -> dict[str, Any]:
    """The MiniSCAN study (``examples``) and test (``queries``) items as a demo-file object."""
    return json.loads(MINISCAN_FILE.read_text(encoding="utf-8"))


def scan_license() -> str:
    """The text of SCAN's BSD licence, which the shipped data carries."""
    return LICENSE_FILE.read_text(encoding="utf-8")


def scan_readme() -> str:
    """The README of the SCAN repository (describes the splits)."""
    return README_FILE.read_text(encoding="utf-8")


def number_words(n: int, lang: str = "en") -> str:
    """``n`` in words as num2words writes it, with hyphens and commas turned into spaces."""
    from num2words import num2words

    text = num2words(n, lang=lang).replace("-", " ").replace(",", " ")
    return " ".join(text.split())


def _read_pairs(path: Path) -> list[tuple[str, str]]:
    """Parse a SCAN text file into (command, actions) pairs."""
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        command, actions = line.removeprefix("IN: ").split(" OUT: ")
        pairs.append((command, actions))
    return pairs


def pack_scan(scan_dir: Path, out: Path = SCAN_FILE) -> int:
    """Write the compressed SCAN file from an original SCAN folder; return its size in bytes."""
    tasks = _read_pairs(scan_dir / SCAN_SOURCES["tasks"])
    index = {pair: i for i, pair in enumerate(tasks)}
    store: dict[str, Any] = {"tasks": [list(p) for p in tasks], "splits": {}, "sha256": {}}
    for name, rel in SCAN_SOURCES.items():
        raw = (scan_dir / rel).read_bytes()
        store["sha256"][name] = hashlib.sha256(raw).hexdigest()
        if name != "tasks":
            store["splits"][name] = [index[p] for p in _read_pairs(scan_dir / rel)]
    blob = lzma.compress(json.dumps(store, separators=(",", ":")).encode(),
                         preset=9 | lzma.PRESET_EXTREME)
    out.write_bytes(blob)
    return len(blob)


__all__ = ["load_miniscan", "load_scan", "number_words", "pack_scan", "scan_digest", "scan_license",
           "scan_readme", "scan_splits", "scan_text"]
