"""Documents and collections through a real `qa serve` (real models), with an API key set:
uploads of real PDF/DOCX/HTML files, citations with pages, deletes, keys, limits, and questions
that keep being answered while documents change."""

import threading

import httpx
import pytest

from tests import makefiles
from tests.server import running_server

pytestmark = pytest.mark.slow
KEY = "s3cret-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    env = {"QA_API_KEY": KEY, "QA_MAX_UPLOAD_BYTES": "400000", "QA_MAX_UPLOAD_FILES": "5", "QA_PRIVATE_COLLECTIONS": "secret",
           "QA_READER": "heuristic"}  # the reader is not what is tested here
    with running_server(tmp_path_factory.mktemp("collections") / "data", env) as base:
        yield base


def upload(url, name, files, headers=AUTH):
    return httpx.post(f"{url}/collections/{name}/documents", files=[("files", f) for f in files], headers=headers, timeout=120)


def ask(url, question, collection, headers=None):
    r = httpx.post(f"{url}/ask", json={"question": question, "collection": collection}, headers=headers or {}, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def test_upload_ask_with_page_then_delete(url):
    files = [("report.pdf", makefiles.pdf()), ("annual.docx", makefiles.docx_file()), ("facts.html", makefiles.html())]
    r = upload(url, "work", files)
    assert r.status_code == 200, r.text
    docs = {d["path"]: d for d in r.json()["documents"]}
    assert set(docs) == {"upload:report.pdf", "upload:annual.docx", "upload:facts.html"}
    assert {c["name"] for c in httpx.get(f"{url}/collections").json()} >= {"default", "work"}

    body = ask(url, "How many gigawatt hours does the Lower Sesan 2 dam produce?", "work")
    assert body["answer"] and "1,998" in body["answer"]
    for a in body["answers"]:
        src = a["source"]
        text = httpx.get(f"{url}/documents/{src['doc_id']}", params={"collection": "work"}).json()["text"]
        assert text[src["start"] : src["end"]] == a["text"]
        assert (src["page"] == 1) if src["doc_id"] == docs["upload:report.pdf"]["doc_id"] else src["page"] is None

    pdf_id = docs["upload:report.pdf"]["doc_id"]
    assert httpx.delete(f"{url}/collections/work/documents/{pdf_id}").status_code == 401
    assert httpx.delete(f"{url}/collections/work/documents/{pdf_id}", headers=AUTH).status_code == 200
    after = ask(url, "How many gigawatt hours does the Lower Sesan 2 dam produce?", "work")
    assert all(a["source"]["doc_id"] != pdf_id for a in after["answers"])
    assert httpx.get(f"{url}/documents/{pdf_id}", params={"collection": "work"}).status_code == 404


@pytest.mark.parametrize(
    "files, headers, status",
    [
        ([("a.md", b"# A\n\nText.\n")], {}, 401),
        ([("a.md", b"# A\n\nText.\n")], {"Authorization": "Bearer wrong"}, 401),
        ([("big.txt", b"word " * 100_000)], AUTH, 413),
        ([(f"n{i}.md", b"# n\n\nText here.\n") for i in range(6)], AUTH, 413),
        ([("virus.exe", b"MZ\x90\x00")], AUTH, 415),
        ([("scan.pdf", makefiles.scanned_pdf())], AUTH, 422),
        ([("broken.docx", b"PK\x03\x04 not really")], AUTH, 422),
        ([("../../../escape.md", b"# Escape\n\nTrying to leave the data dir.\n")], AUTH, 200),
    ],
)
def test_hostile_uploads(url, files, headers, status):
    r = upload(url, "hostile", files, headers)
    assert r.status_code == status, r.text
    assert "detail" in r.json() or status == 200
    if status == 200:
        assert r.json()["documents"][0]["path"] == "upload:escape.md"


def test_private_collection_reads_need_the_key(url):
    assert upload(url, "secret", [("pay.md", b"# Pay\n\nSalaries are paid on the 25th of each month.\n")]).status_code == 200
    q = {"question": "When are salaries paid?", "collection": "secret"}
    assert httpx.post(f"{url}/ask", json=q).status_code == 401
    assert "25th" in ask(url, q["question"], "secret", AUTH)["answer"]
    assert "secret" not in {c["name"] for c in httpx.get(f"{url}/collections").json()}


def test_questions_keep_answering_while_documents_change(url):
    assert upload(url, "live", [("base.md", b"# Vidu\n\nVidu can generate videos up to 32 seconds long.\n")]).status_code == 200
    failures: list[str] = []
    stop = threading.Event()

    def ask_loop():
        with httpx.Client(timeout=60) as client:
            while not stop.is_set():
                r = client.post(f"{url}/ask", json={"question": "How long can Vidu videos be?", "collection": "live"})
                if r.status_code != 200:
                    failures.append(r.text)

    thread = threading.Thread(target=ask_loop)
    thread.start()
    try:
        for i in range(4):
            text = f"# Note {i}\n\nRevision {i} says the clips last {i + 40} seconds at most.\n".encode()
            assert upload(url, "live", [(f"note{i % 2}.md", text)]).status_code == 200
    finally:
        stop.set()
        thread.join(timeout=60)
    assert failures == []
    assert "32 seconds" in ask(url, "How long can videos generated by Vidu be?", "live")["answer"]
