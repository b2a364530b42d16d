"""Helpers shared by the benchmark scripts: percentiles, the machine's state, the report shape.

Every script prints a table and writes `benchmarks/out/<name>.json` with the date, the machine,
its load average (other processes on a 2-core machine inflate every figure) and the command.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
EVAL = ROOT.parent / "shared" / "eval"
SQUAD_DEV = EVAL / "squad-v1.1-dev.json"
SEED_QUESTIONS = ROOT / "tests" / "data" / "seed-dev.jsonl"
sys.path.insert(0, str(ROOT))


def stats(values_ms: list[float]) -> dict:
    """p50/p95/p99 and mean of a list of milliseconds."""
    if not values_ms:
        return {"n": 0}
    a = np.asarray(values_ms, dtype=np.float64)
    return {
        "n": int(a.size),
        "p50": round(float(np.percentile(a, 50)), 2),
        "p95": round(float(np.percentile(a, 95)), 2),
        "p99": round(float(np.percentile(a, 99)), 2),
        "mean": round(float(a.mean()), 2),
    }


def machine() -> dict:
    """CPU model, cores and the load average right now (the figures' context)."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(), "loadavg": os.getloadavg()}


def peak_rss_mb(children: bool = False) -> float:
    """Peak resident memory of this process (or of its finished children), in MiB."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)


def rss_mb() -> float:
    """Resident memory now, in MiB (for deltas around one build)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def report(name: str, body: dict, rows: list[tuple], headers: tuple) -> Path:
    """Print `rows` as a table and write the JSON report; returns its path."""
    widths = [max(len(str(h)), *(len(_cell(r[i])) for r in rows)) for i, h in enumerate(headers)]
    print("  ".join(str(h).ljust(w) for h, w in zip(headers, widths)))
    for row in rows:
        print("  ".join(_cell(v).ljust(w) for v, w in zip(row, widths)))
    full = {
        "benchmark": name,
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "machine": machine(),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        **body,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(full, indent=2, default=str))
    print(f"\nwritten {path.relative_to(ROOT)}  (load average {full['machine']['loadavg']})")
    return path


def _cell(value) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def squad_paragraphs() -> list[str]:
    """The 2,067 SQuAD v1.1 dev paragraphs, in file order."""
    data = json.loads(SQUAD_DEV.read_text())["data"]
    return [p["context"] for article in data for p in article["paragraphs"]]


def scifact_abstracts() -> list[str]:
    """SciFact's 5,183 abstracts, title first, as BEIR tools join them."""
    return [f"{r.get('title', '')}\n{r['text']}".strip() for r in read_jsonl(EVAL / "scifact" / "corpus.jsonl")]
