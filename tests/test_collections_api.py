"""The collection endpoints in-process (fake encoder): uploads, deletes, listings, keys, limits.
The same paths run through a real server in test_collections_server.py."""

import json

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from qa.config import Settings
from qa.read.heuristic import HeuristicReader
from qa.service import QAService
from tests import makefiles
from tests.conftest import HashEncoder

KEYS = {
    "keys": [
        {"name": "admin", "key": "admin-key", "write": ["*"]},
        {"name": "docs-writer", "key": "docs-key", "write": ["docs"], "read": ["docs"]},
        {"name": "hashed", "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "read": ["hr"]},
    ],
    "private": ["hr"],
}


@pytest.fixture(scope="module")
def reader():
    return HeuristicReader()


def client_for(tmp_path, reader, **overrides) -> TestClient:
    settings = Settings(data_dir=tmp_path / "data", reader="heuristic", **overrides)
    service = QAService(settings, encoder=HashEncoder(), reader=reader)
    return TestClient(create_app(settings, service))


@pytest.fixture
def client(tmp_path, reader):
    with client_for(tmp_path, reader) as c:
        yield c


@pytest.fixture
def keyed(tmp_path, reader):
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(KEYS))
    with client_for(tmp_path, reader, keys_file=keys, max_upload_bytes=300_000, max_upload_files=3) as c:
        yield c


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def upload(client, name, files, headers=None):
    return client.post(f"/collections/{name}/documents", files=[("files", f) for f in files], headers=headers or {})


def test_upload_list_ask_delete_round_trip(client):
    r = upload(client, "work", [("report.pdf", makefiles.pdf()), ("notes.docx", makefiles.docx_file())])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["report"]["added"] == 2 and {d["path"] for d in body["documents"]} == {"upload:report.pdf", "upload:notes.docx"}
    assert [c["name"] for c in client.get("/collections").json()] == ["work"]
    assert len(client.get("/collections/work/documents").json()) == 2
    assert client.get("/health", params={"collection": "work"}).json()["documents"] == 2
    answer = client.post("/ask", json={"question": "How long can Vidu videos be?", "collection": "work"}).json()
    cited = {a["source"]["doc_id"] for a in answer["answers"]}
    assert answer["answer"] and "page" in answer["answers"][0]["source"]
    for doc_id in cited:
        assert client.delete(f"/collections/work/documents/{doc_id}").status_code == 200
    after = client.post("/ask", json={"question": "How long can Vidu videos be?", "collection": "work"}).json()
    assert not cited & {a["source"]["doc_id"] for a in after["answers"]}
    assert client.delete(f"/collections/work/documents/{next(iter(cited))}").status_code == 404
    assert client.get(f"/documents/{next(iter(cited))}", params={"collection": "work"}).status_code == 404


@pytest.mark.parametrize(
    "files, status, words",
    [
        ([("virus.exe", b"MZ")], 415, "unsupported file type"),
        ([("scan.pdf", makefiles.scanned_pdf())], 422, "scan.pdf: the PDF has no text layer"),
        ([("broken.pdf", b"%PDF-1.4 garbage")], 422, "broken.pdf: not a readable PDF"),
        ([("broken.docx", b"PK\x03\x04junk")], 422, "broken.docx: not a readable DOCX"),
        ([("bomb.docx", makefiles.zip_bomb_docx(80 << 20))], 422, "bomb.docx: unpacks to"),
        ([("latin1.txt", "caf\u00e9".encode("latin-1"))], 422, "latin1.txt: not UTF-8"),
        ([("..", b"# x")], 422, "unusable file name"),
        ([("empty.txt", b"")], 422, "upload:empty.txt: no text found in the file"),
        ([("blank.md", b" \n\t\r\n ")], 422, "upload:blank.md: no text found in the file"),
        ([("empty.html", b"<html><body> </body></html>")], 422, "upload:empty.html: no text found in the file"),
    ],
)
def test_bad_files_get_4xx_naming_them(client, files, status, words):
    r = upload(client, "c", files)
    assert r.status_code == status and words in r.json()["detail"]


def test_malformed_requests_get_422(client):
    assert client.post("/collections/c/documents", json={"files": "x"}).status_code == 422
    assert client.post("/collections/c/documents", data={"files": "text, not a file"}, files=[("other", ("a.md", b"# a"))]).status_code == 422
    r = client.post("/collections/c/documents", data={"files": "text, not a file"}, files=[("files", ("a.md", b"# a"))])
    assert r.status_code == 422 and "must carry files" in r.json()["detail"]
    r = client.post("/collections/c/documents", files=[("files", ("a.md", b"# a")), ("extra", ("b.md", b"# b"))])
    assert r.status_code == 422 and "unexpected form field 'extra'" in r.json()["detail"]
    r = client.post("/collections/c/documents", content=b"--xx\r\nbroken", headers={"content-type": "multipart/form-data; boundary=xx"})
    assert r.status_code == 422 and "detail" in r.json()
    assert upload(client, "bad name!", [("a.md", b"# a")]).status_code in (404, 422)
    assert 400 <= upload(client, "..", [("a.md", b"# a")]).status_code < 500  # the path itself normalises away
    assert 400 <= upload(client, "%2e%2e", [("a.md", b"# a")]).status_code < 500
    assert client.delete("/collections/nope/documents/x").status_code == 404
    assert client.get("/collections/nope/documents").status_code == 404


def test_writes_need_a_key_with_the_scope(keyed):
    doc = [("a.md", b"# A\n\nWords about alpacas and their wool.\n")]
    r = upload(keyed, "docs", doc)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert upload(keyed, "docs", doc, bearer("wrong")).status_code == 401
    assert upload(keyed, "docs", doc, {"Authorization": "Basic docs-key"}).status_code == 401
    assert upload(keyed, "other", doc, bearer("docs-key")).status_code == 403
    assert upload(keyed, "docs", doc, bearer("docs-key")).status_code == 200
    doc_id = keyed.get("/collections/docs/documents").json()[0]["doc_id"]
    assert keyed.delete(f"/collections/docs/documents/{doc_id}").status_code == 401
    assert keyed.delete(f"/collections/docs/documents/{doc_id}", headers=bearer("test")).status_code == 403
    assert keyed.delete(f"/collections/docs/documents/{doc_id}", headers=bearer("admin-key")).status_code == 200


def test_private_collections_close_reads(keyed):
    assert upload(keyed, "hr", [("pay.md", b"# Pay\n\nSalaries are paid on the 25th.\n")], bearer("admin-key")).status_code == 200
    ask = {"question": "When are salaries paid?", "collection": "hr"}
    assert keyed.post("/ask", json=ask).status_code == 401
    assert keyed.post("/ask", json=ask, headers=bearer("docs-key")).status_code == 403
    assert keyed.post("/ask", json=ask, headers=bearer("test")).status_code == 200  # the hashed key reads hr
    assert keyed.get("/documents", params={"collection": "hr"}).status_code == 401
    assert keyed.get("/collections/hr/documents").status_code == 401
    assert keyed.get("/health", params={"collection": "hr"}).status_code == 401
    assert keyed.get("/collections").json() == []  # private names are not listed without a key
    assert [c["name"] for c in keyed.get("/collections", headers=bearer("test")).json()] == ["hr"]


def test_size_and_count_caps_are_413(keyed):
    admin = bearer("admin-key")
    big = [("big.txt", b"word " * 80_000)]
    r = upload(keyed, "docs", big, admin)
    assert r.status_code == 413 and "limit" in r.json()["detail"]
    many = [(f"n{i}.md", b"# n\n\nSome text.\n") for i in range(4)]
    assert upload(keyed, "docs", many, admin).status_code == 413


def test_keys_are_not_echoed(keyed, caplog):
    r = upload(keyed, "other", [("a.md", b"# a")], bearer("docs-key"))
    assert "docs-key" not in r.text and "docs-key" not in caplog.text


def test_openapi_documents_the_upload(client):
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/collections/{name}/documents"]["post"]
    assert "multipart/form-data" in op["requestBody"]["content"]
    assert {"/collections", "/collections/{name}/documents/{doc_id}"} <= set(spec["paths"])
