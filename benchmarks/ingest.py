"""Ingest throughput: `qa index` against the raw encoder on the same passages (the floor).

Corpora: the 2,067 SQuAD v1.1 dev paragraphs and SciFact's 5,183 abstracts, one .txt file each
(written once under benchmarks/out/ingest-src/). Each run is a fresh process on an empty data dir:
  qa index   passages embedded / the indexer's own seconds (split + encode + index + atomic save),
             plus the command's wall time (imports and model load included) and peak RSS
  raw        the encoder alone on the very passage texts `qa index` embedded, batch 64 (torch:
             SentenceTransformer.encode; onnx: the ONNX encoder's encode), and its peak RSS

    .venv/bin/python benchmarks/ingest.py --encoder onnx
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import OUT, ROOT, report, scifact_abstracts, squad_paragraphs

# Runs a module (or a .py file) as `python -m` would, then prints its peak RSS, even on sys.exit().
PEAK = (
    "import os, resource, runpy, sys\n"
    "sys.argv = sys.argv[1:]\n"
    "sys.path.insert(0, os.path.dirname(sys.argv[0]))\n"
    "run = runpy.run_path if sys.argv[0].endswith('.py') else runpy.run_module\n"
    "try:\n    run(sys.argv[0], run_name='__main__')\n"
    "finally:\n    print('PEAK_RSS_MB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, flush=True)\n"
)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--encoder", default="onnx", choices=["torch", "onnx", "onnx-int8"])
    p.add_argument("--corpora", nargs="+", default=["squad", "scifact"])
    p.add_argument("--limit", type=int, default=None, help="first N texts only (a quick check)")
    p.add_argument("--raw", nargs=2, metavar=("TEXTS_JSON", "DATA_DIR"), help=argparse.SUPPRESS)
    return p.parse_args()


def source_folder(name: str, limit: int | None) -> Path:
    folder = OUT / "ingest-src" / (name if limit is None else f"{name}-{limit}")
    if not folder.is_dir():
        texts = (squad_paragraphs() if name == "squad" else scifact_abstracts())[:limit]
        folder.mkdir(parents=True)
        for i, text in enumerate(texts):
            (folder / f"{i:05d}.txt").write_text(text + "\n", encoding="utf-8")
    return folder


def run_peak(args: list[str], env: dict) -> tuple[str, float, float]:
    """(stdout, wall seconds, peak RSS MiB) of `python -m args...` in a fresh process."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", PEAK, *args], env={**os.environ, **env}, cwd=ROOT,
                          capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{args} failed:\n{proc.stderr[-2000:]}")
    peak = float(re.search(r"PEAK_RSS_MB ([\d.]+)", proc.stdout).group(1))
    return proc.stdout, wall, peak


def index_run(name: str, encoder: str, data_dir: Path, limit: int | None) -> dict:
    out, wall, peak = run_peak(["qa.cli", "index", str(source_folder(name, limit)), "--data-dir", str(data_dir)],
                               {"QA_ENCODER": encoder})
    m = re.search(r"(\d+) passages \(.*embedded (\d+) passages in ([\d.]+) s\)", out)
    passages, embedded, seconds = int(m.group(1)), int(m.group(2)), float(m.group(3))
    return {"passages": passages, "embedded": embedded, "index_seconds": seconds, "command_wall_s": round(wall, 2),
            "passages_per_s": round(embedded / seconds, 1), "peak_rss_mb": peak}


def raw_run(encoder: str, data_dir: Path) -> dict:
    """The passages `qa index` stored, encoded again by the bare encoder in a fresh process."""
    from qa.store import local as store

    texts = [p.searchable for p in store.load(data_dir, "default").passages]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(texts, f)
    out, _, peak = run_peak([str(Path(__file__).resolve()), "--encoder", encoder, "--raw", f.name, str(data_dir)], {})
    os.unlink(f.name)
    result = json.loads(out.splitlines()[-2])
    return {**result, "passages_per_s": round(result["passages"] / result["seconds"], 1), "peak_rss_mb": peak}


def raw_encode(encoder: str, texts_file: str, data_dir: str) -> None:
    """Child process: load the model, then time encode() alone; prints one JSON line."""
    texts = json.loads(Path(texts_file).read_text())
    if encoder == "torch":
        from sentence_transformers import SentenceTransformer

        from qa.embed.base import PACKAGED_MODELS, offline

        offline()
        model = SentenceTransformer(str(PACKAGED_MODELS["all-MiniLM-L6-v2"][0]()), device="cpu")
        model.encode(texts[:8])
        started = time.perf_counter()
        model.encode(texts, batch_size=64, normalize_embeddings=True)
    else:
        from qa.embed.factory import make_encoder

        model = make_encoder(encoder, "all-MiniLM-L6-v2", Path(data_dir) / "cache")
        model.encode(texts[:8])
        started = time.perf_counter()
        model.encode(texts)
    print(json.dumps({"passages": len(texts), "seconds": round(time.perf_counter() - started, 3)}))


def main() -> None:
    args = parse_args()
    if args.raw:
        return raw_encode(args.encoder, *args.raw)
    results, rows = {}, []
    for name in args.corpora:
        with tempfile.TemporaryDirectory(dir=OUT) as tmp:
            data_dir = Path(tmp) / "data"
            if args.encoder != "torch":  # reuse the export: ingest is measured, not the one-off export
                (data_dir / "cache").mkdir(parents=True)
                (data_dir / "cache" / "onnx").symlink_to((OUT / f"data-{args.encoder}" / "cache" / "onnx").resolve())
            indexed = index_run(name, args.encoder, data_dir, args.limit)
            raw = raw_run(args.encoder, data_dir)
        ratio = round(indexed["passages_per_s"] / raw["passages_per_s"], 2)
        results[name] = {"qa_index": indexed, "raw_encode": raw, "ratio": ratio}
        rows.append((name, indexed["embedded"], indexed["passages_per_s"], raw["passages_per_s"], ratio,
                     indexed["command_wall_s"], indexed["peak_rss_mb"], raw["peak_rss_mb"]))
    report(f"ingest-{args.encoder}", {"encoder": args.encoder, "results": results}, rows,
           ("corpus", "passages", "qa index p/s", "raw p/s", "ratio", "cmd wall s", "index peak MiB", "raw peak MiB"))


if __name__ == "__main__":
    main()
