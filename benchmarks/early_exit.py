"""Early-exit reading (`QA_READ_FIRST`, `QA_READ_SURE`): latency against answer quality.

Every setting answers the same SQuAD v1.1 dev questions over the file's 2,067 paragraphs, one
question at a time, caches off, the settings interleaved question by question so they see the
same machine load. F1 is of the answer the service gives (abstentions score 0).

    .venv/bin/python benchmarks/early_exit.py --questions 200
"""

from __future__ import annotations

import argparse
import time

from common import OUT, SQUAD_DEV, report, stats

from qa.config import Settings
from qa.eval import data as eval_data
from qa.eval.metrics import f1_score
from qa.eval.run import build_corpus
from qa.service import QAService

SETTINGS = [(0, 1.0)] + [(first, sure) for first in (1, 2, 3) for sure in (0.3, 0.4, 0.5)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--questions", type=int, default=200)
    args = p.parse_args()
    service = QAService(Settings(data_dir=OUT / "data-onnx", cache_size=0))
    squad = eval_data.load(SQUAD_DEV)
    collection = build_corpus(service, squad).collection
    questions = squad.sample(args.questions, seed=0).questions
    reader = service.reader
    service.ask(questions[0].question, collection=collection)  # load the models
    latency = {s: [] for s in SETTINGS}
    f1 = {s: [] for s in SETTINGS}
    for q in questions:
        for setting in SETTINGS:
            reader.first, reader.sure = setting
            started = time.perf_counter()
            result = service.ask(q.question, collection=collection)
            latency[setting].append((time.perf_counter() - started) * 1000)
            f1[setting].append(f1_score(result.answer, list(q.answers)))
    rows, body = [], {"questions": len(questions), "results": []}
    for (first, sure), times in latency.items():
        s, mean_f1 = stats(times), round(100 * sum(f1[(first, sure)]) / len(questions), 2)
        rows.append((first or "all", sure if first else "", s["p50"], s["mean"], mean_f1))
        body["results"].append({"read_first": first, "read_sure": sure, "latency_ms": s, "f1": mean_f1})
    report("early_exit", body, rows, ("read_first", "read_sure", "p50 ms", "mean ms", "F1"))


if __name__ == "__main__":
    main()
