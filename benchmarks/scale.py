"""Scale: synthetic 100k and 1M passages through the `faiss` backend, which picks its index type
by size (exact below index.faiss_index.ANN_THRESHOLD, IVF above). Reports build time, the memory
the index adds (RSS delta) against the raw vectors, single-query retrieval p50/p95 at the depth
the retriever uses (50) and recall@10 against exact search.

Vectors: embedding a million texts would take hours on two cores, so the synthetic passages are
real MiniLM embeddings of SQuAD dev passages (from benchmarks/out/data-<encoder>, built by
latency.py) each moved by Gaussian noise of norm ~0.7 (cosine ~0.8 to its source), i.e. ~500
near-paraphrases per real passage; queries are real SQuAD question embeddings. `--uniform`
uses i.i.d. random unit vectors instead: no structure at all, the worst case for any ANN index.

    .venv/bin/python benchmarks/scale.py --sizes 100000 1000000
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import subprocess
import sys
import time

import faiss
import numpy as np
from common import OUT, SQUAD_DEV, report, rss_mb, stats

from index import describe, load_index, make_index
from qa.embed.factory import make_encoder
from qa.eval import data as eval_data
from qa.eval.run import corpus_collection
from qa.store import local as store

DIM = 384
DEPTH = 50  # qa.retrieve.DENSE_DEPTH: what the retriever asks FAISS for


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    p.add_argument("--backends", nargs="+", default=["faiss"], help="faiss (automatic), faiss-hnsw, faiss-ivf, flat")
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--encoder", default="onnx")
    p.add_argument("--uniform", action="store_true", help="i.i.d. random unit vectors (worst case)")
    p.add_argument("--child", nargs=2, metavar=("N", "BACKEND"), help=argparse.SUPPRESS)
    return p.parse_args()


def unit(a: np.ndarray) -> np.ndarray:
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def real_vectors(encoder_kind: str, queries: int) -> tuple[np.ndarray, np.ndarray]:
    """(SQuAD passage embeddings, SQuAD question embeddings)."""
    data_dir = OUT / f"data-{encoder_kind}"
    squad = eval_data.load(SQUAD_DEV)
    collection = store.load(data_dir, corpus_collection(squad))
    if collection is None:
        raise SystemExit(f"no SQuAD collection in {data_dir}: run benchmarks/latency.py --encoder {encoder_kind} first")
    encoder = make_encoder(encoder_kind, "all-MiniLM-L6-v2", data_dir / "cache")
    questions = [q.question for q in squad.sample(queries, seed=2).questions]
    return np.asarray(collection.vectors, dtype=np.float32), encoder.encode(questions)


def synthetic(n: int, bases: np.ndarray | None, seed: int = 0) -> np.ndarray:
    """n unit vectors, built in chunks so the peak stays near the result's own size."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, DIM), dtype=np.float32)
    for lo in range(0, n, 100_000):
        m = min(100_000, n - lo)
        noise = rng.standard_normal((m, DIM), dtype=np.float32)
        if bases is None:
            out[lo : lo + m] = unit(noise)
        else:
            picks = bases[rng.integers(0, len(bases), m)]
            out[lo : lo + m] = unit(picks + noise * (0.7 / np.sqrt(DIM)))
    return out


def one(backend: str, vectors: np.ndarray, queries: np.ndarray) -> tuple[dict, np.ndarray]:
    """Build, save, and load the index back as a server does; RAM is what the loaded index adds
    (the build's own peak is higher: FAISS's lists grow by doubling while they are filled)."""
    started = time.perf_counter()
    index = make_index(backend, DIM)
    index.add(np.arange(len(vectors), dtype=np.int64), vectors)
    build = time.perf_counter() - started
    path = OUT / "scale-index.bin"
    index.save(path)
    del index
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)  # the build's freed memory back to the OS first
    before = rss_mb()
    index = load_index(backend, path)
    added_mb = rss_mb() - before
    file_mb = path.stat().st_size / 2**20
    path.unlink()
    latencies = []
    for q in queries:
        t0 = time.perf_counter()
        index.search(q[None, :], DEPTH)
        latencies.append((time.perf_counter() - t0) * 1000)
    raw_mb = vectors.nbytes / 2**20
    return {
        "backend": backend, "index": describe(index), "build_s": round(build, 1), "index_rss_mb": round(added_mb, 1),
        "index_file_mb": round(file_mb, 1), "file_over_raw": round(file_mb / raw_mb, 3),
        "raw_vectors_mb": round(raw_mb, 1), "ram_over_raw": round(added_mb / raw_mb, 3), "search_ms": stats(latencies),
    }, index.search(queries, 10)[1]


def child(args, n: int, backend: str) -> None:
    """Child process: same vectors (same seed) as the parent, one backend; ids to a .npy file."""
    bases, queries = inputs(args)
    result, found = one(backend, synthetic(n, bases), queries)
    np.save(OUT / "scale-found.npy", found)
    print("RESULT " + json.dumps(result))


def inputs(args) -> tuple[np.ndarray | None, np.ndarray]:
    bases, queries = real_vectors(args.encoder, args.queries)
    return (None, synthetic(args.queries, None, seed=99)) if args.uniform else (bases, queries)


def run_child(n: int, backend: str) -> tuple[dict, np.ndarray]:
    argv = [a for a in sys.argv[1:] if a]
    proc = subprocess.run([sys.executable, __file__, *argv, "--child", str(n), backend], capture_output=True, text=True)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"{backend} at {n} failed:\n{proc.stderr[-2000:]}")
    return json.loads(line[7:]), np.load(OUT / "scale-found.npy")


def main() -> None:
    args = parse_args()
    if args.child:
        return child(args, int(args.child[0]), args.child[1])
    bases, queries = inputs(args)
    results, rows = [], []
    for n in args.sizes:
        vectors = synthetic(n, bases)
        truth = faiss.knn(queries, vectors, 10, metric=faiss.METRIC_INNER_PRODUCT)[1]
        for backend in args.backends:
            result, found = run_child(n, backend)
            recall = float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)]))
            data = "uniform" if args.uniform else "perturbed-squad"
            r = {"passages": n, "data": data, **result, "recall_at_10": round(recall, 4)}
            results.append(r)
            rows.append((n, backend, r["index"]["type"], r["build_s"], r["index_rss_mb"], r["ram_over_raw"], r["file_over_raw"],
                         r["search_ms"]["p50"], r["search_ms"]["p95"], r["recall_at_10"]))
            print(rows[-1], flush=True)
        del vectors
        gc.collect()
    name = "scale-" + "-".join(f"{n // 1000}k" for n in args.sizes) + ("-uniform" if args.uniform else "")
    report(name, {"results": results, "depth": DEPTH, "queries": args.queries}, rows,
           ("passages", "backend", "type", "build s", "index MiB", "RAM/raw", "file/raw", "p50 ms", "p95 ms", "recall@10"))


if __name__ == "__main__":
    main()
