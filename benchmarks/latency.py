"""Latency of `/ask`, stage by stage, against the floor: the same model forward passes alone.

For each question (seed corpus: tests/data/seed-dev.jsonl; SQuAD: a sample of v1.1 dev questions
over its 2,067 paragraphs), measured back to back so they see the same machine load:
  stages     tokenize, embed (question), search (dense FAISS + BM25 + fusion; dense alone too),
             read (reader tokenisation + forward + span decoding), cite, serialise (pydantic JSON)
  floor      the encoder's forward pass on the question's tokens + the reader's forward passes on
             the windows the service had it read (recorded from its own calls, so early exit
             and headings shown to the model count), called directly
  in-process QAService.ask with caches off
  http       POST /ask on a real `qa serve` over loopback (caches off), the end-to-end figure
The ratio is end-to-end p50 / floor p50. Indexes are built once into benchmarks/out/data-<encoder>.

    .venv/bin/python benchmarks/latency.py --encoder onnx --questions 100 --rounds 3
"""

from __future__ import annotations

import argparse
import time
from contextlib import nullcontext
from pathlib import Path

from common import OUT, ROOT, SEED_QUESTIONS, SQUAD_DEV, read_jsonl, report, stats

from api.schemas import AskResponse
from qa.config import Settings
from qa.eval import data as eval_data
from qa.eval.run import build_corpus
from qa.read.answers import distinct_answers
from qa.read.factory import make_reader
from qa.retrieve.base import DENSE_DEPTH
from qa.service import QAService
from qa.types import Result
from tests.server import running_server

STAGES = ("tokenize", "embed", "search", "dense", "read", "read_tokenize", "read_forward", "cite", "serialise", "passages_read")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--encoder", default="onnx", choices=["torch", "onnx", "onnx-int8"])
    p.add_argument("--questions", type=int, default=100, help="SQuAD questions sampled (seed: all 25)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--reader", default="auto", help="auto, neural, heuristic, or a folder with model.onnx")
    p.add_argument("--no-http", action="store_true", help="skip the real-server measurement")
    p.add_argument("--retrieve-k", type=int, default=Settings().retrieve_k, help="passages retrieved per question (QA_RETRIEVE_K)")
    return p.parse_args()


class Laps:
    """Named durations in ms from consecutive `lap` calls."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.times[name] = self.times.get(name, 0.0) + (now - self._t) * 1000
        self._t = now


def reader_calls(service: QAService, collection: str, question: str) -> list[tuple[str, list[str]]]:
    """(question, contexts) of every span-model call the service makes for this question: the
    texts as the reader shows them, and with early exit (`QA_READ_FIRST`) only what it read."""
    model = getattr(service.reader, "_model", None)
    if model is None:
        return []
    calls, predict = [], model.predict

    def spy(q: str, contexts: list[str], **kwargs):
        calls.append((q, list(contexts)))
        return predict(q, contexts, **kwargs)

    model.predict = spy
    try:
        service.ask(question, collection=collection)
    finally:
        del model.predict
    return calls


def _windows(model, calls: list[tuple[str, list[str]]]) -> list[list]:
    return [[w for _, w in model._windows(model._clip_question(q), contexts)] for q, contexts in calls]


def stage_times(service: QAService, collection: str, question: str) -> dict[str, float]:
    """The service's own steps, called one by one (QAService._ask_uncached does them in a row)."""
    calls = reader_calls(service, collection, question)
    loaded, enc, laps = service._get(collection), service.encoder, Laps()
    if hasattr(enc, "tokenize"):
        tokens = enc.tokenize([question]); laps.lap("tokenize")
        vector = enc.forward(tokens); laps.lap("embed")
    else:
        vector = enc.encode([question]); laps.lap("embed")
    loaded.collection.index.search(vector, min(DENSE_DEPTH, len(loaded.collection.passages))); laps.lap("dense")
    hits = loaded.retriever.search_batch([question], vector, service.settings.retrieve_k)[0]; laps.lap("search")
    model = getattr(service.reader, "_model", None)
    if model is not None:  # the neural reader: its tokenisation and forward passes apart
        windows = _windows(model, calls); laps.lap("read_tokenize")
        for batch in windows:
            model._run(batch)
        laps.lap("read_forward")
    spans = service.reader.read(question, hits); laps.lap("read")
    answers = distinct_answers(spans, loaded.collection, service.settings.top_k); laps.lap("cite")
    body = Result(question, answers[0].text if answers else None, tuple(answers), 0.0).to_dict()
    AskResponse.model_validate(body).model_dump_json(); laps.lap("serialise")
    laps.times["passages_read"] = float(sum(len(c) for _, c in calls))
    return laps.times


def floor_ms(service: QAService, collection: str, question: str) -> float:
    """Only the model forward passes, on exactly the inputs the service gives them."""
    enc, model = service.encoder, getattr(service.reader, "_model", None)
    windows = _windows(model, reader_calls(service, collection, question)) if model else []
    if hasattr(enc, "tokenize"):
        tokens = enc.tokenize([question])
        started = time.perf_counter()
        enc.forward(tokens)
    else:
        started = time.perf_counter()
        enc.encode([question])
    for batch in windows:
        model._run(batch)
    return (time.perf_counter() - started) * 1000


def make_service(args, data_dir: Path) -> QAService:
    settings = Settings(data_dir=data_dir, encoder=args.encoder, cache_size=0, retrieve_k=args.retrieve_k)
    reader = None
    if args.reader not in ("auto", "neural", "heuristic"):
        from qa.read.neural import NeuralReader

        reader = NeuralReader(Path(args.reader), threads=settings.threads)
    else:
        reader = make_reader(settings.model_copy(update={"reader": args.reader}))
    service = QAService(settings, reader=reader)
    service.warm_up()
    return service


def corpora(service: QAService, sample: int) -> dict[str, tuple[str, list[str]]]:
    """name -> (collection, questions): the seed page, and SQuAD dev's paragraphs."""
    service.ensure_seeded(ROOT / "seeds")
    seed = [r["question"] for r in read_jsonl(SEED_QUESTIONS)]
    squad = eval_data.load(SQUAD_DEV)
    corpus = build_corpus(service, squad)
    picked = [q.question for q in squad.sample(sample, seed=0).questions]
    return {"seed": (service.settings.collection, seed), "squad-2067": (corpus.collection, picked)}


def measure(service, url: str | None, collection: str, questions: list[str], rounds: int) -> dict:
    """All measurements for one corpus, interleaved question by question."""
    import httpx

    per_stage: dict[str, list[float]] = {s: [] for s in STAGES}
    floor, inproc, http, server = [], [], [], []
    client = httpx.Client(timeout=60) if url else None
    for _ in range(rounds):
        for q in questions:
            for name, ms in stage_times(service, collection, q).items():
                per_stage[name].append(ms)
            floor.append(floor_ms(service, collection, q))
            t0 = time.perf_counter()
            service.ask(q, collection=collection)
            inproc.append((time.perf_counter() - t0) * 1000)
            if client:
                t0 = time.perf_counter()
                body = client.post(f"{url}/ask", json={"question": q, "collection": collection})
                http.append((time.perf_counter() - t0) * 1000)
                server.append(body.json()["took_ms"])
    e2e = stats(http or inproc)
    out = {
        "questions": len(questions), "rounds": rounds,
        "stages": {k: stats(v) for k, v in per_stage.items() if v},
        "floor": stats(floor), "in_process": stats(inproc), "http": stats(http), "server_took_ms": stats(server),
    }
    out["ratio_e2e_to_floor"] = round(e2e["p50"] / out["floor"]["p50"], 2)
    return out


def main() -> None:
    args = parse_args()
    data_dir = OUT / f"data-{args.encoder}"
    service = make_service(args, data_dir)
    sets = corpora(service, args.questions)
    env = {"QA_ENCODER": args.encoder, "QA_CACHE_SIZE": "0", "QA_RETRIEVE_K": str(args.retrieve_k)}
    results = {}
    serve = not args.no_http and args.reader in ("auto", "neural")  # a server reads qa/models/reader only
    with running_server(data_dir, env=env) if serve else nullcontext() as url:
        for name, (collection, questions) in sets.items():
            results[name] = measure(service, url, collection, questions, args.rounds)
    rows = []
    for name, r in results.items():
        for stage, s in r["stages"].items():
            rows.append((name, stage, s["p50"], s["p95"], s["p99"]))
        for part in ("floor", "in_process", "http", "server_took_ms"):
            if r[part].get("n"):
                rows.append((name, part, r[part]["p50"], r[part]["p95"], r[part]["p99"]))
        rows.append((name, "e2e/floor (p50)", r["ratio_e2e_to_floor"], "", ""))
    settings = service.settings
    body = {"encoder": args.encoder, "reader": service.reader.name, "retrieve_k": args.retrieve_k,
            "read_first": settings.read_first, "read_sure": settings.read_sure, "results": results}
    suffix = "" if args.retrieve_k == Settings().retrieve_k else f"-k{args.retrieve_k}"
    report(f"latency-{args.encoder}{suffix}", body, rows, ("corpus", "stage (ms)", "p50", "p95", "p99"))


if __name__ == "__main__":
    main()
