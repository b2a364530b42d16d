"""The packaged sentence-transformers model on torch: the reference the ONNX encoder matches."""

from __future__ import annotations

import numpy as np

from qa.embed.base import PACKAGED_MODELS, offline
from qa.errors import InvalidInput


class SentenceTransformerEncoder:
    """A packaged sentence-transformers model on the CPU."""

    def __init__(self, name: str, batch_size: int = 64, threads: int = 2) -> None:
        if name not in PACKAGED_MODELS:
            raise InvalidInput(f"unknown embedding model {name!r}; available: {sorted(PACKAGED_MODELS)}")
        self.name, self.dim = name, PACKAGED_MODELS[name][1]
        self._batch_size, self._threads = batch_size, threads
        self._model = None

    def _load(self):
        if self._model is None:
            offline()
            import torch
            from sentence_transformers import SentenceTransformer

            torch.set_num_threads(self._threads)
            self._model = SentenceTransformer(str(PACKAGED_MODELS[self.name][0]()), device="cpu")
        return self._model

    def warm_up(self) -> None:
        """Load the weights now (the service calls this at start, not on the first question)."""
        self._load()

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._load().encode(
            texts, batch_size=self._batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
