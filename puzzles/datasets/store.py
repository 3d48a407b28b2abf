"""Dataset directories on disk: `<split>.npz` arrays plus `manifest.json`.

Arrays are saved without pickling and loaded with `allow_pickle=False`, so a dataset file
can never run code. The checksum covers array contents (names, dtypes, shapes, bytes),
not the zip bytes, which carry timestamps: the same seed gives the same checksum, and a
corrupted or edited file is caught on load. A directory is written under a temporary name
and renamed when complete, so an interrupted build leaves nothing that looks usable.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from puzzles.errors import PuzzleError

FORMAT_VERSION = 1
MANIFEST = "manifest.json"


def checksum(splits: dict[str, dict[str, np.ndarray]]) -> str:
    digest = hashlib.sha256()
    for split in sorted(splits):
        for name in sorted(splits[split]):
            array = np.ascontiguousarray(splits[split][name])
            digest.update(f"{split}/{name}:{array.dtype.str}:{array.shape}".encode())
            digest.update(array.tobytes())
    return "sha256:" + digest.hexdigest()


def write_dataset(out: Path, splits: dict[str, dict[str, np.ndarray]], manifest: dict, force: bool = False) -> dict:
    """Write the splits and a manifest (completed with format, counts, files, checksum)."""
    out = Path(out)
    if out.exists() and not force:
        raise PuzzleError(f"{out} already exists; choose another --out or pass --force")
    manifest = {
        "format_version": FORMAT_VERSION,
        **manifest,
        "counts": {split: int(len(arrays["inputs"])) for split, arrays in splits.items()},
        "files": {split: f"{split}.npz" for split in splits},
        "checksum": checksum(splits),
    }
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for split, arrays in splits.items():
        np.savez_compressed(partial / f"{split}.npz", **arrays)
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    if out.exists():
        shutil.rmtree(out)
    partial.rename(out)
    return manifest


@dataclass(frozen=True)
class Dataset:
    path: Path
    manifest: dict
    splits: dict[str, dict[str, np.ndarray]]


def read_dataset(path) -> Dataset:
    """Load and verify a dataset directory; PuzzleError names what is wrong with it."""
    path = Path(path)
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except FileNotFoundError:
        raise PuzzleError(f"{path} is not a dataset directory (no {MANIFEST})") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise PuzzleError(f"{path / MANIFEST}: {exc}") from None
    if manifest.get("format_version") != FORMAT_VERSION:
        found = manifest.get("format_version")
        raise PuzzleError(f"{path}: dataset format {found!r}, this version reads {FORMAT_VERSION}")
    splits = {}
    for split, name in manifest["files"].items():
        try:
            with np.load(path / name, allow_pickle=False) as data:
                splits[split] = {key: data[key] for key in data.files}
        except (OSError, ValueError) as exc:
            raise PuzzleError(f"{path / name}: {exc}") from None
    if checksum(splits) != manifest["checksum"]:
        raise PuzzleError(f"{path}: checksum mismatch; the dataset files are corrupt or were edited")
    return Dataset(path, manifest, splits)
