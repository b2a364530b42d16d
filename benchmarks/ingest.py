"""Ingest throughput and memory: this tree beside a base commit, in one run, interleaved.

Every figure comes from a fresh process on an empty data dir, with its peak RSS and the load
average when it started (the machine is shared: only figures of one run compare).
  corpora   the 2,067 SQuAD v1.1 dev paragraphs and SciFact's 5,183 abstracts, one .txt file each
            (written once under benchmarks/out/ingest-src/): this tree's `qa index` (passages
            stored / the indexer's own seconds: split + encode + index + atomic save), then the
            bare encoder of the base and of this tree on the very passage texts it stored.
  --folder  a real-docs set (say ~50 HTML pages of a manual): `qa index` of this tree and of the
            base, the command's wall time included (imports, model load, reading, parsing).
  --memory  peak RSS of `qa index` at N passages (copies of the two corpora, each under its own
            heading so no two passages are the same) with a stand-in encoder, in this tree and in
            the base: what the indexer and the store hold as a corpus grows, without an hour of
            embedding. --memory-real: the same folders through this tree's real `qa index`.

    .venv/bin/python benchmarks/ingest.py --base 52209d4 --folder ~/pydoc --memory 10000 100000 --memory-real 10000
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

from qa.config import Settings
from qa.store import local as store

# Runs a module (or a .py file) as `python -m` would, then prints its peak RSS, even on sys.exit().
PEAK = (
    "import os, resource, runpy, sys\n"
    "sys.argv = sys.argv[1:]\n"
    "sys.path.insert(0, os.path.dirname(sys.argv[0]))\n"
    "run = runpy.run_path if sys.argv[0].endswith('.py') else runpy.run_module\n"
    "try:\n    run(sys.argv[0], run_name='__main__')\n"
    "finally:\n    u = resource.getrusage(resource.RUSAGE_SELF)\n"
    "    print('PEAK_RSS_MB', u.ru_maxrss / 1024, 'CPU_S', u.ru_utime + u.ru_stime, flush=True)\n"
)
CHILD = Path(__file__).resolve().with_name("ingest_child.py")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--encoder", default=None, choices=["torch", "onnx", "onnx-int8"],
                   help="this tree's runtime (default: its QA_ENCODER default)")
    p.add_argument("--base", default=None, metavar="COMMIT", help="measure this commit beside the tree")
    p.add_argument("--base-encoder", default="onnx", choices=["torch", "onnx", "onnx-int8"])
    p.add_argument("--corpora", nargs="*", default=["squad", "scifact"])
    p.add_argument("--folder", type=Path, default=None, help="a real-docs folder to index, tree and base")
    p.add_argument("--memory", nargs="*", type=int, default=[], metavar="PASSAGES",
                   help="peak RSS of `qa index` at these sizes, stand-in encoder, tree and base")
    p.add_argument("--memory-real", nargs="*", type=int, default=[], metavar="PASSAGES",
                   help="peak RSS of this tree's `qa index` at these sizes with the real encoder (slow: ~1 s per 100)")
    p.add_argument("--limit", type=int, default=None, help="first N texts of each corpus only (a quick check)")
    p.add_argument("--rounds", type=int, default=2, help="bare-encoder rounds per side, taking turns")
    return p.parse_args()


def base_tree(commit: str) -> Path:
    """The base commit's files (not a worktree: `git archive`), run with PYTHONPATH pointing there."""
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", commit], capture_output=True, text=True,
                            check=True).stdout.strip()
    folder = OUT / f"base-{commit}"
    if not folder.is_dir():
        folder.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def source_folder(name: str, limit: int | None) -> Path:
    folder = OUT / "ingest-src" / (name if limit is None else f"{name}-{limit}")
    if not folder.is_dir():
        texts = (squad_paragraphs() if name == "squad" else scifact_abstracts())[:limit]
        folder.mkdir(parents=True)
        for i, text in enumerate(texts):
            (folder / f"{i:05d}.txt").write_text(text + "\n", encoding="utf-8")
    return folder


def memory_folder(passages: int) -> Path:
    """At least `passages` distinct passages: the two corpora again and again, each copy under
    its own heading (part of every passage's searchable text, so none is a duplicate)."""
    from qa.ingest.passages import split_passages
    from qa.types import Document

    folder = OUT / "ingest-src" / f"memory-{passages}"
    if folder.is_dir():
        return folder
    texts, made, copy = squad_paragraphs() + scifact_abstracts(), 0, 0
    folder.mkdir(parents=True)
    while made < passages:
        copy += 1
        for i, text in enumerate(texts):
            body = f"# Copy {copy} of text {i}\n\n{text}\n"
            made += len(split_passages(Document(str(i), "", "", body, ""), 180))
            (folder / f"{copy:03d}-{i:05d}.txt").write_text(body, encoding="utf-8")
            if made >= passages:
                break
    return folder


def run_peak(args: list[str], env: dict, src: Path) -> tuple[str, float, float, float, float]:
    """(stdout, wall seconds, peak RSS MiB, 1-min load average at start, CPU seconds) of a fresh
    process running `python -m args...` with `src` as the code under test. CPU seconds (all its
    threads) hardly move with the load other users put on the machine; wall seconds do."""
    load = round(os.getloadavg()[0], 2)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", PEAK, *args], env={**os.environ, "PYTHONPATH": str(src), **env},
                          cwd=src, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{args} failed:\n{proc.stderr[-2000:]}")
    m = re.search(r"PEAK_RSS_MB ([\d.]+) CPU_S ([\d.]+)", proc.stdout)
    return proc.stdout, wall, float(m.group(1)), load, float(m.group(2))


def data_dir_in(tmp: str) -> Path:
    """An empty data dir that shares the ONNX export (ingest is measured, not the one-off export)."""
    data_dir = Path(tmp) / "data"
    (data_dir / "cache").mkdir(parents=True)
    shared = OUT / "data-onnx" / "cache" / "onnx"
    shared.mkdir(parents=True, exist_ok=True)
    (data_dir / "cache" / "onnx").symlink_to(shared.resolve())
    return data_dir


def index_run(src: Path, encoder: str | None, folder: Path, data_dir: Path) -> dict:
    env = {"QA_ENCODER": encoder} if encoder else {}
    out, wall, peak, load, cpu = run_peak(["qa.cli", "index", str(folder), "--data-dir", str(data_dir)], env, src)
    m = re.search(r"(\d+) passages \(.*embedded (\d+) passages in ([\d.]+) s", out)
    passages, embedded, seconds = int(m.group(1)), int(m.group(2)), float(m.group(3))
    return {"passages": passages, "embedded": embedded, "index_seconds": seconds, "command_wall_s": round(wall, 2),
            "passages_per_s": round(passages / seconds, 1), "command_cpu_s": round(cpu, 1), "peak_rss_mb": peak, "load": load}


def raw_run(src: Path, encoder: str, texts_file: str, data_dir: Path) -> dict:
    """The bare encoder of `src` on the passage texts in `texts_file`, in a fresh process."""
    out, _, peak, load, _ = run_peak([str(CHILD), "raw", encoder, texts_file, str(data_dir)], {}, src)
    result = json.loads(out.splitlines()[-2])
    return {**result, "passages_per_s": round(result["passages"] / result["seconds"], 1),
            "passages_per_cpu_s": round(result["passages"] / result["cpu_seconds"], 1), "peak_rss_mb": peak, "load": load}


def corpus_rows(args, base: Path | None, results: dict) -> list[tuple]:
    """This tree's `qa index`, then the bare encoders of tree and base on its passages, taking
    turns for `--rounds` rounds (each side's best round counts: the others had more company)."""
    rows = []
    tree_encoder = args.encoder or os.environ.get("QA_ENCODER") or _default_encoder()
    for name in args.corpora:
        with tempfile.TemporaryDirectory(dir=OUT) as tmp:
            data_dir = data_dir_in(tmp)
            indexed = index_run(ROOT, args.encoder, source_folder(name, args.limit), data_dir)
            texts_file = Path(tmp) / "texts.json"
            texts_file.write_text(json.dumps([p.searchable for p in store.load(data_dir, "default").passages]))
            sides = [("tree_raw", ROOT, tree_encoder)] + ([("base_raw", base, args.base_encoder)] if base else [])
            raws: dict[str, list[dict]] = {side: [] for side, _, _ in sides}
            for _ in range(args.rounds):
                for side, src, encoder in sides:
                    raws[side].append(raw_run(src, encoder, str(texts_file), data_dir))
        best = {side: max(runs, key=lambda r: r["passages_per_s"]) for side, runs in raws.items()}
        floor = best.get("base_raw", best["tree_raw"])
        results[name] = {"tree_qa_index": indexed, **raws, "speedup_vs_base_raw": round(indexed["passages_per_s"] / floor["passages_per_s"], 2),
                         "raw_cpu_ratio": round(best["tree_raw"]["passages_per_cpu_s"] / floor["passages_per_cpu_s"], 2)}
        loads = "/".join(str(r["load"]) for runs in raws.values() for r in runs)
        rows.append((name, indexed["passages"], indexed["embedded"], indexed["passages_per_s"], best["tree_raw"]["passages_per_s"],
                     floor["passages_per_s"], results[name]["speedup_vs_base_raw"], results[name]["raw_cpu_ratio"],
                     indexed["peak_rss_mb"], f"{indexed['load']} | {loads}"))
    return rows


def _default_encoder() -> str:
    return Settings.model_fields["encoder"].default


def folder_rows(args, base: Path | None, results: dict) -> list[tuple]:
    rows = []
    sides = [("tree", ROOT, args.encoder)] + ([("base", base, args.base_encoder)] if base is not None else [])
    for side, src, encoder in sides:
        with tempfile.TemporaryDirectory(dir=OUT) as tmp:
            got = index_run(src, encoder, args.folder.resolve(), data_dir_in(tmp))
        results[side] = got
        rows.append((side, got["passages"], got["embedded"], got["index_seconds"], got["command_wall_s"],
                     got["passages_per_s"], got["peak_rss_mb"], got["load"]))
    return rows


def memory_rows(args, base: Path | None, results: dict) -> list[tuple]:
    rows = []
    for passages in args.memory:
        folder = memory_folder(passages)
        for side, src in [("tree", ROOT)] + ([("base", base)] if base is not None else []):
            with tempfile.TemporaryDirectory(dir=OUT) as tmp:
                out, wall, peak, load, _ = run_peak([str(CHILD), "stub-index", str(folder), str(Path(tmp) / "data")], {}, src)
            got = {**json.loads(out.splitlines()[-2]), "command_wall_s": round(wall, 1), "peak_rss_mb": peak, "load": load}
            results[f"{side}-{passages}"] = got
            rows.append((passages, side, got["passages"], got["seconds"], got["peak_rss_mb"], load))
    return rows


def memory_real_rows(args, results: dict) -> list[tuple]:
    rows = []
    for passages in args.memory_real:
        with tempfile.TemporaryDirectory(dir=OUT) as tmp:
            got = index_run(ROOT, args.encoder, memory_folder(passages), data_dir_in(tmp))
        results[f"tree-real-{passages}"] = got
        rows.append((passages, "tree, real encoder", got["passages"], got["index_seconds"], got["peak_rss_mb"], got["load"]))
    return rows


def main() -> None:
    args = parse_args()
    base = base_tree(args.base) if args.base else None
    body = {"encoder": args.encoder or "default", "base": args.base, "base_encoder": args.base_encoder}
    if args.corpora:
        results: dict = {}
        rows = corpus_rows(args, base, results)
        report("ingest", {**body, "results": results}, rows,
               ("corpus", "passages", "embedded", "qa index p/s", "raw p/s", "base raw p/s", "speedup vs base raw",
                "raw per CPU-s vs base", "index peak MiB", "load index | raw rounds (tree/base)"))
    if args.folder:
        results = {}
        rows = folder_rows(args, base, results)
        report("ingest-folder", {**body, "folder": str(args.folder), "results": results}, rows,
               ("side", "passages", "embedded", "index s", "cmd wall s", "p/s", "peak MiB", "load"))
    if args.memory or args.memory_real:
        results = {}
        rows = memory_rows(args, base, results) + memory_real_rows(args, results)
        report("ingest-memory", {**body, "results": results}, rows,
               ("target passages", "side", "passages", "index s", "peak MiB", "load"))


if __name__ == "__main__":
    main()
