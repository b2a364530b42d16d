"""The Store / Collection contract (`qa.store.base`), one suite run against every store: the
local one always, Milvus under the `milvus` marker (`.ci/run` starts a server; elsewhere those
cases skip and say why). A new backend joins by adding its parameter to `store`."""

from __future__ import annotations

import threading
import uuid

import pytest

from qa.errors import NotFound
from qa.indexer import IndexPlan, add_documents, remove_documents
from qa.ingest.files import parse_document
from qa.retrieve.base import Retriever
from qa.retrieve.factory import make_retriever
from qa.store.base import Collection, Store
from qa.store.local import LocalStore

TEXTS = {
    "vidu.md": "---\nauthor: Ann\ntags: [video, ai]\n---\n# Vidu\n\nVidu generates videos up to 32 seconds long with a single click.\n\n"
               "## Makers\n\nIt was developed by Shengshu Technology and Tsinghua University.\n",
    "dam.txt": "The Lower Sesan 2 dam produces 1,998 gigawatt hours a year.\n",
    "bridge.md": "# Bridge\n\nThe river bridge will cost 40 million dollars and open in spring.\n",
}


@pytest.fixture(params=["local", pytest.param("milvus", marks=pytest.mark.milvus)])
def store(request, tmp_path) -> tuple[Store, str]:
    """An empty store and a collection name that is new in it (dropped afterwards in Milvus)."""
    name = f"c{uuid.uuid4().hex[:10]}"
    if request.param == "local":
        yield LocalStore(tmp_path / "data"), name
        return
    from qa.store.milvus import MilvusStore

    shared = MilvusStore(request.getfixturevalue("milvus_uri"), None, tmp_path)
    yield shared, name
    shared.drop(name)


@pytest.fixture
def plan(encoder, store) -> IndexPlan:
    return IndexPlan(encoder, "milvus" if store[0].kind == "milvus" else "faiss", 180)


def documents():
    return [parse_document(text.encode(), f"upload:{name}", name) for name, text in TEXTS.items()]


def test_is_a_store(store):
    target, name = store
    assert isinstance(target, Store) and isinstance(target.kind, str) and isinstance(target.shared, bool)
    assert target.load(name) is None and target.current_version(name) is None
    assert name not in target.list_collections()


def test_a_written_collection_reads_back(store, plan):
    target, name = store
    docs = documents()
    written, _ = add_documents(target, name, docs, plan)
    loaded = target.load(name)
    assert isinstance(loaded, Collection) and isinstance(written, Collection)
    assert loaded.name == name and loaded.version == written.version == target.current_version(name)
    assert name in target.list_collections()
    assert set(loaded.documents) == {d.doc_id for d in docs}
    assert loaded.files == {d.path: {"doc_id": d.doc_id, "sha256": d.sha256} for d in docs}
    assert sorted(row["doc_id"] for row in loaded.listing()) == sorted(d.doc_id for d in docs)
    assert all(row["chars"] == len(loaded.document(row["doc_id"]).text) for row in loaded.listing())
    for doc in docs:
        assert loaded.document(doc.doc_id) == doc
        assert dict(loaded.documents[doc.doc_id].metadata) == dict(doc.metadata)  # what filters read
    assert loaded.document(docs[0].doc_id).metadata == {"author": "Ann", "tags": ("video", "ai")}
    with pytest.raises(NotFound):
        loaded.document("0" * 16)


def test_passages_point_into_their_documents(store, plan):
    target, name = store
    add_documents(target, name, documents(), plan)
    loaded = target.load(name)
    assert len(loaded.passages) == loaded.manifest["passages"] > 0
    for passage in loaded.passages:
        start, end = passage.document_span(0, len(passage.text))
        assert loaded.document(passage.doc_id).text[start:end].split() == passage.text.split()


def test_a_new_version_drops_removed_documents_and_keeps_settings(store, plan):
    target, name = store
    docs = documents()
    first, _ = add_documents(target, name, docs, plan)
    assert target.read_settings(name) == {}
    assert target.write_settings(name, {"abstain_threshold": 0.3}) == {"abstain_threshold": 0.3}
    assert target.write_settings(name, {"tuned": {"file": "x"}}) == {"abstain_threshold": 0.3, "tuned": {"file": "x"}}
    second, report = remove_documents(target, name, [docs[0].doc_id], plan)
    assert report.removed == 1 and second.version != first.version
    loaded = target.load(name)
    assert set(loaded.documents) == {d.doc_id for d in docs[1:]}
    assert all(p.doc_id != docs[0].doc_id for p in loaded.passages)
    assert target.read_settings(name)["abstain_threshold"] == 0.3


def test_one_writer_at_a_time(store):
    """A second writer waits until the first is done (a thread stands in for another process)."""
    target, name = store
    entered = threading.Event()

    def second_writer() -> None:
        with target.writing(name):
            entered.set()

    with target.writing(name):
        other = threading.Thread(target=second_writer)
        other.start()
        assert not entered.wait(0.5)
    assert entered.wait(10)
    other.join()


def test_its_retriever_finds_its_passages_with_term_weights(store, plan, encoder):
    target, name = store
    add_documents(target, name, documents(), plan)
    loaded = target.load(name)
    retriever = make_retriever(target.kind, loaded)
    assert isinstance(retriever, Retriever)
    question = "How many gigawatt hours does the dam produce?"
    hits = retriever.search_batch([question], encoder.encode([question]), 3)[0]
    ids = {p.passage_id for p in loaded.passages}
    assert hits and all(h.passage.passage_id in ids for h in hits)
    assert [h.rank for h in hits] == list(range(len(hits))) and hits[0].score >= hits[-1].score
    assert hits[0].weights.weight("gigawatt") > 0 and hits[0].weights.weight("zzzunseen") == hits[0].weights.unknown


def test_drop_removes_the_collection_and_its_settings(store, plan):
    target, name = store
    docs = documents()
    add_documents(target, name, docs, plan)
    target.write_settings(name, {"abstain_threshold": 0.3})
    with target.writing(name):
        assert target.drop(name) is True
    assert target.load(name) is None and target.current_version(name) is None
    assert name not in target.list_collections() and target.read_settings(name) == {}
    with target.writing(name):
        assert target.drop(name) is False  # nothing left to drop
    written, report = add_documents(target, name, docs[:1], plan)  # the name is free again, from scratch
    assert report.added == 1 and set(target.load(name).documents) == {docs[0].doc_id}
    assert isinstance(target.location, str) and target.location


def test_removing_the_last_document_drops_the_collection(store, plan):
    target, name = store
    docs = documents()
    add_documents(target, name, docs, plan)
    collection, report = remove_documents(target, name, [d.doc_id for d in docs], plan)
    assert collection is None and report.version is None and report.documents == 0 and report.removed == len(docs)
    assert target.load(name) is None and name not in target.list_collections()


def test_its_retriever_searches_only_the_documents_it_is_given(store, plan, encoder):
    """What question filters come down to: hits only from `within`, ranked among themselves."""
    target, name = store
    docs = documents()
    add_documents(target, name, docs, plan)
    retriever = make_retriever(target.kind, target.load(name))
    question = "How many gigawatt hours does the dam produce?"
    vectors = encoder.encode([question])
    dam = next(d.doc_id for d in docs if d.path.endswith("dam.txt"))
    assert retriever.search_batch([question], vectors, 3)[0][0].passage.doc_id == dam
    others = frozenset(d.doc_id for d in docs if d.doc_id != dam)
    hits = retriever.search_batch([question], vectors, 3, others)[0]
    assert len(hits) == 3 and {h.passage.doc_id for h in hits} <= others and [h.rank for h in hits] == [0, 1, 2]
    assert retriever.search_batch([question], vectors, 3, frozenset({dam}))[0][0].passage.doc_id == dam
    assert retriever.search_batch([question], vectors, 3, frozenset())[0] == []
