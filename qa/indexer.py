"""Bring a collection in line with files on disk (or uploaded documents), re-embedding only what
changed. Documents are identified by content and source, so re-indexing the same files is a
no-op: nothing is embedded and no new version is written.

Where the collection lives is the store's business: `where` is a data directory (the embedded
store, `qa.store.local`) or any open `Store` (`qa.store.base`); each takes the documents to hold
plus the passages and vectors of the new ones, so only new passages are ever embedded."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace
from importlib.metadata import version
from pathlib import Path

import numpy as np

from qa.embed.base import Encoder, encode_unique
from qa.errors import CorruptFile, EmptyFile, NotFound, UnsupportedFile
from qa.ingest.files import read_document, walk
from qa.ingest.passages import split_passages
from qa.store.base import Collection, Store
from qa.store.factory import as_store
from qa.types import Document


@dataclass(frozen=True)
class IndexReport:
    """What an indexing run did; `embedded` counts passages sent through the model."""

    added: int
    removed: int
    unchanged: int
    embedded: int
    documents: int
    passages: int
    seconds: float
    version: str | None  # None: the run left no document, so the collection was removed
    skipped: tuple[str, ...] = ()  # files found in folders and left out (unsupported, empty, unreadable), each with the reason
    duplicates: int = 0  # new passages whose text was already embedded in this run: vector reused
    reembedded: str = ""  # why every stored passage was embedded again (the model or settings changed)

    def summary(self) -> str:
        """One line for people: what `qa index` prints and the server logs."""
        skipped = f", skipped {len(self.skipped)} files" if self.skipped else ""
        reused = f"; {self.duplicates} duplicate passages reused a vector" if self.duplicates else ""
        return (f"{self.documents} documents, {self.passages} passages (added {self.added}, removed {self.removed}, "
                f"unchanged {self.unchanged}{skipped}; embedded {self.embedded} passages in {self.seconds:.1f} s{reused})")


@dataclass(frozen=True)
class IndexPlan:
    """How to build a collection: the model, backend and passage size recorded in its manifest."""

    encoder: Encoder
    backend: str
    max_words: int

    def meta(self) -> dict:
        return {
            "model": self.encoder.name,
            "dim": self.encoder.dim,
            "backend": self.backend,
            "max_passage_words": self.max_words,
            "software": {pkg: _version(pkg) for pkg in ("verbatim-qa", "faiss-cpu", "sentence-transformers")},
        }


def _version(package: str) -> str:
    try:
        return version(package)
    except Exception:  # not installed as a distribution (e.g. running from a source tree)
        return "unknown"


class IndexProgress:
    """What `qa index` shows while it works: a bar of files read, then one of passages embedded,
    each with its rate and time left (tqdm, on stderr). Not shown, it costs nothing."""

    def __init__(self, shown: bool = False) -> None:
        self._shown, self._bar = shown, None

    def __enter__(self) -> IndexProgress:
        return self

    def __exit__(self, *exc) -> None:
        self._open(0, "", "")

    def _open(self, total: int, unit: str, desc: str) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self._shown and total:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit=unit, desc=desc, file=sys.stderr, leave=False, dynamic_ncols=True)

    def files(self, total: int) -> None:
        self._open(total, "file", "reading")

    def passages(self, total: int) -> None:
        self._open(total, "passage", "embedding")

    def done(self, count: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(count)


SILENT = IndexProgress()
EMBED_CHUNK = 1024  # passages per progress step; the encoder sorts and batches within each (its CHUNK)


def sync_paths(
    where: Path | Store, name: str, paths: list[Path], plan: IndexPlan, progress: IndexProgress = SILENT
) -> tuple[Collection | None, IndexReport]:
    """Index files and folders: new and changed files are (re-)embedded, files that vanished from
    under the given paths are dropped, documents from elsewhere are kept."""
    files, unsupported = walk(paths)
    roots = [p.resolve() for p in paths]
    incoming, skipped = _read_files(files, {p.resolve() for p in paths if p.is_file()}, progress)
    skipped += [(str(p.resolve()), why) for p, why in unsupported]
    target = as_store(where)
    with target.writing(name):
        current = target.load(name)
        bad = {source for source, _ in skipped}
        old = current.documents.values() if current else []
        kept = [d for d in old if not _under(d.path, roots) or d.path in bad]
        collection, report = rebuild(target, name, current, kept + incoming, plan, progress)
        return collection, replace(report, skipped=tuple(why for _, why in skipped))


def _read_files(
    files: list[Path], named: set[Path], progress: IndexProgress
) -> tuple[list[Document], list[tuple[str, str]]]:
    """A file named on the command line must be readable. A bad one found by walking a folder (a
    scanned PDF, a broken DOCX) is skipped and reported, and its last good version stays indexed:
    one bad file does not stop a folder of good ones, and is never dropped in silence. An empty
    file is skipped and reported even when named: there is nothing in it to refuse."""
    documents, skipped = [], []
    progress.files(len(files))
    for f in files:
        try:
            documents.append(read_document(f))
        except (CorruptFile, UnsupportedFile) as exc:
            if f.resolve() in named and not isinstance(exc, EmptyFile):
                raise
            skipped.append((str(f.resolve()), exc.message))
        progress.done()
    return documents, skipped


def add_documents(
    where: Path | Store, name: str, incoming: list[Document], plan: IndexPlan
) -> tuple[Collection, IndexReport]:
    """Add documents (an upload); one with the same `path` as a stored one replaces it, and the
    very same content again embeds nothing. Creates the collection if needed."""
    paths = {d.path for d in incoming}
    target = as_store(where)
    with target.writing(name):
        current = target.load(name)
        kept = [d for d in (current.documents.values() if current else []) if d.path not in paths]
        return rebuild(target, name, current, kept + incoming, plan)


def remove_documents(
    where: Path | Store, name: str, doc_ids: list[str], plan: IndexPlan
) -> tuple[Collection | None, IndexReport]:
    """Drop documents by id. The new version's index is built from the kept vectors alone, so
    removed rows leave no tombstones behind: every version is already compact. Removing the last
    one removes the collection."""
    target = as_store(where)
    with target.writing(name):
        current = target.load(name)
        if current is None:
            raise NotFound(f"collection {name!r} does not exist")
        for doc_id in doc_ids:
            current.document(doc_id)  # NotFound names the missing id
        kept = [d for d in current.documents.values() if d.doc_id not in set(doc_ids)]
        return rebuild(target, name, current, kept, plan)


def rebuild(
    where: Path | Store, name: str, current: Collection | None, documents: list[Document], plan: IndexPlan,
    progress: IndexProgress = SILENT,
) -> tuple[Collection | None, IndexReport]:
    """Write a version holding exactly `documents`, reusing stored passages and vectors of those
    already indexed with the same model and settings. No documents: the collection is dropped
    (returned as None), since an empty one would only be listed and answer nothing."""
    started = time.perf_counter()
    documents = list({d.doc_id: d for d in documents}.values())
    if not documents:
        as_store(where).drop(name)  # callers hold the writer lock, as `Store.drop` asks
        removed = len(current.documents) if current else 0
        return None, IndexReport(0, removed, 0, 0, 0, 0, round(time.perf_counter() - started, 3), None)
    changes = changed_settings(current.manifest, plan.meta()) if current is not None else ""
    old_ids = set(current.documents) if current else set()
    if current is not None and not changes and old_ids == {d.doc_id for d in documents}:
        return current, _report(0, 0, len(documents), 0, current, started)
    base = None if changes else current
    fresh = [p for d in documents if base is None or d.doc_id not in base.documents for p in split_passages(d, plan.max_words)]
    vectors, embedded = encode_unique(lambda texts: _encode(plan.encoder, texts, progress), [p.searchable for p in fresh])
    collection = as_store(where).write(name, base, documents, fresh, vectors, plan.meta())
    new_ids = {d.doc_id for d in documents}
    added, removed = len(new_ids - old_ids) if base is not None else len(new_ids), len(old_ids - new_ids)
    report = _report(added, removed, len(new_ids) - added, embedded, collection, started)
    note = (f"every passage of collection {name!r} was embedded again because its {changes}; "
            "this happens once: later runs reuse the new vectors") if changes and old_ids else ""
    return collection, replace(report, duplicates=len(fresh) - embedded, reembedded=note)


def changed_settings(manifest: dict, meta: dict) -> str:
    """What differs between how a stored collection was built and this plan ("model X -> Y"), or
    "" when its vectors can be reused; any difference means everything is embedded again."""
    keys = ("model", "dim", "backend", "max_passage_words")
    return "; ".join(f"{k} changed from {manifest.get(k)} to {meta[k]}" for k in keys if manifest.get(k) != meta[k])


def _encode(encoder: Encoder, texts: list[str], progress: IndexProgress):
    """All vectors, in chunks so that progress can be shown between them."""
    progress.passages(len(texts))
    if len(texts) <= EMBED_CHUNK:
        vectors = encoder.encode(texts)
        progress.done(len(texts))
        return vectors
    parts = []
    for lo in range(0, len(texts), EMBED_CHUNK):
        parts.append(encoder.encode(texts[lo : lo + EMBED_CHUNK]))
        progress.done(len(parts[-1]))
    return np.concatenate(parts)


def compatible(manifest: dict, meta: dict) -> bool:
    """Whether a stored collection was built with this plan's model and settings."""
    return not changed_settings(manifest, meta)


def _under(path: str, roots: list[Path]) -> bool:
    resolved = Path(path)
    return any(resolved == root or root in resolved.parents for root in roots)


def _report(added, removed, unchanged, embedded, collection: Collection, started: float) -> IndexReport:
    return IndexReport(
        added=added,
        removed=removed,
        unchanged=unchanged,
        embedded=embedded,
        documents=collection.manifest["documents"],
        passages=collection.manifest["passages"],
        seconds=round(time.perf_counter() - started, 3),
        version=collection.version,
    )
