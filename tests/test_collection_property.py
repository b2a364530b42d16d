"""Property: any sequence of add / replace / remove leaves the stored collection equal to a
brute-force model of it (a dict of name -> text), with a compact index (one row per passage, no
tombstones), search equal to exhaustive search, and nothing embedded twice; a collection whose
last document goes is gone."""

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.errors import NotFound
from qa.indexer import IndexPlan, add_documents, remove_documents
from qa.ingest.files import parse_document
from qa.ingest.passages import split_passages
from qa.ingest.uploads import UPLOAD_PREFIX
from qa.store import local as store
from tests.conftest import HashEncoder

NAMES = [f"doc{i}.md" for i in range(4)]
TEXTS = [
    "# Pandas\n\nPandas eat bamboo for fourteen hours a day.\n",
    "# Dams\n\nThe dam produces 1,998 gigawatt hours.\n\nIt was finished in 2018 after five years.\n",
    "# Video\n\nVidu makes videos up to 32 seconds long.\n",
    "# Empty-ish\n\nShort.\n",
    "# Bridges\n\nThe bridge is 1,200 metres long and carries six lanes of traffic every day.\n",
]
ops = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.sampled_from(NAMES), st.integers(0, len(TEXTS) - 1)),
        st.tuples(st.just("remove"), st.sampled_from(NAMES), st.just(0)),
    ),
    min_size=1,
    max_size=10,
)


def doc(name: str, text: str):
    return parse_document(text.encode(), UPLOAD_PREFIX + name, name)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops, st.sampled_from(["faiss", "flat"]))
def test_operations_match_a_brute_force_model(sequence, backend):
    encoder = HashEncoder()
    plan = IndexPlan(encoder, backend, 180)
    model: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        for op, name, which in sequence:
            before = encoder.texts_encoded
            if op == "add":
                new = doc(name, TEXTS[which])
                unchanged = model.get(name) == TEXTS[which]
                collection, report = add_documents(data, "c", [new], plan)
                model[name] = TEXTS[which]
                expected = 0 if unchanged else len(split_passages(new))
                assert encoder.texts_encoded - before == report.embedded == expected
            else:
                current = store.load(data, "c")
                ids = [d.doc_id for d in (current.documents.values() if current else []) if d.path == UPLOAD_PREFIX + name]
                if not ids:
                    continue
                collection, report = remove_documents(data, "c", ids, plan)
                del model[name]
                assert encoder.texts_encoded == before
            check(collection, model)
            check(store.load(data, "c"), model)
        try:
            remove_documents(data, "c", ["no-such-id"], plan)
        except NotFound:
            pass
        else:
            raise AssertionError("removing an unknown id must fail")


def check(collection: store.LocalCollection | None, model: dict[str, str]) -> None:
    if not model:  # removing the last document removes the collection
        assert collection is None
        return
    assert {d.path: d.text for d in collection.documents.values()} == {UPLOAD_PREFIX + n: t for n, t in model.items()}
    expected = sorted(p.text for n, t in model.items() for p in split_passages(doc(n, t)))
    assert sorted(p.text for p in collection.passages) == expected
    assert {p.doc_id for p in collection.passages} <= set(collection.documents)
    n = len(collection.passages)
    assert len(collection.index) == n == len(collection.vectors)  # compact: no deleted rows linger
    if n == 0:
        return
    queries = HashEncoder().encode(["pandas bamboo", "dam gigawatt", "video seconds", "bridge lanes"])
    scores, ids = collection.index.search(queries, n + 3)
    assert set(ids[0][ids[0] >= 0]) == set(range(n))  # every row, and only live rows, are searchable
    brute = queries @ collection.vectors.T
    for row in range(len(queries)):
        live = ids[row] >= 0
        assert np.allclose(np.sort(scores[row][live]), np.sort(brute[row]), atol=1e-5)
