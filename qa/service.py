"""QAService: the one object the API, the CLI and evaluation talk to. It owns the encoder, the
reader and the loaded collections; the batch path does the work and `ask` wraps it."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from pathlib import Path

from qa import conversation
from qa.cache import LRU, QuestionVectors
from qa.config import Settings, check_collection
from qa.embed.base import Encoder
from qa.embed.factory import make_encoder
from qa.errors import InvalidInput, NotFound, NotReady
from qa.indexer import IndexPlan, IndexReport, add_documents, compatible, rebuild, remove_documents, sync_paths
from qa.ingest.uploads import Upload, drop_original, keep_original, prepare
from qa.read.answers import distinct_answers
from qa.read.base import Reader
from qa.read.factory import make_reader
from qa.retrieve.base import Retriever
from qa.retrieve.factory import make_retriever
from qa.retrieve.rerank import KeepOrder, Reranker
from qa.store.base import Collection
from qa.store.factory import open_store
from qa.types import Document, Hit, Result

log = logging.getLogger("verbatim")


class _Loaded:
    """A loaded collection and its retriever, built on first use: `qa index` never searches, and
    the retriever's BM25 statistics cost ~100 MB per 10k passages (benchmarks/RESULTS.md, ingest)."""

    def __init__(self, collection: Collection, kind: str) -> None:
        self.collection, self._kind = collection, kind
        self._retriever: Retriever | None = None
        self._lock = threading.Lock()

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            with self._lock:  # request threads asking at once build it once
                if self._retriever is None:
                    self._retriever = make_retriever(self._kind, self.collection)
        return self._retriever


class QAService:
    """Wires encoder, store, retriever, reranker and reader. Safe to share between request
    threads: a re-index builds a new version off to the side and swaps it in with one assignment."""

    def __init__(
        self, settings: Settings, encoder: Encoder | None = None, reader: Reader | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.settings = settings
        self.reranker = reranker or KeepOrder()
        self.encoder = encoder or make_encoder(
            settings.encoder, settings.embed_model, settings.model_cache or settings.data_dir / "cache",
            settings.encode_batch_size, settings.threads,
        )
        self.store = open_store(settings)
        self._reader = reader  # built on first use: `qa index` never needs one
        self._questions = QuestionVectors(self.encoder, settings.cache_size)
        self._answers = LRU(settings.cache_size)  # keyed by collection version: a re-index misses
        self._loaded: dict[str, _Loaded] = {}
        self._lock = threading.Lock()  # one writer at a time; readers never wait on it

    @property
    def reader(self) -> Reader:
        if self._reader is None:
            self._reader = make_reader(self.settings)
        return self._reader

    @property
    def plan(self) -> IndexPlan:
        return IndexPlan(self.encoder, self.settings.index_backend, self.settings.max_passage_words)

    def warm_up(self) -> None:
        """Load the models now, so the first question does not pay for it."""
        getattr(self.encoder, "warm_up", lambda: None)()
        self.encoder.encode(["warm up"])
        _ = self.reader

    # --- collections ---------------------------------------------------------------------------

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

    def index(self, paths: list[Path], collection: str | None = None) -> IndexReport:
        name = check_collection(collection or self.settings.collection)
        with self._lock:
            loaded, report = sync_paths(self.store, name, paths, self.plan)
            self._install(name, loaded)
        log.info("indexed %s: %s", name, report)
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
        log.info("uploaded to %s: %s", name, report)
        return report, [loaded.document(d.doc_id) for *_, d in prepared]

    def remove_document(self, doc_id: str, collection: str | None = None) -> IndexReport:
        """Drop one document; the next question no longer sees it. An upload's original goes too."""
        name = check_collection(collection or self.settings.collection)
        with self._lock:
            doc = self._get(name).collection.document(doc_id)
            loaded, report = remove_documents(self.store, name, [doc_id], self.plan)
            self._install(name, loaded)
            drop_original(self.settings.data_dir, name, doc)
        log.info("removed %s from %s: %s", doc_id, name, report)
        return report

    def _install(self, name: str, collection: Collection) -> None:
        current = self._loaded.get(name)
        if current is None or current.collection.version != collection.version:
            self._loaded[name] = _Loaded(collection, self.store.kind)
            if collection.manifest.get("model") != self.encoder.name:
                log.warning("collection %r was embedded with %s, questions now with %s: its next write (`qa index`, "
                            "an upload) embeds it again, once", name, collection.manifest.get("model"), self.encoder.name)

    def _get(self, name: str | None) -> _Loaded:
        """The loaded collection, reloaded when another process (say `qa index` beside `qa serve`)
        switched its version. Never waits for a writer: the old version answers until then."""
        name = check_collection(name or self.settings.collection)
        loaded = self._loaded.get(name)
        stored = self.store.current_version(name)
        if loaded is not None and stored in (None, loaded.collection.version):
            return loaded
        collection = self.store.load(name)
        if collection is None:
            raise NotFound(f"collection {name!r} does not exist; index some documents into it first")
        self._install(name, collection)
        return self._loaded[name]

    def collections(self) -> list[str]:
        return self.store.list_collections()

    def documents(self, collection: str | None = None) -> list[dict]:
        return self._get(collection).collection.listing()

    def document(self, doc_id: str, collection: str | None = None) -> Document:
        return self._get(collection).collection.document(doc_id)

    def health(self, collection: str | None = None) -> dict:
        loaded = self._get(collection)
        c = loaded.collection
        return {
            "status": "ok",
            "collection": c.name,
            "documents": c.manifest["documents"],
            "passages": c.manifest["passages"],
            "version": c.version,
            "model": c.manifest["model"],
            "reader": self.reader.name,
        }

    # --- questions -----------------------------------------------------------------------------

    def ask(self, question: str, top_k: int | None = None, collection: str | None = None) -> Result:
        return self.ask_batch([question], top_k, collection)[0]

    def chat(
        self, turns: list[conversation.Turn], top_k: int | None = None, collection: str | None = None
    ) -> tuple[conversation.Rewrite, Result]:
        """Answer the last user message of a conversation. A follow-up ("Who developed it?") is
        first made to stand alone from the earlier turns (`qa/conversation.py`), here rather than
        in the widget, so every HTTP client gets the same context handling."""
        self._check_question(turns[-1].content if turns else "")
        rewritten = conversation.rewrite(turns)
        return rewritten, self.ask(rewritten.query[: self.settings.max_question_chars], top_k, collection)

    def ask_batch(self, questions: list[str], top_k: int | None = None, collection: str | None = None) -> list[Result]:
        """Answer many questions with one embedding call; each result carries its own latency.
        An answer given before for the same collection version comes from the cache."""
        started = time.perf_counter()
        questions = [self._check_question(q) for q in questions]
        top_k = self.settings.top_k if top_k is None else top_k
        if not 1 <= top_k <= 50:
            raise InvalidInput("top_k must be between 1 and 50")
        loaded = self._get(collection)
        c = loaded.collection
        threshold = self.abstain_threshold(c.name)
        keys = [(c.name, c.version, q, top_k, threshold) for q in questions]
        results = [self._answers.get(k) for k in keys]
        cached = [r is not None for r in results]
        missing = [i for i, hit in enumerate(cached) if not hit]
        if missing:
            fresh = self._ask_uncached([questions[i] for i in missing], top_k, loaded, threshold, started)
            for i, result in zip(missing, fresh):
                results[i] = result
                self._answers.put(keys[i], result)
        took = round((time.perf_counter() - started) * 1000, 2)
        return [replace(r, took_ms=took, timings={"cached_ms": took}) if hit else r for r, hit in zip(results, cached)]

    def _ask_uncached(
        self, questions: list[str], top_k: int, loaded: _Loaded, threshold: float, started: float
    ) -> list[Result]:
        vectors = self._questions.encode(questions)
        embedded = time.perf_counter()
        all_hits = self.reranker.rerank(questions, loaded.retriever.search_batch(questions, vectors, self.settings.retrieve_k))
        retrieved = time.perf_counter()
        shared = {"embed_ms": (embedded - started) * 1000 / max(len(questions), 1),
                  "retrieve_ms": (retrieved - embedded) * 1000 / max(len(questions), 1)}
        return [self._answer(q, hits, top_k, loaded.collection, threshold, shared) for q, hits in zip(questions, all_hits)]

    def retrieve_batch(self, questions: list[str], k: int, collection: str | None = None) -> list[list[Hit]]:
        """Ranked passages without reading: retrieval-only evaluation, and recall@k deeper than
        the `retrieve_k` passages a question's reader sees."""
        questions = [self._check_question(q) for q in questions]
        loaded = self._get(collection)
        return self.reranker.rerank(questions, loaded.retriever.search_batch(questions, self._questions.encode(questions), k))

    def abstain_threshold(self, collection: str | None = None) -> float:
        """An explicit setting (flag, QA_ABSTAIN_THRESHOLD) wins; else the threshold `qa eval
        --tune` stored for the collection; else the default. Read per call: a tune applies live."""
        if "abstain_threshold" in self.settings.model_fields_set:
            return self.settings.abstain_threshold
        tuned = self.store.read_settings(collection or self.settings.collection).get("abstain_threshold")
        return self.settings.abstain_threshold if tuned is None else float(tuned)

    def _answer(
        self, question: str, hits: list[Hit], top_k: int, collection: Collection, threshold: float, shared: dict
    ) -> Result:
        t0 = time.perf_counter()
        spans = self.reader.read(question, hits)
        answers = distinct_answers(spans, collection, top_k)
        read_ms = (time.perf_counter() - t0) * 1000
        best = answers[0] if answers and answers[0].score >= threshold else None
        timings = {**shared, "read_ms": read_ms}
        took = sum(timings.values())
        return Result(question, best.text if best else None, tuple(answers), round(took, 2), timings, tuple(hits))

    def _check_question(self, question: str) -> str:
        if not isinstance(question, str) or not question.strip():
            raise InvalidInput("question must be a non-empty string")
        if len(question) > self.settings.max_question_chars:
            raise InvalidInput(f"question is longer than {self.settings.max_question_chars} characters")
        return question.strip()
