"""Running an evaluation: index the file's own corpus when asked (cached by fingerprint), send
the questions through the service's batch path or to a server over HTTP, and turn each reply
into a `Prediction` that `qa.eval.metrics` scores. Nothing here reads settings: the CLI passes them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from qa.conversation import Turn
from qa.errors import InvalidInput
from qa.eval.data import EvalQuestion, EvalSet
from qa.eval.metrics import Prediction, f1_score
from qa.indexer import IndexReport, rebuild
from qa.ingest.files import parse_document
from qa.remote import Remote
from qa.store.factory import as_store
from qa.types import AnswerUnit, Hit, Result

Batch = Callable[[list[EvalQuestion]], tuple[list[Prediction], float]]


@dataclass(frozen=True)
class Corpus:
    """A file's corpus as indexed: which collection, and where each corpus key's passages are."""

    collection: str
    key_of_doc: dict[str, str]  # doc_id -> corpus key
    passages_of_key: dict[str, list]  # corpus key -> its passages
    report: IndexReport


def corpus_collection(evalset: EvalSet) -> str:
    """The throw-away collection's name: derived from the corpus, so a second run finds it."""
    return f"eval-{evalset.fingerprint[:16]}"


def build_corpus(service, evalset: EvalSet) -> Corpus:
    """Index the file's own documents; a collection already holding them embeds nothing."""
    if not evalset.corpus:
        raise InvalidInput(f"{evalset.path}: --corpus-from-file needs SQuAD JSON or a BEIR folder (this file has no contexts)")
    name = corpus_collection(evalset)
    docs = [parse_document(c.text.encode("utf-8"), f"eval:{c.key}", c.title) for c in evalset.corpus]
    collection, report = rebuild(service.store, name, service.store.load(name), docs, service.plan)
    key_of_doc = {d.doc_id: c.key for d, c in zip(docs, evalset.corpus)}
    by_key: dict[str, list] = {}
    for passage in collection.passages:
        by_key.setdefault(key_of_doc.get(passage.doc_id, ""), []).append(passage)
    return Corpus(name, key_of_doc, by_key, report)


def gold_passages(question: EvalQuestion, corpus: Corpus | None) -> dict[str, int]:
    """The passage holding the first gold answer's characters (SQuAD's answers of a question
    almost always share one place; counting each would make recall a fraction of places)."""
    if corpus is None:
        return {}
    ids = {}
    for key, start, end in question.gold[:1]:
        for p in corpus.passages_of_key.get(key, []):
            if p.start < end and start < p.end:
                ids[p.passage_id] = 1
    return ids


def in_process(service, collection: str, top_k: int, corpus: Corpus | None, depth: int = 20) -> Batch:
    """Questions through `QAService.ask_batch`; a deeper retrieval pass for recall@k when the
    gold passages are known. Latency is the service's own per-question accounting."""

    def run(questions: list[EvalQuestion]) -> tuple[list[Prediction], float]:
        started = time.perf_counter()
        if any(q.history for q in questions):
            answered = service.chat_batch([_turns(q) for q in questions], top_k, collection)
            results, searched = [r for _, r in answered], [w.search for w, _ in answered]
        else:
            results = service.ask_batch([q.question for q in questions], top_k, collection)
            searched = None
        seconds = time.perf_counter() - started
        asked = [r.question for r in results]  # a follow-up's query as rewritten, searched as chat searches it
        deep = (service.retrieve_batch(asked, depth, collection, searched) if corpus is not None
                else [r.retrieved for r in results])
        return [_from_result(service, collection, q, r, h, corpus) for q, r, h in zip(questions, results, deep)], seconds

    return run


def _turns(q: EvalQuestion) -> list[Turn]:
    """A conversation's turn as `/chat` receives it: the messages before it, then the question."""
    return [Turn(role, content) for role, content in q.history] + [Turn("user", q.question)]


def _from_result(service, collection: str, q: EvalQuestion, result: Result, hits, corpus: Corpus | None) -> Prediction:
    top = result.answers[0] if result.answers else None
    citation, exact = None, None
    if top is not None:
        citation = {"doc_id": top.source.doc_id, "passage_id": top.source.passage_id, "start": top.source.start, "end": top.source.end}
        text = service.document(top.source.doc_id, collection).text
        exact = text[top.source.start : top.source.end] == top.text
    return Prediction(
        q.qid, q.question, q.answers, result.answer, top.text if top else None, top.score if top else -1.0,
        citation, exact, tuple(h.passage.passage_id for h in hits), gold_passages(q, corpus),
        float(result.took_ms), dict(result.timings), q.wrong, q.gold_known, result.question if q.history else None,
    )


def retrieval_only(service, collection: str, corpus: Corpus, depth: int = 20) -> Batch:
    """BEIR: documents ranked by their best passage; no reader runs."""

    def run(questions: list[EvalQuestion]) -> tuple[list[Prediction], float]:
        started = time.perf_counter()
        ranked = service.retrieve_batch([q.question for q in questions], depth * 3, collection)
        seconds = time.perf_counter() - started
        each = seconds * 1000 / max(len(questions), 1)
        return [
            Prediction(q.qid, q.question, q.answers, ranked=_documents(hits, corpus, depth),
                       relevant=dict(q.relevant), latency_ms=each, timings={"retrieve_ms": each})
            for q, hits in zip(questions, ranked)
        ], seconds

    return run


def _documents(hits: list[Hit], corpus: Corpus, depth: int) -> tuple[str, ...]:
    keys = dict.fromkeys(corpus.key_of_doc.get(h.passage.doc_id, h.passage.doc_id) for h in hits)
    return tuple(keys)[:depth]


def over_http(url: str, collection: str, top_k: int, api_key: str | None = None, timeout: float = 120.0,
              unit: AnswerUnit | None = None) -> Batch:
    """Questions to a running server's `POST /ask` (a conversation's turn to `POST /chat`, with
    the messages before it), one request each, as a user sends them, asking for `unit` (none:
    the server's default); citations are checked against `GET /documents/{doc_id}`. Latency is
    the round trip."""
    server = Remote(url, api_key, timeout)
    texts: dict[str, str] = {}

    def document(doc_id: str) -> str:
        if doc_id not in texts:
            texts[doc_id] = server.document(doc_id, collection)["text"]
        return texts[doc_id]

    def run(questions: list[EvalQuestion]) -> tuple[list[Prediction], float]:
        preds, seconds = [], 0.0
        for q in questions:
            started = time.perf_counter()
            if q.history:
                body = server.chat([{"role": t.role, "content": t.content} for t in _turns(q)], top_k, collection, unit)
            else:
                body = server.ask(q.question, top_k, collection, unit=unit)
            took = time.perf_counter() - started
            seconds += took
            preds.append(_from_json(q, body, took * 1000, document))
        return preds, seconds

    return run


def _from_json(q: EvalQuestion, body: dict, latency_ms: float, document: Callable[[str], str]) -> Prediction:
    top = (body.get("answers") or [None])[0]
    citation, exact = None, None
    if top is not None:
        s = top["source"]
        citation = {k: s.get(k) for k in ("doc_id", "passage_id", "start", "end")}
        exact = document(s["doc_id"])[s["start"] : s["end"]] == top["text"]
    return Prediction(q.qid, q.question, q.answers, body.get("answer"), top["text"] if top else None,
                      float(top["score"]) if top else -1.0, citation, exact, latency_ms=latency_ms,
                      timings={"server_ms": float(body.get("took_ms") or 0.0)}, wrong=q.wrong, gold_known=q.gold_known,
                      query=body.get("query"))


def batches(questions: tuple[EvalQuestion, ...], size: int) -> Iterator[list[EvalQuestion]]:
    for i in range(0, len(questions), size):
        yield list(questions[i : i + size])


def run(batch: Batch, questions: tuple[EvalQuestion, ...], size: int, progress=None,
        retrieval: bool = False) -> tuple[list[Prediction], float]:
    """Every question through `batch`, showing a running F1 (or hit@10 for retrieval-only runs)
    on `progress`, a tqdm bar."""
    preds: list[Prediction] = []
    seconds, running = 0.0, 0.0
    for chunk in batches(questions, size):
        done, took = batch(chunk)
        preds += done
        seconds += took
        running += sum(_hit(p, 10) if retrieval else f1_score(p.answer, p.golds) for p in done)
        if progress is not None:
            progress.update(len(done))
            label = "hit@10" if retrieval else "F1"
            progress.set_postfix_str(f"{label} {running / len(preds):.3f}", refresh=False)
    return preds, seconds


def _hit(p: Prediction, k: int) -> float:
    return float(bool(set(p.ranked[:k]) & set(p.relevant)))


def prepare(service, evalset: EvalSet, collection: str, from_file: bool, top_k: int, seeds_dir) -> tuple[Batch, str, Corpus | None]:
    """The batch function and the collection to ask. A BEIR folder is always evaluated against
    its own corpus (its judgements name its own document ids)."""
    if from_file or evalset.retrieval_only:
        corpus = build_corpus(service, evalset)
        _warm_up(service, corpus.collection, evalset)
        if evalset.retrieval_only:
            return retrieval_only(service, corpus.collection, corpus), corpus.collection, corpus
        return in_process(service, corpus.collection, top_k, corpus), corpus.collection, corpus
    if collection == "default":
        service.ensure_seeded(seeds_dir)
    _warm_up(service, collection, evalset)
    return in_process(service, collection, top_k, None), collection, None


def _warm_up(service, collection: str, evalset: EvalSet) -> None:
    """Load the models before the clock starts (they load lazily, on the first question), so
    latency figures describe answering, not a cold start. The warm-up answer is discarded."""
    service.warm_up()
    if not evalset.retrieval_only and evalset.questions:
        service.ask_batch([evalset.questions[0].question], 1, collection)


def tune(where, collection: str, summary: dict, source: str, unit: AnswerUnit | None = None) -> float:
    """Store the best threshold of this run in the collection's settings (`qa serve` reads it),
    and `unit`, the answer unit the run was asked to measure, when one was: the threshold belongs
    to the answers it was measured on, and a collection of long-form answers keeps sentences."""
    best = (summary.get("threshold") or {}).get("best")
    noans = (summary.get("answers") or {}).get("no_ans")
    if not best or not noans:
        raise InvalidInput("--tune needs questions the system should abstain on (SQuAD 2.0, or JSON Lines "
                           "with empty answers); on answerable questions alone the best threshold is 'never abstain'")
    as_store(where).write_settings(collection, {
        "abstain_threshold": best["threshold"],
        **({"answer_unit": unit} if unit else {}),
        "tuned": {"file": source, "f1": best["f1"], "answer_rate": best["answer_rate"],
                  "questions": summary["questions"], "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
    })
    return best["threshold"]
