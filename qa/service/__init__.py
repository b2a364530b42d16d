"""QAService: the one object the API, the CLI and evaluation talk to. It owns the encoder, the
reader and the loaded collections; the batch path does the work and `ask` wraps it. The write
side (indexing, uploads, removals) is in `qa.service.writes`."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace

from qa import conversation
from qa.cache import LRU, QuestionVectors
from qa.config import Settings, check_collection
from qa.embed.base import Encoder
from qa.embed.factory import make_encoder
from qa.errors import InvalidInput, NotFound
from qa.feedback.log import MAX_QUOTE_CHARS, Feedback, FeedbackLog, Quote, new_feedback, quote
from qa.indexer import IndexPlan
from qa.ingest.uploads import original, uploads_dir
from qa.read.answers import distinct_answers
from qa.read.base import Reader
from qa.read.factory import make_reader
from qa.retrieve.base import Retriever
from qa.retrieve.factory import make_retriever
from qa.retrieve.filters import Filters
from qa.retrieve.rerank import KeepOrder, Reranker
from qa.store.base import Collection
from qa.store.factory import open_store
from qa.store.local_files import remove_folder
from qa.service.writes import Writes
from qa.types import ANSWER_UNITS, AnswerUnit, Document, Hit, Result

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


class QAService(Writes):
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
        self.feedback = FeedbackLog(settings.data_dir)

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

    def _install(self, name: str, collection: Collection | None) -> None:
        """Make `collection` the version questions see; None: the write removed the collection
        (its last document went), and the originals of its uploads go with it."""
        if collection is None:
            self._loaded.pop(name, None)
            remove_folder(uploads_dir(self.settings.data_dir, name))
            return
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
        if loaded is not None and stored == loaded.collection.version:
            return loaded
        collection = self.store.load(name) if stored is not None else None
        if collection is None:  # never built, or dropped (perhaps by another process)
            self._loaded.pop(name, None)
            raise NotFound(f"collection {name!r} does not exist; index some documents into it first")
        self._install(name, collection)
        return self._loaded[name]

    def collections(self) -> list[str]:
        return self.store.list_collections()

    def summary(self, collection: str | None = None) -> dict:
        """What `GET /collections` and `qa collections list` show of one collection."""
        c = self._get(collection).collection
        return {"name": c.name, "documents": c.manifest["documents"], "passages": c.manifest["passages"], "version": c.version}

    def documents(self, collection: str | None = None) -> list[dict]:
        return self._get(collection).collection.listing()

    def document(self, doc_id: str, collection: str | None = None) -> Document:
        return self._get(collection).collection.document(doc_id)

    def original(self, doc: Document, collection: str) -> tuple[bytes | None, str]:
        """The file `doc` was read from, if it is still there unchanged (else None and why)."""
        return original(self.settings.data_dir, check_collection(collection), doc)

    def record_feedback(self, question: str, verdict: str, answer: Quote | None,
                        correction: tuple[str, int, int] | None, collection: str | None = None) -> Feedback:
        """Store a user's verdict on an answer. A correction (doc_id, start, end) must name words
        of a document of the collection as it is now; its text is stored with it."""
        c = self._get(collection).collection
        fixed = quote(c.document(correction[0]), correction[1], correction[2], MAX_QUOTE_CHARS) if correction else None
        return self.feedback.append(new_feedback(c.name, c.version, self._check_question(question), verdict, answer, fixed))

    def health(self, collection: str | None = None) -> dict:
        c = self._get(collection).collection
        return {"status": "ok", "collection": c.name, "documents": c.manifest["documents"], "passages": c.manifest["passages"],
                "version": c.version, "model": c.manifest["model"], "reader": self.reader.name}

    # --- questions -----------------------------------------------------------------------------

    def ask(self, question: str, top_k: int | None = None, collection: str | None = None, filters: Filters | None = None,
            min_score: float | None = None, unit: AnswerUnit | None = None) -> Result:
        return self.ask_batch([question], top_k, collection, filters, min_score, unit)[0]

    def chat(
        self, turns: list[conversation.Turn], top_k: int | None = None, collection: str | None = None,
        filters: Filters | None = None, min_score: float | None = None, unit: AnswerUnit | None = None,
    ) -> tuple[conversation.Rewrite, Result]:
        """Answer the last user message of a conversation. A follow-up ("Who developed it?") is
        first made to stand alone from the earlier turns (`qa/conversation.py`), here rather than
        in the widget, so every HTTP client gets the same context handling."""
        return self.chat_batch([turns], top_k, collection, filters, min_score, unit)[0]

    def chat_batch(
        self, conversations: list[list[conversation.Turn]], top_k: int | None = None, collection: str | None = None,
        filters: Filters | None = None, min_score: float | None = None, unit: AnswerUnit | None = None,
    ) -> list[tuple[conversation.Rewrite, Result]]:
        """`chat` for many conversations with one embedding call (evaluation asks dialogues so)."""
        rewrites = []
        for turns in conversations:
            self._check_question(turns[-1].content if turns else "")
            rewrites.append(conversation.rewrite(turns))
        questions = [r.query[: self.settings.max_question_chars] for r in rewrites]
        searches = [r.search for r in rewrites]
        return list(zip(rewrites, self.ask_batch(questions, top_k, collection, filters, min_score, unit, searches)))

    def ask_batch(self, questions: list[str], top_k: int | None = None, collection: str | None = None,
                  filters: Filters | None = None, min_score: float | None = None,
                  unit: AnswerUnit | None = None, searches: list[str] | None = None) -> list[Result]:
        """Answer many questions with one embedding call; each result carries its own latency.
        An answer given before for the same collection version, filters, threshold, unit and
        search comes from the cache. `filters` limit the documents searched; `min_score`
        replaces the collection's abstention threshold for these questions; `unit` the
        collection's answer unit (`answer_unit`); `searches` are what retrieval searches with in
        place of each question (a follow-up with its conversation's earlier questions,
        `conversation.Rewrite.search`)."""
        started = time.perf_counter()
        questions = [self._check_question(q) for q in questions]
        top_k = self.settings.top_k if top_k is None else top_k
        if not 1 <= top_k <= 50:
            raise InvalidInput("top_k must be between 1 and 50")
        if min_score is not None and not 0.0 <= min_score <= 1.0:
            raise InvalidInput("min_score must be between 0 and 1")
        unit = self.answer_unit(collection) if unit is None else unit
        if unit not in ANSWER_UNITS:
            raise InvalidInput(f"answer_unit must be one of {', '.join(ANSWER_UNITS)}")
        loaded = self._get(collection)
        c = loaded.collection
        threshold = self.abstain_threshold(c.name) if min_score is None else min_score
        searches = questions if searches is None else searches
        keys = [(c.name, c.version, q, top_k, threshold, filters, unit, s) for q, s in zip(questions, searches)]
        results = [self._answers.get(k) for k in keys]
        cached = [r is not None for r in results]
        missing = [i for i, hit in enumerate(cached) if not hit]
        if missing:
            within = None if filters is None else filters.select(lambda: c.documents)
            asked = [(questions[i], searches[i]) for i in missing]
            fresh = self._ask_uncached(asked, top_k, loaded, threshold, unit, started, within)
            for i, result in zip(missing, fresh):
                results[i] = result
                self._answers.put(keys[i], result)
        took = round((time.perf_counter() - started) * 1000, 2)
        return [replace(r, took_ms=took, timings={"cached_ms": took}) if hit else r for r, hit in zip(results, cached)]

    def _ask_uncached(self, asked: list[tuple[str, str]], top_k: int, loaded: _Loaded, threshold: float,
                      unit: AnswerUnit, started: float, within: frozenset[str] | None) -> list[Result]:
        """`asked`: each question with what retrieval searches for it."""
        questions, searches = [q for q, _ in asked], [s for _, s in asked]
        vectors = self._questions.encode(searches)
        embedded = time.perf_counter()
        found = loaded.retriever.search_batch(searches, vectors, self.settings.retrieve_k, within)
        all_hits = self.reranker.rerank(searches, found)
        retrieved = time.perf_counter()
        shared = {"embed_ms": (embedded - started) * 1000 / max(len(questions), 1),
                  "retrieve_ms": (retrieved - embedded) * 1000 / max(len(questions), 1)}
        return [self._answer(q, hits, top_k, loaded.collection, threshold, unit, shared)
                for q, hits in zip(questions, all_hits)]

    def retrieve_batch(self, questions: list[str], k: int, collection: str | None = None,
                       searches: list[str] | None = None) -> list[list[Hit]]:
        """Ranked passages without reading: retrieval-only evaluation, and recall@k deeper than
        the `retrieve_k` passages a question's reader sees (`searches` as for `ask_batch`)."""
        questions = [self._check_question(q) for q in questions]
        searches = questions if searches is None else searches
        loaded = self._get(collection)
        return self.reranker.rerank(searches, loaded.retriever.search_batch(searches, self._questions.encode(searches), k))

    def abstain_threshold(self, collection: str | None = None) -> float:
        """An explicit setting (flag, QA_ABSTAIN_THRESHOLD) wins; else the threshold `qa eval
        --tune` stored for the collection; else the default. Read per call: a tune applies live."""
        if "abstain_threshold" in self.settings.model_fields_set:
            return self.settings.abstain_threshold
        tuned = self.store.read_settings(collection or self.settings.collection).get("abstain_threshold")
        return self.settings.abstain_threshold if tuned is None else float(tuned)

    def answer_unit(self, collection: str | None = None) -> AnswerUnit:
        """As the threshold: an explicit setting (flag, QA_ANSWER_UNIT) wins; else the unit
        `qa eval --tune --answer-unit` stored for the collection (its threshold was measured with
        it); else the default. A request's `answer_unit` overrides all three."""
        if "answer_unit" in self.settings.model_fields_set:
            return self.settings.answer_unit
        return self.store.read_settings(collection or self.settings.collection).get("answer_unit", self.settings.answer_unit)

    def _answer(
        self, question: str, hits: list[Hit], top_k: int, collection: Collection, threshold: float, unit: AnswerUnit,
        shared: dict,
    ) -> Result:
        t0 = time.perf_counter()
        spans = self.reader.read(question, hits, unit)
        answers = distinct_answers(spans, collection, top_k)
        read_ms = (time.perf_counter() - t0) * 1000
        best = answers[0] if answers and answers[0].score >= threshold else None
        timings = {**shared, "read_ms": read_ms}
        took = sum(timings.values())
        return Result(question, best.text if best else None, tuple(answers), round(took, 2), timings, tuple(hits), threshold)

    def _check_question(self, question: str) -> str:
        if not isinstance(question, str) or not question.strip():
            raise InvalidInput("question must be a non-empty string")
        if len(question) > self.settings.max_question_chars:
            raise InvalidInput(f"question is longer than {self.settings.max_question_chars} characters")
        return question.strip()
