"""FAISS (embedded, the default) vs Milvus (the distributed backend) on the SQuAD paragraphs of
`../shared/eval/squad-retrieval/` (BEIR: 4,497 paragraphs, 10,570 questions): index time,
retrieval quality (recall@k, MRR@10, as `qa eval` computes them), `/ask` latency, and what
Milvus mode's retrieval (dense search, BM25 only re-ranking its candidates) loses against the
embedded mix of dense and whole-collection BM25.

The passages are embedded once (the same vectors go to both backends, so "index time" is the
shared embedding time plus each backend's write); questions are embedded once too. `/ask` goes
through the FastAPI app in-process (Starlette's TestClient), one question at a time, alternating
between the two modes, with the trained reader and no answer cache; the Milvus-mode service
starts from an empty data directory.

Needs a Milvus server at QA_MILVUS_URI (default 127.0.0.1:19530), e.g. beside a private one:
  unshare --net bash .ci/with-milvus .venv/bin/python benchmarks/milvus_compare.py --ask 200
Prints a table and writes benchmarks/out/milvus_compare.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

import numpy as np
from common import EVAL, report, stats

from qa.config import Settings
from qa.eval import data as eval_data
from qa.eval.metrics import Prediction, retrieval_metrics
from qa.indexer import IndexPlan
from qa.ingest.files import parse_document
from qa.ingest.passages import split_passages
from qa.retrieve.hybrid import HybridRetriever
from qa.retrieve.milvus import MilvusRetriever
from qa.service import QAService
from qa.store.local import LocalStore
from qa.store.milvus import MilvusStore
from qa.store.rows import passage_from

DEPTH = 60  # passages retrieved per question, as `qa eval` does for BEIR (documents ranked to 20)
BATCH = 32


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ask", type=int, default=200, help="questions sent to /ask per backend")
    parser.add_argument("--limit", type=int, default=None, help="questions for retrieval quality (default: all)")
    args = parser.parse_args()
    uri = os.environ.get("QA_MILVUS_URI", "http://127.0.0.1:19530")
    evalset = eval_data.load(EVAL / "squad-retrieval")
    questions = list(evalset.questions[: args.limit])
    work = Path(tempfile.mkdtemp(prefix="milvus-compare-"))
    settings = Settings(data_dir=work / "faiss")
    encoder = QAService(settings).encoder
    name = f"squad{int(time.time())}"

    docs = [parse_document(c.text.encode("utf-8"), f"eval:{c.key}", c.title) for c in evalset.corpus]
    key_of_doc = {d.doc_id: c.key for d, c in zip(docs, evalset.corpus)}
    started = time.perf_counter()
    fresh = [p for d in docs for p in split_passages(d, settings.max_passage_words)]
    vectors = encoder.encode([p.searchable for p in fresh])
    embed_s = time.perf_counter() - started
    local, shared = LocalStore(work / "faiss"), MilvusStore(uri, None, work / "milvus")
    faiss_coll, faiss_s = _timed(local.write, name, None, docs, fresh, vectors, _meta(encoder, "faiss", settings))
    milvus_coll, milvus_s = _timed(shared.write, name, None, docs, fresh, vectors, _meta(encoder, "milvus", settings))
    print(f"embedded {len(fresh)} passages in {embed_s:.1f} s; FAISS write {faiss_s:.1f} s, Milvus write {milvus_s:.1f} s")
    try:
        sealed_s = _seal(milvus_coll.index)
        texts = [q.question for q in questions]
        qvecs, qembed_s = _timed(encoder.encode, texts)
        runs = {
            "faiss dense + BM25 (embedded default)": HybridRetriever(faiss_coll).search_batch,
            "faiss dense only": _dense(lambda v: _faiss_rows(faiss_coll, v)),
            "milvus dense only": _dense(lambda v: _milvus_rows(milvus_coll, v)),
            "milvus dense + BM25 re-rank (Milvus mode)": MilvusRetriever(milvus_coll).search_batch,
        }
        ranked = {label: _retrieve(search, questions, qvecs, key_of_doc) for label, search in runs.items()}
        differences = _differences(ranked)
        asks = _ask_latency(name, uri, work, encoder, questions, args.ask, differences["examples_embedded_only"])
    finally:
        shared.drop(name)
    index_time = {"embed_s": round(embed_s, 1), "write_faiss_s": round(faiss_s, 2), "write_milvus_s": round(milvus_s, 2),
                  "milvus_seal_and_hnsw_build_s": round(sealed_s, 1), "passages": len(fresh)}
    _print(ranked, asks, differences, index_time, len(questions), qembed_s, milvus_coll.manifest["index"])


def _timed(fn, *args):
    started = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - started


def _meta(encoder, backend: str, settings: Settings) -> dict:
    return IndexPlan(encoder, backend, settings.max_passage_words).meta()


def _seal(index, timeout: float = 600.0) -> float:
    """Flush, so the rows leave Milvus's growing segment (searched by brute force) for sealed ones
    with their HNSW index, as a collection in service does by itself after a while; returns the
    seconds until every row is indexed."""
    started = time.perf_counter()
    index.client.flush(index.collection)
    while time.perf_counter() - started < timeout:
        state = index.client.describe_index(index.collection, "vector")
        if int(state["total_rows"]) and int(state["indexed_rows"]) >= int(state["total_rows"]):
            break
        time.sleep(1)
    time.sleep(5)  # the query node swaps the growing segment for the indexed one
    return time.perf_counter() - started


def _faiss_rows(collection, vectors):
    _, ids = collection.index.search(vectors, DEPTH)
    return [[collection.passages[i] for i in row if i >= 0] for row in ids]


def _milvus_rows(collection, vectors):
    _, _, rows = collection.index.search_rows(vectors, DEPTH, ["passage"])
    return [[passage_from(json.loads(r["passage"])) for r in hits] for hits in rows]


def _dense(rows_of):
    """A search function with the retrievers' shape whose hits are the dense ranking alone."""

    def search(batch, vectors, k):
        return [[_Hit(p) for p in passages] for passages in rows_of(vectors)]

    return search


class _Hit:
    def __init__(self, passage) -> None:
        self.passage = passage


def _retrieve(search, questions, qvecs, key_of_doc) -> list[tuple[Prediction, float]]:
    """Ranked corpus keys per question (documents by their best passage, as `qa eval` ranks
    BEIR), with each batch's time shared among its questions."""
    out = []
    for lo in range(0, len(questions), BATCH):
        batch = questions[lo : lo + BATCH]
        started = time.perf_counter()
        hits = search([q.question for q in batch], qvecs[lo : lo + BATCH], DEPTH)
        each = (time.perf_counter() - started) * 1000 / len(batch)
        for q, found in zip(batch, hits):
            keys = tuple(dict.fromkeys(key_of_doc[h.passage.doc_id] for h in found))[:20]
            out.append((Prediction(q.qid, q.question, q.answers, ranked=keys, relevant=dict(q.relevant)), each))
    return out


def _ask_latency(name: str, uri: str, work: Path, encoder, questions, n: int, probes: list[str]) -> dict:
    """`POST /ask` one question at a time through each mode's app, alternating between the two
    so both see the same machine load; the Milvus-mode service starts from an empty data dir.
    Then the same questions in-process for the service's stage timings (embed, retrieve, read)."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    sample = random.Random(0).sample(questions, min(n, len(questions)))
    services, clients, out = {}, {}, {}
    for mode, data in (("faiss", work / "faiss"), ("milvus", work / "milvus-replica")):
        settings = Settings(data_dir=data, index_backend=mode, milvus_uri=uri, collection=name, cache_size=0)
        services[mode] = QAService(settings, encoder=encoder)
        services[mode].warm_up()
        clients[mode] = TestClient(create_app(settings, services[mode])).__enter__()
        clients[mode].post("/ask", json={"question": "warm up", "collection": name})
        out[mode] = {"http": [], "service": [], "answers": [], "stages": []}
    for q in sample:
        for mode, client in clients.items():
            started = time.perf_counter()
            body = client.post("/ask", json={"question": q.question, "collection": name}).json()
            out[mode]["http"].append((time.perf_counter() - started) * 1000)
            out[mode]["service"].append(body["took_ms"])
            out[mode]["answers"].append(body["answer"])
    for q in sample:
        for mode, service in services.items():
            out[mode]["stages"].append(service.ask(q.question, None, name).timings)
    for mode, client in clients.items():
        out[mode]["probes"] = {q: client.post("/ask", json={"question": q, "collection": name}).json()["answer"] for q in probes}
        client.__exit__(None, None, None)
    return {mode: {"http": stats(f["http"]), "service": stats(f["service"]), "answers": f["answers"], "probes": f["probes"],
                   "stages_ms": {k: round(float(np.mean([t[k] for t in f["stages"]])), 1) for k in f["stages"][0]}}
            for mode, f in out.items()}


def _print(ranked, asks, differences, index_time, questions: int, qembed_s, index_params) -> None:
    rows, body = [], {"questions": questions, "embed_questions_s": round(qembed_s, 1), "index_time": index_time,
                      "milvus_index": index_params, "retrieval": {}, "ask": {}}
    for label, preds in ranked.items():
        metrics = retrieval_metrics([p for p, _ in preds])
        latency = stats([ms for _, ms in preds])
        body["retrieval"][label] = {**metrics, "retrieve_ms": latency}
        rows.append((label, round(metrics["recall@1"], 3), round(metrics["recall@5"], 3), round(metrics["recall@10"], 3),
                     round(metrics["recall@20"], 3), round(metrics["mrr@10"], 3), latency["p50"]))
    for mode, figures in asks.items():
        body["ask"][mode] = {"http_ms": figures["http"], "service_ms": figures["service"], "stages_ms": figures["stages_ms"]}
    same = sum(a == b for a, b in zip(asks["faiss"]["answers"], asks["milvus"]["answers"]))
    body["ask"]["same_answer"] = f"{same}/{len(asks['faiss']['answers'])}"
    gold = _squad_answers()
    body["bm25_differences"] = {**differences, "examples_embedded_only": [
        {"question": q, "gold": gold.get(q, []), "faiss": asks["faiss"]["probes"][q], "milvus": asks["milvus"]["probes"][q]}
        for q in differences["examples_embedded_only"]]}
    report("milvus_compare", body, rows, ("retrieval", "R@1", "R@5", "R@10", "R@20", "MRR@10", "ms/q p50"))
    print(f"index time: {index_time}")
    for mode in asks:
        print(f"/ask {mode}: p50 {asks[mode]['http']['p50']} ms over HTTP (service {asks[mode]['service']['p50']} ms), "
              f"p95 {asks[mode]['http']['p95']} ms; mean stages {asks[mode]['stages_ms']}")
    print(f"same answer in both modes: {body['ask']['same_answer']}")
    print(f"gold in the top 10 of embedded mode only: {differences['embedded_only']}, of Milvus mode only: {differences['milvus_only']}")
    for example in body["bm25_differences"]["examples_embedded_only"]:
        print(f"  {example}")


def _squad_answers() -> dict[str, list[str]]:
    """SQuAD v1.1 dev's gold answers by question text (the BEIR queries carry none)."""
    data = json.loads((EVAL / "squad-v1.1-dev.json").read_text())["data"]
    return {q["question"]: sorted({a["text"] for a in q["answers"]})
            for article in data for paragraph in article["paragraphs"] for q in paragraph["qas"]}


def _differences(ranked) -> dict:
    """Questions whose gold paragraph is in the embedded hybrid's top 10 but not Milvus mode's,
    and the reverse, with a few examples."""
    fused = ranked["faiss dense + BM25 (embedded default)"]
    milvus = ranked["milvus dense + BM25 re-rank (Milvus mode)"]
    lost, won = [], []
    for (a, _), (b, _) in zip(fused, milvus):
        gold = set(a.relevant)
        in_a, in_b = bool(gold & set(a.ranked[:10])), bool(gold & set(b.ranked[:10]))
        if in_a != in_b:
            (lost if in_a else won).append(a.question)
    return {"embedded_only": len(lost), "milvus_only": len(won), "examples_embedded_only": lost[:5]}


if __name__ == "__main__":
    main()
