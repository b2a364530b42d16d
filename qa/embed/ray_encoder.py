"""Embedding fanned out over a Ray cluster: the indexing path for corpora too large for one machine
(`qa index --ray ADDRESS`, usually with `QA_INDEX_BACKEND=milvus`).

Embedding is where indexing spends its time (ONNX MiniLM does ~100 passages/s per core), and it
is embarrassingly parallel. `RayEncoder` keeps the `Encoder` protocol, so the indexer does not
change: the passages still come from the indexer (only new ones are embedded), Ray Data cuts them
into blocks, one actor per worker loads the model once and encodes its blocks, and the vectors
come back in order to be written into Milvus in batches. Every Ray node needs this package
installed (`pip install 'verbatim-qa[milvus,ray]'`) and a writable model cache path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qa.embed.factory import make_encoder

BLOCK = 256  # passages per Ray task: big enough to amortise the hop, small enough to spread


class _Embed:
    """A Ray actor's work: the model is loaded once per actor, then encodes block after block."""

    def __init__(self, runtime: str, model: str, cache_dir: str, batch_size: int) -> None:
        self.encoder = make_encoder(runtime, model, Path(cache_dir), batch_size, threads=1)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {"row": batch["row"], "vector": self.encoder.encode([str(t) for t in batch["text"]])}


class RayEncoder:
    """An `Encoder` whose `encode` runs on the Ray cluster at `address` with `workers` actors of
    one CPU each. Name and dimension are the local model's, so manifests do not change."""

    def __init__(self, runtime: str, model: str, cache_dir: Path, address: str, workers: int, batch_size: int = 64) -> None:
        local = make_encoder(runtime, model, cache_dir, batch_size)
        self.name, self.dim = local.name, local.dim
        self.address, self.workers = address, workers
        self._args = {"runtime": runtime, "model": model, "cache_dir": str(cache_dir), "batch_size": batch_size}

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        try:
            import ray
        except ImportError:
            raise ImportError("qa index --ray needs Ray: pip install 'verbatim-qa[ray]'") from None
        ray.init(address=self.address, ignore_reinit_error=True, log_to_driver=False, logging_level="warning")
        rows = ray.data.from_items([{"row": i, "text": t} for i, t in enumerate(texts)], override_num_blocks=max(self.workers, len(texts) // BLOCK))
        embedded = rows.map_batches(_Embed, fn_constructor_kwargs=self._args, batch_size=BLOCK, concurrency=self.workers,
                                    num_cpus=1, batch_format="numpy")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for batch in embedded.iter_batches(batch_size=4096, batch_format="numpy"):
            out[batch["row"]] = np.stack(batch["vector"])
        return out

