"""The local store's folders: where a collection lives, its `CURRENT` pointer, the writer lock,
atomic file replacement, and the collection's own settings. No collection object is built here
(`qa.store.local` does that)."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from qa.config import check_collection
from qa.errors import IndexMismatch


def collection_dir(data_dir: Path, name: str) -> Path:
    return Path(data_dir) / "collections" / check_collection(name)


def list_collections(data_dir: Path) -> list[str]:
    root = Path(data_dir) / "collections"
    if not root.is_dir():
        return []
    # A name starting with '.' is no collection (`check_collection`): a drop's leftover, say.
    return sorted(p.name for p in root.iterdir() if not p.name.startswith(".") and (p / "CURRENT").is_file())


DROPPED = ".dropped-"  # a removed folder's name while its files are deleted (never a collection name)


def remove_folder(folder: Path) -> bool:
    """Remove a folder crash-safely: first renamed, atomically, out of every reader's sight (a
    name starting with '.' is no collection), then its files deleted. `kill -9` in between
    leaves only a hidden leftover, which the next removal under the same parent sweeps away.
    False when there was no folder."""
    for leftover in folder.parent.glob(f"{DROPPED}*"):
        shutil.rmtree(leftover, ignore_errors=True)
    doomed = folder.with_name(f"{DROPPED}{folder.name}-{uuid.uuid4().hex[:8]}")
    try:
        os.rename(folder, doomed)
    except FileNotFoundError:
        return False
    shutil.rmtree(doomed, ignore_errors=True)
    return True


def drop(data_dir: Path, name: str) -> bool:
    """Remove a collection (every version, its settings); the caller holds its writer lock, so no
    write in progress recreates half of it. False when it had no live version."""
    existed = current_version(data_dir, name) is not None
    remove_folder(collection_dir(data_dir, name))
    return existed


def current_version(data_dir: Path, name: str) -> str | None:
    """The live version's name (one small read), so a server notices another process's write."""
    try:
        return (collection_dir(data_dir, name) / "CURRENT").read_text().strip() or None
    except FileNotFoundError:
        return None


@contextmanager
def writing(data_dir: Path, name: str) -> Iterator[None]:
    """One writer per collection across processes (`qa index` beside `qa serve`): without it two
    writers could both build on the same version and the later swap would drop the other's
    documents. `flock` is released by the kernel when a writer is killed, so no stale lock."""
    folder = collection_dir(data_dir, name)
    while True:
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "LOCK", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            if _still_there(handle, folder / "LOCK"):
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
                return
        # The collection was dropped while this writer waited: its lock went with the folder,
        # and a writer arriving now would lock the new one. Lock that one too, never a stale file.


def _still_there(handle, path: Path) -> bool:
    try:
        return os.fstat(handle.fileno()).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def prune(folder: Path, keep: set[str | None]) -> None:
    """Drop older versions and leftovers of interrupted writes (callers hold `writing`, so no
    other write is in progress). The version just replaced is kept one more round, for readers
    in other processes that read the old pointer a moment ago. A failure here is harmless."""
    for child in folder.iterdir():
        if child.is_dir() and child.name not in keep:
            shutil.rmtree(child, ignore_errors=True)


def replace_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    with open(tmp, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def fsync_files(folder: Path) -> None:
    for child in folder.iterdir():
        with open(child, "rb") as handle:
            os.fsync(handle.fileno())


def write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


SETTINGS_FILE = "settings.json"


def read_settings(data_dir: Path, name: str) -> dict:
    """A collection's own settings (e.g. the abstention threshold `qa eval --tune` measured for
    it). Kept beside CURRENT, not in a version folder, so they survive re-indexing."""
    try:
        values = json.loads((collection_dir(data_dir, name) / SETTINGS_FILE).read_text())
    except FileNotFoundError:
        return {}
    except ValueError:
        raise IndexMismatch(f"{SETTINGS_FILE} of collection {name!r} is not valid JSON; fix or delete it") from None
    return values if isinstance(values, dict) else {}


def write_settings(data_dir: Path, name: str, values: dict) -> dict:
    """Merge `values` into the collection's settings, replacing the file atomically."""
    merged = {**read_settings(data_dir, name), **values}
    folder = collection_dir(data_dir, name)
    folder.mkdir(parents=True, exist_ok=True)
    replace_text(folder / SETTINGS_FILE, json.dumps(merged, indent=2) + "\n")
    return merged
