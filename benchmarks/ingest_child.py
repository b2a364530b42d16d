"""The child processes of benchmarks/ingest.py. Apart from it (and from common.py, which puts this
tree first on sys.path) so that the code under test is whatever PYTHONPATH names: this tree or
the base commit's files.

    python benchmarks/ingest_child.py raw ENCODER TEXTS_JSON DATA_DIR   # time encode() alone
    python benchmarks/ingest_child.py stub-index FOLDER DATA_DIR        # `qa index`, stand-in encoder
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

MODEL = "all-MiniLM-L6-v2"


def raw_encode(encoder: str, texts_file: str, data_dir: str) -> None:
    """Load the model, then time encode() alone (wall and CPU seconds, all threads); prints one JSON line."""
    texts = json.loads(Path(texts_file).read_text())
    if encoder == "torch":
        from sentence_transformers import SentenceTransformer

        from qa.embed.base import PACKAGED_MODELS, offline

        offline()
        model = SentenceTransformer(str(PACKAGED_MODELS[MODEL][0]()), device="cpu")
        model.encode(texts[:8])
        started, cpu = time.perf_counter(), time.process_time()
        model.encode(texts, batch_size=64, normalize_embeddings=True)
    else:
        from qa.embed.factory import make_encoder

        model = make_encoder(encoder, MODEL, Path(data_dir) / "cache")
        model.encode(texts[:8])
        started, cpu = time.perf_counter(), time.process_time()
        model.encode(texts)
    print(json.dumps({"passages": len(texts), "seconds": round(time.perf_counter() - started, 3),
                      "cpu_seconds": round(time.process_time() - cpu, 3)}))


class StandIn:
    """Random unit vectors at no cost: what the indexer and store hold, without the model."""

    name, dim = "stand-in", 384

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = np.random.default_rng(len(texts)).standard_normal((len(texts), self.dim), dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def stub_index(folder: str, data_dir: str) -> None:
    """`qa index FOLDER` as the CLI runs it (QAService.index), with the stand-in encoder."""
    from qa.config import Settings
    from qa.service import QAService

    done = QAService(Settings(data_dir=Path(data_dir)), encoder=StandIn()).index([Path(folder)])
    print(json.dumps({"passages": done.passages, "seconds": done.seconds}))


if __name__ == "__main__":
    {"raw": raw_encode, "stub-index": stub_index}[sys.argv[1]](*sys.argv[2:])
