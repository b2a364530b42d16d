"""What the OpenAPI schema says is what the API does (the checks `.ci/schemathesis` runs against a
real server, pinned here in-process): 405s name every allowed method, statuses and limits are
documented, and request types are read as JSON Schema reads them."""

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from qa.config import Settings
from qa.service import QAService
from tests.conftest import DATA, HashEncoder


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("spec") / "data", reader="heuristic", max_question_chars=500)
    service = QAService(settings, encoder=HashEncoder())
    service.index([DATA / "docs"])
    with TestClient(create_app(settings, service)) as c:
        yield c


def test_a_405_names_every_method_of_the_path(client):
    r = client.options("/collections/default/documents")
    assert r.status_code == 405 and set(r.headers["allow"].split(", ")) == {"GET", "POST"}
    for path, allowed in (("/v1/models", "GET"), ("/v1/chat/completions", "POST")):
        r = client.request("TRACE", path)
        assert r.status_code == 405 and r.headers["allow"] == allowed and "error" in r.json()


def test_the_schema_documents_the_400_and_the_limits_this_server_applies(client):
    spec = client.get("/openapi.json").json()
    for path in ("/ask", "/chat"):
        assert "400" in spec["paths"][path]["post"]["responses"]
    assert spec["components"]["schemas"]["AskRequest"]["properties"]["question"]["maxLength"] == 500
    assert client.post("/ask", json={"question": "x" * 501}).status_code == 422
    upload = spec["paths"]["/collections/{name}/documents"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert upload["schema"]["properties"]["files"]["maxItems"] == 20
    assert spec["components"]["schemas"]["ChatCompletionRequest"]["properties"]["messages"]["minItems"] == 1


def test_an_unparseable_body_is_the_documented_400(client):
    r = client.post("/ask", content=b'{"question": "\xff"}', headers={"content-type": "application/json"})
    assert r.status_code == 400 and "detail" in r.json()


@pytest.mark.parametrize(
    "path, body, status",
    [
        ("/ask", {"question": "Who developed Vidu?", "top_k": "3"}, 422),
        ("/ask", {"question": "Who developed Vidu?", "top_k": True}, 422),
        ("/ask", {"question": "Who developed Vidu?", "top_k": 3.0}, 200),  # an integer to JSON Schema
        ("/ask", {"question": "   "}, 422),
        ("/v1/chat/completions", {"model": "verbatim", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": "5"}, 422),
        ("/v1/chat/completions", {"model": "verbatim", "messages": [{"role": "user", "content": "Hi"}], "stream": "yes"}, 422),
        ("/v1/chat/completions", {"model": "verbatim", "messages": [{"role": "user", "content": "Hi"}], "n": 1.0}, 200),
    ],
)
def test_request_types_are_read_as_the_schema_states_them(client, path, body, status):
    assert client.post(path, json=body).status_code == status
