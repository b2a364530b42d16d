"""QAService: the one object the API, the CLI and evaluation talk to. It owns the encoder, the
reader and the loaded collections; the batch path does the work and `ask` wraps it."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from qa import conversation, store
from qa.config import Settings, check_collection
from qa.cache import LRU, QuestionVectors
from qa.embed import Encoder, make_encoder
from qa.errors import InvalidInput, NotFound, NotReady
from qa.indexer import IndexPlan, IndexReport, compatible, rebuild, sync_paths
from qa.indexer import add_documents, remove_documents
from qa.uploads import Upload, drop_original, keep_original, prepare
from qa.read import Reader
from qa.retrieve import Retriever
from qa.store import Store
from qa.types import Answer, Citation, Document, Hit, Result, Span

log = logging.getLogger("verbatim")


@dataclass
class _Loaded:
    collection: store.Collection
    retriever: Retriever


class QAService:
    """Wires encoder, store, retriever and reader. Safe to share between request threads: a
    re-index builds a new version off to the side and swaps it in with one assignment."""

    def __init__(self, settings: Settings, encoder: Encoder | None = None, reader: Reader | None = None) -> None:
        self.settings = settings
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
        collection up to date when its files or the model changed (nothing re-embeds otherwise)."""
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

    def _refresh_model(self, name: str, current: store.Collection) -> IndexReport | None:
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

    def _install(self, name: str, collection: store.Collection) -> None:
        current = self._loaded.get(name)
        if current is None or current.collection.version != collection.version:
            self._loaded[name] = _Loaded(collection, self.store.retriever(collection))

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
            fresh = self._ask_uncached([questions[i] for i in missing], top_k, loaded, started)
            for i, result in zip(missing, fresh):
                results[i] = result
                self._answers.put(keys[i], result)
        took = round((time.perf_counter() - started) * 1000, 2)
        return [replace(r, took_ms=took, timings={"cached_ms": took}) if hit else r for r, hit in zip(results, cached)]

    def _ask_uncached(self, questions: list[str], top_k: int, loaded: _Loaded, started: float) -> list[Result]:
        vectors = self._questions.encode(questions)
        embedded = time.perf_counter()
        all_hits = loaded.retriever.search_batch(questions, vectors, self.settings.retrieve_k)
        retrieved = time.perf_counter()
        shared = {"embed_ms": (embedded - started) * 1000 / max(len(questions), 1),
                  "retrieve_ms": (retrieved - embedded) * 1000 / max(len(questions), 1)}
        return [self._answer(q, hits, top_k, loaded, shared) for q, hits in zip(questions, all_hits)]

    def retrieve_batch(self, questions: list[str], k: int, collection: str | None = None) -> list[list[Hit]]:
        """Ranked passages without reading: retrieval-only evaluation, and recall@k deeper than
        the `retrieve_k` passages a question's reader sees."""
        questions = [self._check_question(q) for q in questions]
        loaded = self._get(collection)
        return loaded.retriever.search_batch(questions, self._questions.encode(questions), k)

    def abstain_threshold(self, collection: str | None = None) -> float:
        """An explicit setting (flag, QA_ABSTAIN_THRESHOLD) wins; else the threshold `qa eval
        --tune` stored for the collection; else the default. Read per call: a tune applies live."""
        if "abstain_threshold" in self.settings.model_fields_set:
            return self.settings.abstain_threshold
        tuned = self.store.read_settings(collection or self.settings.collection).get("abstain_threshold")
        return self.settings.abstain_threshold if tuned is None else float(tuned)

    def _answer(self, question: str, hits, top_k: int, loaded: _Loaded, shared: dict) -> Result:
        t0 = time.perf_counter()
        spans = self.reader.read(question, hits, *loaded.retriever.idf(question))
        answers = self._distinct_answers(spans, loaded.collection, top_k)
        read_ms = (time.perf_counter() - t0) * 1000
        best = answers[0] if answers and answers[0].score >= self.abstain_threshold(loaded.collection.name) else None
        timings = {**shared, "read_ms": read_ms}
        took = sum(timings.values())
        return Result(question, best.text if best else None, tuple(answers), round(took, 2), timings, tuple(hits))

    def _distinct_answers(self, spans: list[Span], collection: store.Collection, top_k: int) -> list[Answer]:
        """One answer per distinct text, carrying every passage that supports it. Support from
        several passages combines as a noisy-OR: each is a separate chance that these words are
        the answer, so agreement raises the score and a lone weak span stays weak."""
        groups: dict[str, list[Answer]] = {}
        for span in spans:
            answer = _cite(span, collection)
            groups.setdefault(" ".join(answer.text.lower().split()), []).append(answer)
        merged = [_merge(group) for group in groups.values()]
        merged.sort(key=lambda a: -a.score)
        return merged[:top_k]

    def _check_question(self, question: str) -> str:
        if not isinstance(question, str) or not question.strip():
            raise InvalidInput("question must be a non-empty string")
        if len(question) > self.settings.max_question_chars:
            raise InvalidInput(f"question is longer than {self.settings.max_question_chars} characters")
        return question.strip()


def _cite(span: Span, collection: store.Collection) -> Answer:
    """Map a passage span to exact document offsets; the answer text is the document's own."""
    passage = span.hit.passage
    doc = collection.document(passage.doc_id)
    start, end = passage.document_span(span.start, span.end)
    citation = Citation(
        doc_id=doc.doc_id,
        title=doc.title,
        section=passage.section,
        passage_id=passage.passage_id,
        start=start,
        end=end,
        context=doc.text[passage.start : passage.end],
        context_start=passage.start,
        page=doc.page_at(start),
    )
    return Answer(text=doc.text[start:end], score=round(min(max(span.score, 0.0), 1.0), 4), source=citation)


def _merge(group: list[Answer]) -> Answer:
    best = max(group, key=lambda a: a.score)
    doubt = 1.0
    for answer in group:
        doubt *= 1.0 - answer.score
    sources = (best.source,) + tuple(a.source for a in group if a is not best)
    return Answer(best.text, round(1.0 - doubt, 4), best.source, sources)


def open_store(settings: Settings) -> Store:
    """The embedded store under the data directory, or the shared one in Milvus
    (`QA_INDEX_BACKEND=milvus`), which every API replica reads alike."""
    if settings.index_backend == "milvus":
        from qa.milvus_store import MilvusStore

        return MilvusStore(settings.milvus_uri, settings.milvus_token, settings.data_dir)
    return store.LocalStore(settings.data_dir)


def make_reader(settings: Settings) -> Reader:
    """The configured reader; `auto` takes the trained model when its files are installed."""
    from qa.read import HeuristicReader

    kind = settings.reader
    if kind in ("auto", "neural"):
        try:
            from qa.neural_reader import NeuralReader, model_available
        except ImportError:
            model_available = None
        if model_available is not None and model_available():
            return NeuralReader(threads=settings.threads, first=settings.read_first, sure=settings.read_sure)
        if kind == "neural":
            raise NotReady("the trained reader model is not installed (qa/models/reader/)")
    return HeuristicReader()
