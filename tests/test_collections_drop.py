"""Deleting whole collections (service, HTTP in-process, CLI), the crash safety of a local drop,
and collections that empty themselves: none of them lingers in /collections or /v1/models."""

import json

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.app import create_app
from qa import cli
from qa.config import Settings
from qa.errors import NotFound
from qa.ingest.uploads import Upload, uploads_dir
from qa.service import QAService
from qa.store import local_files
from tests.conftest import FirstWordsReader, HashEncoder

FILES = [Upload("a.md", b"# A\n\nThe dam produces 1,998 gigawatt hours.\n"), Upload("b.md", b"# B\n\nVidu makes videos.\n")]


@pytest.fixture
def service(tmp_path):
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"keys": [{"name": "w", "key": "docs-key", "write": ["docs"]}]}))
    settings = Settings(data_dir=tmp_path / "data", reader="heuristic", keys_file=keys)
    svc = QAService(settings, encoder=HashEncoder(), reader=FirstWordsReader())
    svc.add_documents(FILES, "docs")
    svc.add_documents(FILES[:1], "other")
    return svc


@pytest.fixture
def client(service):
    with TestClient(create_app(service.settings, service)) as c:
        yield c


def listed(client) -> tuple[set, set]:
    names = {c["name"] for c in client.get("/collections").json()}
    models = {m["id"] for m in client.get("/v1/models", headers={"Authorization": "Bearer docs-key"}).json()["data"]}
    return names, models


def test_delete_a_collection_over_http_with_the_write_key(client, service):
    data = service.settings.data_dir
    assert (uploads_dir(data, "docs") / "a.md").is_file()
    assert listed(client) == ({"docs", "other"}, {"verbatim:docs", "verbatim:other"})
    assert client.delete("/collections/docs").status_code == 401
    assert client.delete("/collections/other", headers={"Authorization": "Bearer docs-key"}).status_code == 403
    r = client.delete("/collections/docs", headers={"Authorization": "Bearer docs-key"})
    assert r.status_code == 200, r.text
    assert r.json() == {"collection": "docs", "documents": 2, "passages": 2}
    assert listed(client) == ({"other"}, {"verbatim:other"})
    assert client.post("/ask", json={"question": "How long are videos?", "collection": "docs"}).status_code == 404
    assert not uploads_dir(data, "docs").exists() and not (data / "collections" / "docs").exists()
    again = client.delete("/collections/docs", headers={"Authorization": "Bearer docs-key"})
    assert again.status_code == 404 and "does not exist" in again.json()["detail"]
    assert client.delete("/collections/-bad", headers={"Authorization": "Bearer docs-key"}).status_code == 422


def test_a_collection_whose_last_document_goes_is_gone(client, service):
    auth = {"Authorization": "Bearer docs-key"}
    for doc in service.documents("docs"):
        r = client.delete(f"/collections/docs/documents/{doc['doc_id']}", headers=auth)
        assert r.status_code == 200, r.text
    assert r.json()["report"]["documents"] == 0 and r.json()["report"]["version"] is None
    assert listed(client) == ({"other"}, {"verbatim:other"})
    assert not uploads_dir(service.settings.data_dir, "docs").exists()
    with pytest.raises(NotFound):
        service.documents("docs")


def test_a_drop_killed_after_the_rename_leaves_nothing_readable(service, monkeypatch):
    """Deleting the files is interrupted (as by kill -9 right after the atomic rename): the
    collection is already gone for every reader, and the next drop sweeps the leftovers."""
    data = service.settings.data_dir

    def killed(path, ignore_errors=False):
        raise KeyboardInterrupt

    monkeypatch.setattr(local_files.shutil, "rmtree", killed)
    with pytest.raises(KeyboardInterrupt):
        service.drop_collection("docs")
    monkeypatch.undo()
    fresh = QAService(service.settings, encoder=HashEncoder(), reader=FirstWordsReader())  # another process
    assert fresh.collections() == ["other"] and fresh.store.load("docs") is None
    assert [p.name for p in (data / "collections").iterdir() if p.name.startswith(".dropped-")]
    assert fresh.drop_collection("docs")["documents"] == 0  # finishes the interrupted drop: the uploads go
    assert not uploads_dir(data, "docs").exists()
    fresh.drop_collection("other")
    assert [p.name for p in (data / "collections").iterdir()] == []


def test_a_server_notices_a_drop_by_another_process(service):
    assert service.ask("How much does the dam produce?", 1, "docs").answers
    other = QAService(service.settings, encoder=HashEncoder(), reader=FirstWordsReader())
    other.drop_collection("docs")
    with pytest.raises(NotFound):
        service.ask("How much does the dam produce?", 1, "docs")


def test_cli_lists_and_removes_collections(service, monkeypatch):
    """(No model loads: listing and deleting never embed.)"""
    monkeypatch.setenv("QA_DATA_DIR", str(service.settings.data_dir))
    run = CliRunner()
    listing = run.invoke(cli.main, ["collections", "list"])
    assert listing.exit_code == 0, listing.output
    assert "2 collections in data directory" in listing.output and "docs" in listing.output
    removed = run.invoke(cli.main, ["collections", "rm", "docs"])
    assert removed.exit_code == 0 and "removed collection 'docs' (2 documents" in removed.output
    missing = run.invoke(cli.main, ["collections", "rm", "docs"])
    assert missing.exit_code == 1
    assert f"does not exist; index some documents into it first (data directory {service.settings.data_dir.resolve()})" in missing.output
