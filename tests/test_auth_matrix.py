"""The auth matrix: every read endpoint x key x where the collection is named x which collection.

A request's collection may be named in the path, the query or the JSON body; naming none means
the default collection (`QA_COLLECTION`). Whatever the placement, the answer must come from the
collection whose key was checked: a private collection answers only with a key that reads it.
Both bypasses of the hostile-input issue are cases here: `?collection=docs` beside a body naming
`hr`, and a private default collection asked without naming it."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from qa.config import Settings
from qa.ingest.uploads import Upload
from qa.read.heuristic import HeuristicReader
from qa.service import QAService
from tests.conftest import HashEncoder

KEYS = {
    "keys": [
        {"name": "hr-reader", "key": "hr-key", "read": ["hr"]},
        {"name": "docs-writer", "key": "docs-key", "write": ["docs"], "read": ["docs"]},
    ],
    "private": ["hr"],
}
TEXT = {
    "hr": b"The secret codeword is pelican. Salaries are paid on the 25th of each month.\n",
    "docs": b"The public codeword is sparrow. The library opens at nine in the morning.\n",
}
QUESTION = "What is the codeword?"
KEY_HEADERS = {"none": {}, "wrong": {"Authorization": "Bearer nope"}, "other": {"Authorization": "Bearer docs-key"},
               "right": {"Authorization": "Bearer hr-key"}}
PLACES = ("body", "query", "both", "neither")


@pytest.fixture(scope="module", params=["docs", "hr"], ids=["public-default", "private-default"])
def app(request, tmp_path_factory):
    """A service holding `hr` (private) and `docs` (public), its default collection either one."""
    tmp = tmp_path_factory.mktemp("matrix")
    (tmp / "keys.json").write_text(json.dumps(KEYS))
    settings = Settings(data_dir=tmp / "data", reader="heuristic", collection=request.param, keys_file=tmp / "keys.json")
    service = QAService(settings, encoder=HashEncoder(), reader=HeuristicReader())
    ids = {}
    for name, text in TEXT.items():
        _, docs = service.add_documents([Upload(f"{name}.txt", text)], name)
        ids[name] = docs[0].doc_id
    with TestClient(create_app(settings, service)) as client:
        yield client, request.param, ids


def expected_status(collection: str, key: str) -> int:
    if collection != "hr" or key == "right":
        return 200
    return 403 if key == "other" else 401


def request_for(endpoint: str, place: str, named: str, ids: dict) -> tuple[str, str, dict]:
    """(method, path, request kwargs) naming `named` at `place` (a GET's "body" is its query);
    `/documents/{id}` asks for `named`'s document."""
    body = {"ask": {"question": QUESTION}, "chat": {"messages": [{"role": "user", "content": QUESTION}]}}.get(endpoint)
    params = {"collection": named} if place in ("query", "both") else {}
    if body is not None and place in ("body", "both"):
        body = {**body, "collection": named}
    if body is not None:
        return "POST", f"/{endpoint}", {"json": body, "params": params}
    if place in ("body", "both"):  # GETs have no body: the same name in the path's place
        params = {"collection": named}
    path = {"documents": "/documents", "document": f"/documents/{ids[named]}", "health": "/health"}[endpoint]
    return "GET", path, {"params": params}


@pytest.mark.parametrize("key", list(KEY_HEADERS))
@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("named", ["hr", "docs"])
@pytest.mark.parametrize("endpoint", ["ask", "chat", "documents", "document", "health"])
def test_read_matrix(app, endpoint, named, place, key):
    client, default, ids = app
    meant = default if place == "neither" else named
    method, path, kwargs = request_for(endpoint, place, named if place != "neither" else default, ids)
    r = client.request(method, path, headers=KEY_HEADERS[key], **kwargs)
    assert r.status_code == expected_status(meant, key), r.text
    if r.status_code != 200:
        assert "pelican" not in r.text and "detail" in r.json()
    else:
        assert_from(r.json(), endpoint, meant, ids)


def assert_from(body, endpoint: str, collection: str, ids: dict) -> None:
    """The 200 came from `collection` and nothing else."""
    if endpoint in ("ask", "chat"):
        assert body["answers"] and {a["source"]["doc_id"] for a in body["answers"]} == {ids[collection]}
    elif endpoint == "documents":
        assert [d["doc_id"] for d in body] == [ids[collection]]
    elif endpoint == "document":
        assert body["doc_id"] == ids[collection]
    else:
        assert body["collection"] == collection


@pytest.mark.parametrize("key", list(KEY_HEADERS))
@pytest.mark.parametrize("endpoint", ["ask", "chat", "documents", "health"])
def test_two_different_collections_are_refused(app, endpoint, key):
    """The first bypass: the query names a public collection, the body (or path, or a second
    query parameter) the private one."""
    client, _, ids = app
    method, path, kwargs = request_for(endpoint, "body", "hr", ids)
    kwargs["params"] = {"collection": "docs"}
    if method == "GET":
        path = "/collections/hr/documents" if endpoint == "documents" else path
        kwargs["params"] = {"collection": "docs"} if endpoint == "documents" else {"collection": ["docs", "hr"]}
    r = client.request(method, path, headers=KEY_HEADERS[key], **kwargs)
    assert r.status_code == 422 and "more than one collection" in r.json()["detail"], r.text


@pytest.mark.parametrize("key", list(KEY_HEADERS))
@pytest.mark.parametrize("place", ["path", "path+same query"])
@pytest.mark.parametrize("named", ["hr", "docs"])
def test_collection_documents_matrix(app, named, place, key):
    client, _, ids = app
    params = {"collection": named} if place != "path" else {}
    r = client.get(f"/collections/{named}/documents", params=params, headers=KEY_HEADERS[key])
    assert r.status_code == expected_status(named, key), r.text
    if r.status_code == 200:
        assert [d["doc_id"] for d in r.json()] == [ids[named]]


@pytest.mark.parametrize("key", list(KEY_HEADERS))
@pytest.mark.parametrize("model", ["verbatim", "verbatim:hr", "verbatim:docs"])
def test_openai_matrix(app, model, key):
    """/v1 names the collection in `model`; `verbatim` alone is the default collection. With keys
    configured, /v1 needs a valid key for any collection (OpenAI clients always send one)."""
    client, default, ids = app
    meant = default if model == "verbatim" else model.split(":")[1]
    body = {"model": model, "messages": [{"role": "user", "content": QUESTION}]}
    r = client.post("/v1/chat/completions", json=body, headers=KEY_HEADERS[key])
    assert r.status_code == (401 if key in ("none", "wrong") else expected_status(meant, key)), r.text
    if r.status_code == 200:
        cited = {c["doc_id"] for c in r.json()["citations"]}
        assert cited == {ids[meant]}
    else:
        assert "pelican" not in r.text


@pytest.mark.parametrize("key", list(KEY_HEADERS))
def test_listings_show_private_collections_only_to_their_readers(app, key):
    client, _, _ = app
    names = {c["name"] for c in client.get("/collections", headers=KEY_HEADERS[key]).json()}
    assert names == ({"docs", "hr"} if key == "right" else {"docs"})



@pytest.mark.parametrize("key", ["other", "right"])
def test_models_show_private_collections_only_to_their_readers(app, key):
    client, default, _ = app
    models = {m["id"] for m in client.get("/v1/models", headers=KEY_HEADERS[key]).json()["data"]}
    hr_model = "verbatim" if default == "hr" else "verbatim:hr"
    assert (hr_model in models) == (key == "right")


@pytest.mark.parametrize("content_type", ["text/plain", "application/json"])
@pytest.mark.parametrize("endpoint", ["/ask", "/chat"])
def test_a_deeply_nested_body_is_a_4xx(app, endpoint, content_type):
    """10,000 levels of JSON once hit a RecursionError (a 500) where auth parsed the body."""
    client, _, _ = app
    body = "[" * 10_000 + "]" * 10_000
    for key in ("none", "right"):
        r = client.post(endpoint, content=body, headers={"content-type": content_type, **KEY_HEADERS[key]})
        assert 400 <= r.status_code < 500 and "detail" in r.json(), r.text[:200]
