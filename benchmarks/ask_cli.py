"""Wall time of one `qa ask` command, as a user at a shell sees it: in-process (loads the models
and the index every call) against `qa ask --url` (asks a running `qa serve`), plus `qa --help`
(interpreter and CLI import only, the floor of any command).

Indexes the seed corpus into a fresh data directory, starts `qa serve` on it, then runs each
command once per question of the question file (the first --calls questions, interleaved so both
modes see the same machine load) and reports p50/p95/mean of the wall times. Each round also runs
the local path's steps one by one in a fresh process (`PHASES`), to show what dominates it.

    .venv/bin/python benchmarks/ask_cli.py --calls 10
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import SEED_QUESTIONS, read_jsonl, report, stats

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.server import running_server  # noqa: E402  (the tests' own server starter)


# What a local `qa ask` does, step by step, in a fresh interpreter (each step's imports included).
PHASES = """
import json, sys, time
t = [time.perf_counter()]
from qa.cli import main
from qa.config import load_settings
from qa.service import QAService
t.append(time.perf_counter())
settings = load_settings()
service = QAService(settings)
service.ensure_seeded(settings.seeds_dir)
t.append(time.perf_counter())
service.encoder.warm_up()
t.append(time.perf_counter())
_ = service.reader
t.append(time.perf_counter())
service.ask(sys.argv[1])
t.append(time.perf_counter())
names = ["import the CLI and the service", "load the index", "load the encoder", "load the reader", "answer"]
print(json.dumps({n: (b - a) * 1000 for n, a, b in zip(names, t, t[1:])}))
"""


def phases(question: str, env: dict) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", PHASES, question], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def timed(args: list[str], env: dict) -> float:
    """Milliseconds of wall time for one `qa` command; it must succeed."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "qa.cli", *args], env=env, capture_output=True, text=True)
    took = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise SystemExit(f"qa {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10, help="commands per mode (one question each)")
    parser.add_argument("--questions", type=Path, default=SEED_QUESTIONS)
    args = parser.parse_args()
    questions = [row["question"] for row in read_jsonl(args.questions)]
    questions = [questions[i % len(questions)] for i in range(args.calls)]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        env = {**os.environ, "QA_DATA_DIR": str(data), "QA_MODEL_CACHE": str(Path(tmp) / "cache"),
               "PYTHONPATH": str(ROOT)}
        timed(["index"], env)  # the seed corpus, and the one-off ONNX export, before any clock runs
        times: dict[str, list[float]] = {"qa --help": [], "qa ask --url": [], "qa ask": []}
        with running_server(data, {"QA_MODEL_CACHE": env["QA_MODEL_CACHE"]}) as url:
            for question in questions:
                times["qa --help"].append(timed(["--help"], env))
                times["qa ask --url"].append(timed(["ask", question, "--url", url], env))
                times["qa ask"].append(timed(["ask", question], env))
                for step, ms in phases(question, env).items():
                    times.setdefault(f"  local step: {step}", []).append(ms)
    figures = {name: stats(values) for name, values in times.items()}
    rows = [(name, f["n"], f["p50"], f["p95"], f["mean"]) for name, f in figures.items()]
    report("ask_cli", {"questions": str(args.questions), "wall_ms": figures}, rows, ("command", "calls", "p50 ms", "p95 ms", "mean ms"))


if __name__ == "__main__":
    main()
