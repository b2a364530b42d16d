"""The contract every vector backend keeps, so the store never knows which one it talks to."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np


class DimensionMismatch(ValueError):
    """Vectors of the wrong width were given to an index; mixing them would corrupt results."""


@runtime_checkable
class VectorIndex(Protocol):
    """Inner-product search over float32 vectors keyed by int64 ids.

    Vectors are expected to be L2-normalised by the caller, so inner product is cosine.
    `search` returns ids of -1 (and score -inf) where fewer than k vectors exist.
    """

    dim: int

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...

    def remove(self, ids: np.ndarray) -> int: ...

    def save(self, path: Path) -> None: ...

    @classmethod
    def load(cls, path: Path) -> "VectorIndex": ...

    def __len__(self) -> int: ...


def as_matrix(vectors: np.ndarray, dim: int) -> np.ndarray:
    """Coerce to a C-contiguous float32 (n, dim) matrix, refusing a wrong width early."""
    matrix = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    if matrix.ndim == 1:
        matrix = matrix.reshape(1, -1)
    if matrix.ndim != 2 or matrix.shape[1] != dim:
        raise DimensionMismatch(f"expected vectors of dimension {dim}, got shape {matrix.shape}")
    return matrix


def as_ids(ids: np.ndarray) -> np.ndarray:
    """Coerce ids to the int64 vector every backend stores."""
    return np.ascontiguousarray(np.asarray(ids, dtype=np.int64).reshape(-1))
