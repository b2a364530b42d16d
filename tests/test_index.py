"""One contract, every backend in the registry."""

from pathlib import Path

import numpy as np
import pytest

from index import BACKENDS, DimensionMismatch, VectorIndex, load_index, make_index

DIM = 8


def unit(rows: int, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(rows, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture(params=sorted(BACKENDS))
def backend(request) -> str:
    return request.param


def test_is_a_vector_index(backend):
    assert isinstance(make_index(backend, DIM), VectorIndex)


def test_search_finds_itself_first(backend):
    idx = make_index(backend, DIM)
    vectors = unit(20)
    idx.add(np.arange(100, 120), vectors)
    scores, ids = idx.search(vectors[[3, 7]], 5)
    assert ids[:, 0].tolist() == [103, 107]
    assert np.allclose(scores[:, 0], 1.0, atol=1e-5)
    assert (np.diff(scores, axis=1) <= 1e-6).all()


def test_matches_exact_search(backend):
    idx, ref = make_index(backend, DIM), make_index("flat", DIM)
    vectors, queries = unit(50), unit(5, seed=1)
    for i in (idx, ref):
        i.add(np.arange(50), vectors)
    assert (idx.search(queries, 10)[1] == ref.search(queries, 10)[1]).all()


def test_remove_and_readd(backend):
    idx = make_index(backend, DIM)
    vectors = unit(10)
    idx.add(np.arange(10), vectors)
    assert idx.remove(np.array([2, 3, 99])) == 2
    assert len(idx) == 8
    assert 2 not in idx.search(vectors[[2]], 10)[1]
    idx.add(np.array([2]), vectors[[2]])
    idx.add(np.array([2]), vectors[[2]])  # re-adding replaces, never duplicates
    assert len(idx) == 9
    assert idx.search(vectors[[2]], 1)[1][0, 0] == 2


def test_empty_and_short_results(backend):
    idx = make_index(backend, DIM)
    scores, ids = idx.search(unit(1), 3)
    assert ids.tolist() == [[-1, -1, -1]] and np.isneginf(scores).all()
    idx.add(np.array([5]), unit(1))
    scores, ids = idx.search(unit(1), 3)
    assert ids[0].tolist() == [5, -1, -1]


def test_persistence(backend, tmp_path: Path):
    idx = make_index(backend, DIM)
    vectors = unit(10)
    idx.add(np.arange(10), vectors)
    idx.save(tmp_path / "index.bin")
    again = load_index(backend, tmp_path / "index.bin")
    assert len(again) == 10
    assert (again.search(vectors, 3)[1] == idx.search(vectors, 3)[1]).all()


def test_dimension_mismatch(backend):
    idx = make_index(backend, DIM)
    with pytest.raises(DimensionMismatch):
        idx.add(np.arange(2), np.ones((2, DIM + 1), np.float32))
    with pytest.raises(DimensionMismatch):
        idx.search(np.ones((1, DIM - 1), np.float32), 1)


def test_unknown_backend():
    with pytest.raises(ValueError, match="unknown index backend"):
        make_index("nope", DIM)
