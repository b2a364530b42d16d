"""Throughput under load: N concurrent clients POST /ask to a real `qa serve` over loopback.

Each client (an asyncio task sharing one httpx.AsyncClient with N connections) asks SQuAD dev
questions over the 2,067 paragraphs back to back. Reports requests/s, latency percentiles and
errors (any non-200 or transport error). Caches are off unless --cache, so every request does
the full model work. Uses the data dir latency.py built (benchmarks/out/data-<encoder>).

    .venv/bin/python benchmarks/load.py --encoder onnx --clients 32 --requests 8
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx
from common import OUT, SQUAD_DEV, report, stats

from qa.eval import data as eval_data
from qa.eval.run import corpus_collection
from tests.server import running_server


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--encoder", default="onnx", choices=["torch", "onnx", "onnx-int8"])
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--requests", type=int, default=8, help="per client")
    p.add_argument("--cache", action="store_true", help="leave the answer cache on (repeated questions hit it)")
    return p.parse_args()


async def client_loop(client: httpx.AsyncClient, questions: list[str], collection: str, latencies: list, errors: list) -> None:
    for q in questions:
        started = time.perf_counter()
        try:
            r = await client.post("/ask", json={"question": q, "collection": collection})
            if r.status_code != 200:
                errors.append(f"{r.status_code}: {r.text[:200]}")
        except httpx.HTTPError as exc:
            errors.append(repr(exc))
        latencies.append((time.perf_counter() - started) * 1000)


async def run(url: str, collection: str, questions: list[str], clients: int, per_client: int) -> tuple[list, list, float]:
    latencies: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as client:
        await client.post("/ask", json={"question": questions[0], "collection": collection})  # warm
        batches = [[questions[(c * per_client + i) % len(questions)] for i in range(per_client)] for c in range(clients)]
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client, b, collection, latencies, errors) for b in batches))
        wall = time.perf_counter() - started
    return latencies, errors, wall


def main() -> None:
    args = parse_args()
    squad = eval_data.load(SQUAD_DEV)
    collection = corpus_collection(squad)
    questions = [q.question for q in squad.sample(args.clients * args.requests, seed=1).questions]
    env = {"QA_ENCODER": args.encoder, "QA_CACHE_SIZE": "1024" if args.cache else "0"}
    data_dir = OUT / f"data-{args.encoder}"
    if not (data_dir / "collections" / collection).is_dir():
        raise SystemExit(f"no SQuAD collection in {data_dir}: run benchmarks/latency.py --encoder {args.encoder} first")
    with running_server(data_dir, env=env) as url:
        latencies, errors, wall = asyncio.run(run(url, collection, questions, args.clients, args.requests))
    s = stats(latencies)
    body = {
        "encoder": args.encoder, "clients": args.clients, "requests": len(latencies), "errors": len(errors),
        "error_samples": errors[:5], "wall_s": round(wall, 2), "requests_per_s": round(len(latencies) / wall, 2),
        "latency_ms": s, "p99_over_p50": round(s["p99"] / s["p50"], 2), "cache": args.cache,
    }
    rows = [(args.clients, len(latencies), len(errors), body["requests_per_s"], s["p50"], s["p95"], s["p99"], body["p99_over_p50"])]
    report(f"load-{args.encoder}{'-cache' if args.cache else ''}", body, rows,
           ("clients", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms", "p99/p50"))


if __name__ == "__main__":
    main()
