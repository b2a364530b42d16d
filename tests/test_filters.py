"""Question filters (doc_id, path prefix or glob, file type, front-matter metadata) and the
per-request min_score, in the service (fake encoder) and over HTTP in-process; a real server runs
them in test_first_hour_server.py."""

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from qa.config import Settings
from qa.errors import InvalidInput
from qa.ingest.uploads import Upload
from qa.retrieve.filters import Filters
from qa.service import QAService
from tests.conftest import FirstWordsReader, HashEncoder

# Every file says something about bridges, so an unfiltered question could cite any of them.
FILES = {
    "guide-keys.md": "---\nauthor: Ann\ntags: [security, api]\nyear: 2024\n---\n# Keys\n\n"
                     "The bridge keys rotate every ninety days.\n\nBridge tolls are paid monthly.\n",
    "guide-setup.md": "---\nauthor: Bob\ntags: [setup]\n---\n# Setup\n\nThe bridge server needs two cores.\n",
    "notes.txt": "\n\n".join(f"The bridge {fact}, as the city engineers wrote in their yearly report on the state of "
                             "the roads, rivers and harbour works of the whole region." for fact in
                             ("is 1,200 metres long", "opened in spring", "carries six lanes")) + "\n",
}
QUESTION = "What about the bridge?"


@pytest.fixture
def service(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", reader="heuristic", retrieve_k=6, top_k=5,
                        max_passage_words=20)  # one passage per paragraph
    svc = QAService(settings, encoder=HashEncoder(), reader=FirstWordsReader())
    svc.add_documents([Upload(name, text.encode()) for name, text in FILES.items()], "c")
    return svc


def ids(service) -> dict[str, str]:
    return {d["path"].removeprefix("upload:"): d["doc_id"] for d in service.documents("c")}


def cited(result) -> set[str]:
    return {s.doc_id for a in result.answers for s in a.sources}


@pytest.mark.parametrize("given, files", [
    ({"type": "md"}, {"guide-keys.md", "guide-setup.md"}),
    ({"type": [".TXT"]}, {"notes.txt"}),
    ({"path": "upload:guide-"}, {"guide-keys.md", "guide-setup.md"}),
    ({"path": "*-setup.*"}, {"guide-setup.md"}),
    ({"metadata": {"author": "Ann"}}, {"guide-keys.md"}),
    ({"metadata": {"tags": ["setup", "nothing"]}}, {"guide-setup.md"}),  # a list field holds any value given
    ({"metadata": {"year": "2024"}, "type": "md"}, {"guide-keys.md"}),
    ({"metadata": {"author": "Ann"}, "type": "txt"}, set()),  # fields are ANDed
])
def test_answers_come_only_from_matching_documents(service, given, files):
    by_name = ids(service)
    result = service.ask(QUESTION, 5, "c", Filters.of(**given))
    assert cited(result) == {by_name[f] for f in files}
    assert {h.passage.doc_id for h in result.retrieved} == {by_name[f] for f in files}


def test_top_k_is_filled_from_the_matching_passages(service):
    """Filtering the unfiltered top 3 afterwards would leave fewer than 3 passages of notes.txt
    for this question; the filter searches its passages only, so all 3 read are its own."""
    service.settings.retrieve_k = 3
    notes = ids(service)["notes.txt"]
    question = "Who holds the bridge keys?"
    unfiltered = service.ask(question, 3, "c")
    assert sum(h.passage.doc_id == notes for h in unfiltered.retrieved) < 3
    filtered = service.ask(question, 3, "c", Filters.of(doc_id=notes))
    assert len(filtered.retrieved) == 3 and all(h.passage.doc_id == notes for h in filtered.retrieved)
    assert [h.rank for h in filtered.retrieved] == [0, 1, 2]


def test_filters_and_min_score_are_part_of_the_cache_key(service):
    plain = service.ask(QUESTION, 5, "c")
    only_txt = service.ask(QUESTION, 5, "c", Filters.of(type="txt"))
    assert cited(only_txt) < cited(plain)
    assert service.ask(QUESTION, 5, "c").answer == plain.answer
    strict = service.ask(QUESTION, 5, "c", min_score=0.95)
    assert plain.answer is not None and strict.answer is None and strict.answers  # candidates still listed
    assert strict.min_score == 0.95 and plain.min_score == service.abstain_threshold("c")


def test_bad_filters_are_refused(service):
    with pytest.raises(InvalidInput, match="doc_id"):
        Filters.of(doc_id="../etc")
    with pytest.raises(InvalidInput, match="type"):
        Filters.of(type=[""])
    with pytest.raises(InvalidInput, match="min_score"):
        service.ask(QUESTION, 3, "c", min_score=1.5)
    assert Filters.of() is None and Filters.of(metadata={}) is None


@pytest.fixture
def client(service):
    with TestClient(create_app(service.settings, service)) as c:
        yield c


def test_ask_and_chat_take_filters_and_min_score(client, service):
    keys = ids(service)["guide-keys.md"]
    body = {"question": QUESTION, "collection": "c", "top_k": 5, "filters": {"metadata": {"author": "Ann"}}}
    r = client.post("/ask", json=body)
    assert r.status_code == 200, r.text
    assert {a["source"]["doc_id"] for a in r.json()["answers"]} == {keys}
    assert client.post("/ask", json={**body, "min_score": 1.0}).json()["answer"] is None
    assert client.post("/ask", json=body).json()["min_score"] == service.abstain_threshold("c")
    chat = client.post("/chat", json={"messages": [{"role": "user", "content": QUESTION}], "collection": "c",
                                      "filters": {"doc_id": keys}, "min_score": 0.0})
    assert chat.status_code == 200 and chat.json()["min_score"] == 0.0
    assert {a["source"]["doc_id"] for a in chat.json()["answers"]} == {keys}


def test_openai_completions_take_them_as_extra_fields(client, service):
    keys = ids(service)["guide-keys.md"]
    body = {"model": "verbatim:c", "messages": [{"role": "user", "content": QUESTION}], "filters": {"doc_id": [keys]}}
    r = client.post("/v1/chat/completions", json=body)
    assert r.status_code == 200, r.text
    assert {c["doc_id"] for c in r.json()["citations"]} == {keys}
    strict = client.post("/v1/chat/completions", json={**body, "min_score": 1.0}).json()
    assert strict["verbatim"]["answer"] is None and strict["verbatim"]["min_score"] == 1.0


@pytest.mark.parametrize("filters", [
    {"kind": "md"}, {"type": 3}, {"doc_id": "zz"}, {"metadata": {"a": {"b": "c"}}}, {"path": []}, "md",
])
def test_malformed_filters_are_422(client, filters):
    r = client.post("/ask", json={"question": QUESTION, "collection": "c", "filters": filters})
    assert r.status_code == 422 and "detail" in r.json()
    assert client.post("/ask", json={"question": QUESTION, "collection": "c", "min_score": -0.1}).status_code == 422


def test_front_matter_becomes_metadata_and_never_the_title_heading():
    from qa.ingest.files import parse_document

    doc = parse_document(b"---\nauthor: Ann\ntags: [a, 2]\ndraft: true\nwhen: 2024-05-01\nnested: {x: 1}\n---\n# Keys\n\nText.\n",
                         "upload:k.md", "k")
    assert doc.title == "Keys" and doc.metadata == {"author": "Ann", "tags": ("a", "2"), "draft": "true", "when": "2024-05-01"}
    assert parse_document(b"---\n: [broken\n---\n# T\n", "upload:b.md", "b").metadata == {}  # malformed: no metadata
    assert parse_document(b"---\nauthor: Ann\n---\n", "upload:n.txt", "n").metadata == {}  # Markdown only
