"""One contract, every backend in the registry (the Milvus one against a real server)."""

from pathlib import Path

import numpy as np
import pytest

from index import BACKENDS, DimensionMismatch, VectorIndex, load_index, make_index

DIM = 8
REMOTE = {"milvus"}  # backends that need a server; marked so `pytest -m milvus` selects them


def unit(rows: int, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(rows, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture(params=[pytest.param(b, marks=pytest.mark.milvus) if b in REMOTE else b for b in sorted(BACKENDS)])
def backend(request) -> str:
    return request.param


@pytest.fixture
def new_index(backend, request):
    """`make_index` for the backend under test; a Milvus index gets the test server's URI and
    its collection is dropped afterwards."""
    options = {"uri": request.getfixturevalue("milvus_uri")} if backend in REMOTE else {}
    made = []

    def make(dim: int = DIM):
        made.append(make_index(backend, dim, **options))
        return made[-1]

    yield make
    for index in made:
        getattr(index, "drop", lambda: None)()


def test_is_a_vector_index(new_index):
    assert isinstance(new_index(), VectorIndex)


def test_search_finds_itself_first(new_index):
    idx = new_index()
    vectors = unit(20)
    idx.add(np.arange(100, 120), vectors)
    scores, ids = idx.search(vectors[[3, 7]], 5)
    assert ids[:, 0].tolist() == [103, 107]
    assert np.allclose(scores[:, 0], 1.0, atol=1e-5)
    assert (np.diff(scores, axis=1) <= 1e-6).all()


def test_matches_exact_search(new_index):
    idx, ref = new_index(), make_index("flat", DIM)
    vectors, queries = unit(50), unit(5, seed=1)
    for i in (idx, ref):
        i.add(np.arange(50), vectors)
    assert (idx.search(queries, 10)[1] == ref.search(queries, 10)[1]).all()


def test_remove_and_readd(new_index):
    idx = new_index()
    vectors = unit(10)
    idx.add(np.arange(10), vectors)
    assert idx.remove(np.array([2, 3, 99])) == 2
    assert len(idx) == 8
    assert 2 not in idx.search(vectors[[2]], 10)[1]
    idx.add(np.array([2]), vectors[[2]])
    idx.add(np.array([2]), vectors[[2]])  # re-adding replaces, never duplicates
    assert len(idx) == 9
    assert idx.search(vectors[[2]], 1)[1][0, 0] == 2


def test_empty_and_short_results(new_index):
    idx = new_index()
    scores, ids = idx.search(unit(1), 3)
    assert ids.tolist() == [[-1, -1, -1]] and np.isneginf(scores).all()
    idx.add(np.array([5]), unit(1))
    scores, ids = idx.search(unit(1), 3)
    assert ids[0].tolist() == [5, -1, -1]


def test_persistence(backend, new_index, tmp_path: Path):
    idx = new_index()
    vectors = unit(10)
    idx.add(np.arange(10), vectors)
    idx.save(tmp_path / "index.bin")
    again = load_index(backend, tmp_path / "index.bin")
    assert len(again) == 10
    assert (again.search(vectors, 3)[1] == idx.search(vectors, 3)[1]).all()


def test_dimension_mismatch(new_index):
    idx = new_index()
    with pytest.raises(DimensionMismatch):
        idx.add(np.arange(2), np.ones((2, DIM + 1), np.float32))
    with pytest.raises(DimensionMismatch):
        idx.search(np.ones((1, DIM - 1), np.float32), 1)


def test_unknown_backend():
    with pytest.raises(ValueError, match="unknown index backend"):
        make_index("nope", DIM)


# --- approximate backends: what the contract above cannot see at 50 vectors ------------------

from index import FaissIndex, describe  # noqa: E402


def test_faiss_switches_to_ivf_at_its_threshold():
    idx = FaissIndex(DIM, ann_threshold=500)
    vectors = unit(2000, seed=3)
    idx.add(np.arange(400), vectors[:400])
    assert describe(idx)["type"] == "flat"
    idx.add(np.arange(400, 2000), vectors[400:])  # crosses the threshold: everything moves over
    assert describe(idx)["type"] == "ivf-flat" and len(idx) == 2000
    assert idx.remove(np.array([0, 1999])) == 2 and len(idx) == 1998


def test_faiss_keeps_its_type_through_save_and_load(tmp_path: Path):
    idx = FaissIndex(DIM, ann_threshold=500)
    idx.add(np.arange(2000), unit(2000, seed=4))
    idx.save(tmp_path / "i")
    assert describe(load_index("faiss", tmp_path / "i"))["type"] == "ivf-flat"


@pytest.mark.parametrize("name", ["faiss-ivf", "faiss-hnsw"])
def test_approximate_recall_at_size(name):
    """Recall@10 against exact search once the index is big enough to be approximate."""
    vectors, queries = unit(4000, seed=5), unit(50, seed=6)
    idx, ref = make_index(name, DIM), make_index("flat", DIM)
    for i in (idx, ref):
        i.add(np.arange(4000), vectors)
    got, want = idx.search(queries, 10)[1], ref.search(queries, 10)[1]
    recall = np.mean([len(set(g) & set(w)) / 10 for g, w in zip(got, want)])
    assert recall >= 0.9


def test_hnsw_removal_is_a_rebuild():
    """FAISS's HNSW cannot remove ids; the backend says so and rebuilds instead."""
    idx = make_index("faiss-hnsw", DIM)
    assert idx.removes_in_place is False
    vectors = unit(300, seed=7)
    idx.add(np.arange(300), vectors)
    assert idx.remove(np.arange(0, 300, 2)) == 150 and len(idx) == 150
    assert idx.search(vectors[[1]], 1)[1][0, 0] == 1
