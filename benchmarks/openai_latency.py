"""Time to the first streamed chunk and to the full answer on /v1/chat/completions.

Starts a real `qa serve` on an empty data directory (it indexes seeds/ itself), then asks every
question of a question file over raw HTTP, N rounds: streamed (time to the first `data:` event, and to
`data: [DONE]`), not streamed (time to the whole JSON), and through `/ask` as the baseline. The answer cache
is off by default (`QA_CACHE_SIZE=0`), so every request does the full work; `--cache` keeps it.
Prints a table and writes JSON.

    .venv/bin/python benchmarks/openai_latency.py --rounds 3

Timings on a shared machine are inflated by whatever else runs on its CPUs: say so beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.server import running_server  # noqa: E402  (the same server the tests start)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def streamed(client: httpx.Client, url: str, question: str) -> tuple[float, float]:
    """(ms to the first event, ms to [DONE]) for one streamed answer."""
    body = {"model": "verbatim", "stream": True, "messages": [{"role": "user", "content": question}]}
    t0 = time.perf_counter()
    first = None
    with client.stream("POST", f"{url}/v1/chat/completions", json=body) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if line.startswith("data: ") and first is None:
                first = time.perf_counter()
            if line == "data: [DONE]":
                break
    done = time.perf_counter()
    return (first - t0) * 1000, (done - t0) * 1000


def plain(client: httpx.Client, url: str, question: str) -> float:
    body = {"model": "verbatim", "messages": [{"role": "user", "content": question}]}
    t0 = time.perf_counter()
    client.post(f"{url}/v1/chat/completions", json=body).raise_for_status()
    return (time.perf_counter() - t0) * 1000


def ask(client: httpx.Client, url: str, question: str) -> float:
    """/ask for the same question: the baseline, to see what the /v1 layer adds."""
    t0 = time.perf_counter()
    client.post(f"{url}/ask", json={"question": question}).raise_for_status()
    return (time.perf_counter() - t0) * 1000


def summary(values: list[float]) -> dict:
    return {"p50_ms": round(statistics.median(values), 1), "p95_ms": round(percentile(values, 95), 1),
            "min_ms": round(min(values), 1), "max_ms": round(max(values), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=ROOT / "tests" / "data" / "seed-dev.jsonl")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache", action="store_true", help="keep the server's answer cache on")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "openai_latency.json")
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for line in args.questions.read_text().splitlines() if line.strip()]
    first, done, whole, baseline = [], [], [], []
    env = {} if args.cache else {"QA_CACHE_SIZE": "0"}
    with tempfile.TemporaryDirectory() as tmp, running_server(Path(tmp) / "data", env=env) as url:
        with httpx.Client(timeout=60) as client:
            streamed(client, url, questions[0])  # warm-up: first request pays for lazy loads
            for _ in range(args.rounds):
                for q in questions:
                    ttfc, total = streamed(client, url, q)
                    first.append(ttfc)
                    done.append(total)
                    whole.append(plain(client, url, q))
                    baseline.append(ask(client, url, q))
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()} cpus={os.cpu_count()}",
        "note": "shared machine: other processes use the same CPUs, so these timings are inflated",
        "answer_cache": args.cache,
        "requests_each": len(first),
        "stream_first_chunk": summary(first),
        "stream_done": summary(done),
        "not_streamed": summary(whole),
        "ask_baseline": summary(baseline),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
