"""The write side of QAService: indexing files, uploads, removals and whole collections. Writes
take the service's lock, one at a time; questions never wait for them, since a write builds a
new version beside the old one and `_install` swaps it in with one assignment."""

from __future__ import annotations

import logging
from pathlib import Path

from qa.config import check_collection
from qa.errors import NotFound, NotReady
from qa.indexer import SILENT, IndexProgress, IndexReport, add_documents, compatible, rebuild, remove_documents, sync_paths
from qa.ingest.files import collect_files
from qa.ingest.uploads import Upload, drop_original, keep_original, prepare, uploads_dir
from qa.store.base import Collection
from qa.store.local_files import remove_folder
from qa.types import Document

log = logging.getLogger("verbatim")


class Writes:
    """Mixed into QAService, whose settings, store, plan, lock, `_get` and `_install` it uses."""

    def ensure_seeded(self, seeds_dir: Path) -> IndexReport | None:
        """On an empty data directory, index the seed corpus. On an existing one, bring the default
        collection up to date when its files or the model changed (nothing re-embeds otherwise).
        Then its retriever is built, so the first question does not pay for it."""
        report = self._seed(seeds_dir)
        if report is not None and report.reembedded:
            log.warning("%s", report.reembedded)  # `qa serve` has no other way to say it
        _ = self._get(self.settings.collection).retriever
        return report

    def _seed(self, seeds_dir: Path) -> IndexReport | None:
        name = self.settings.collection
        current = self.store.load(name)
        if current is None:
            if not seeds_dir.exists():
                raise NotReady(f"the data directory is empty and there is no seed corpus at {seeds_dir}")
            files = len(collect_files([seeds_dir]))
            log.info("empty data directory %s: indexing %s/ (%d file%s) into collection %r ...",
                     self.settings.data_dir.resolve(), seeds_dir, files, "" if files == 1 else "s", name)
            return self.index([seeds_dir], name)
        if self.store.shared:
            return None  # replicas of a shared store do not write as they start: `qa index` does
        files = [Path(p) for p in current.files]
        seeds = seeds_dir.resolve()
        if seeds.exists() and all(seeds in f.parents for f in files):
            return self.index([seeds], name)  # the seed folder: new seed files count too
        present = [f for f in files if f.exists()]  # never widen to a file's whole folder
        if present:
            return self.index(present, name)
        return self._refresh_model(name, current)

    def _refresh_model(self, name: str, current: Collection) -> IndexReport | None:
        """Sources gone but the texts are stored: re-embed them if the model changed. Under the
        writer lock and from the version live then, so a concurrent write is not undone."""
        with self._lock, self.store.writing(name):
            current = self.store.load(name) or current
            if compatible(current.manifest, self.plan.meta()):
                return None  # nothing to re-embed: no document is fetched (Milvus mode: none held here)
            documents = [current.document(doc_id) for doc_id in current.documents]
            collection, report = rebuild(self.store, name, current, documents, self.plan)
            self._install(name, collection)
        return report

    def index(self, paths: list[Path], collection: str | None = None, progress: IndexProgress = SILENT) -> IndexReport:
        name = check_collection(collection or self.settings.collection)
        with self._lock:
            loaded, report = sync_paths(self.store, name, paths, self.plan, progress)
            self._install(name, loaded)
        log.info("indexed %s: %s", name, report.summary())
        return report

    def add_documents(self, files: list[Upload], collection: str | None = None) -> tuple[IndexReport, list[Document]]:
        """Upload: every file is parsed first (one bad file refuses all), the originals are kept in
        the data dir, then one new version is written. A file with the name of a stored upload
        replaces it; the same bytes again embed nothing."""
        name = check_collection(collection or self.settings.collection)
        prepared = prepare(files, self.settings.max_upload_files)
        with self._lock:
            for safe, upload, _ in prepared:
                keep_original(self.settings.data_dir, name, safe, upload.data)
            loaded, report = add_documents(self.store, name, [d for *_, d in prepared], self.plan)
            self._install(name, loaded)
        log.info("uploaded to %s: %s", name, report.summary())
        return report, [loaded.document(d.doc_id) for *_, d in prepared]

    def remove_document(self, doc_id: str, collection: str | None = None) -> IndexReport:
        """Drop one document; the next question no longer sees it. An upload's original goes too."""
        name = check_collection(collection or self.settings.collection)
        with self._lock:
            doc = self._get(name).collection.document(doc_id)
            loaded, report = remove_documents(self.store, name, [doc_id], self.plan)
            self._install(name, loaded)
            drop_original(self.settings.data_dir, name, doc)
        log.info("removed %s from %s: %s", doc_id, name, report.summary())
        return report

    def drop_collection(self, collection: str) -> dict:
        """Delete a collection, its settings and its uploads' originals; returns what it held. It
        vanishes in one atomic step first (`Store.drop`); a drop killed before the uploads went is
        finished by running it again."""
        name = check_collection(collection)
        with self._lock:
            try:
                held = self.summary(name)
            except NotFound:  # or a drop killed before it removed the uploads: finish that
                if not remove_folder(uploads_dir(self.settings.data_dir, name)):
                    raise
                return {"name": name, "documents": 0, "passages": 0, "version": None}
            with self.store.writing(name):
                self.store.drop(name)
            self._install(name, None)
        log.info("dropped collection %s: %s", name, held)
        return held
