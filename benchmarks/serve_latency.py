"""Cold start and /ask latency of a real `qa serve` on the seed corpus.

Starts the server on an empty data directory (so it indexes seeds/ itself), measures the time
until /health answers 200, then asks every question of a question file N times over HTTP and
reports latency percentiles. Prints a table and writes JSON.

    .venv/bin/python benchmarks/serve_latency.py --questions tests/data/seed-dev.jsonl --rounds 5 --encoder onnx

Caches are off (QA_CACHE_SIZE=0) unless --cache: later rounds would otherwise be cache hits.
With an ONNX encoder the cold start includes the one-off export into the empty data dir; a second
start (`--warm-start`, same data dir) shows the cost without it.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.server import free_port  # noqa: E402  (the same port picker the tests use)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=ROOT / "tests" / "data" / "seed-dev.jsonl")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--encoder", default="torch", choices=["torch", "onnx", "onnx-int8"])
    parser.add_argument("--cache", action="store_true", help="leave the answer cache on")
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for line in args.questions.read_text().splitlines() if line.strip()]
    port = free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        env = {"QA_DATA_DIR": data_dir, "PATH": str(Path(sys.executable).parent), "QA_ENCODER": args.encoder,
               "QA_CACHE_SIZE": "1024" if args.cache else "0"}
        cold, _ = serve(env, port, lambda url: None)
        warm, (latencies, server_ms) = serve(env, port, lambda url: ask_all(url, questions, args.rounds))
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "loadavg": __import__("os").getloadavg(),
        "machine": f"{platform.machine()} {platform.processor() or ''} cpus={__import__('os').cpu_count()}".strip(),
        "encoder": args.encoder,
        "cold_start_s": round(cold, 2),
        "second_start_s": round(warm, 2),
        "requests": len(latencies),
        "ask_p50_ms": round(statistics.median(latencies), 1),
        "ask_p95_ms": round(percentile(latencies, 95), 1),
        "ask_p99_ms": round(percentile(latencies, 99), 1),
        "server_took_p50_ms": round(statistics.median(server_ms), 1),
    }
    out = args.out or ROOT / "benchmarks" / "out" / f"serve_latency-{args.encoder}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    for key, value in report.items():
        print(f"{key:>20}  {value}")


def serve(env: dict, port: int, work):
    """Start `qa serve`, time it to its first healthy /health, run `work(url)`, stop it."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
    )
    try:
        ready = wait_healthy(f"http://127.0.0.1:{port}", started)
        return ready, work(f"http://127.0.0.1:{port}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def wait_healthy(url: str, started: float, timeout: float = 180) -> float:
    while time.perf_counter() - started < timeout:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"server not healthy after {timeout} s")


def ask_all(url: str, questions: list[str], rounds: int) -> tuple[list[float], list[float]]:
    latencies, server = [], []
    with httpx.Client(timeout=30) as client:
        client.post(f"{url}/ask", json={"question": questions[0]})  # first request warms caches
        for _ in range(rounds):
            for q in questions:
                t0 = time.perf_counter()
                body = client.post(f"{url}/ask", json={"question": q}).json()
                latencies.append((time.perf_counter() - t0) * 1000)
                server.append(body["took_ms"])
    return latencies, server


if __name__ == "__main__":
    main()
