"""Verify an answer in the original, in-process (fake encoder, heuristic reader): the document
view's HTML (exact highlight, trail, escaping, limits, keys) and the PDF page image (a highlight
inside the page, where the words are printed). Chromium checks the same pages in test_widget.py."""

from __future__ import annotations

import io
import json
from html.parser import HTMLParser

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api.app import create_app
from api.docview import CSP, SCRIPT
from qa.config import Settings
from qa.ingest.headings import heading_trail
from qa.ingest.pdf_view import locate
from qa.read.heuristic import HeuristicReader
from qa.service import QAService
from tests import makefiles
from tests.conftest import HashEncoder

XSS = "<img src=x onerror=alert(1)>"
NOTES = f"""# Field notes {XSS}

## Energy

The Lower Sesan 2 dam produces 1,998 gigawatt hours a year. {XSS} was written here.

### Turbines

Eight turbines turn in the river, and <script>alert(2)</script> sits beside them.
"""
KEYS = {"keys": [{"name": "hr", "key": "hr-key", "read": ["hr"]}, {"name": "ops", "key": "ops", "write": ["*"]}],
        "private": ["hr"]}


class Marks(HTMLParser):
    """Collects the text inside <mark>, inside <article>, and every tag seen."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags, self.marks, self.article, self.trail = [], [], [], []
        self._in = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("mark", "article") or dict(attrs).get("class") == "trail":
            self._in.append(tag if tag != "p" else "trail")
        elif self._in:
            self._in.append(None)

    def handle_endtag(self, tag):
        if self._in:
            self._in.pop()

    def handle_data(self, data):
        if "article" in self._in:
            self.article.append(data)
        if "mark" in self._in:
            self.marks.append(data)
        if "trail" in self._in:
            self.trail.append(data)


def parse(html: str) -> Marks:
    parser = Marks()
    parser.feed(html)
    return parser


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("verify")
    (tmp / "keys.json").write_text(json.dumps(KEYS))
    settings = Settings(data_dir=tmp / "data", reader="heuristic", keys_file=tmp / "keys.json")
    service = QAService(settings, encoder=HashEncoder(), reader=HeuristicReader())
    with TestClient(create_app(settings, service)) as client:
        ids = {}
        for name, files in {"default": [("notes.md", NOTES.encode()), ("report.pdf", makefiles.pdf())],
                            "hr": [("secret.md", b"# Pay\n\nSalaries are paid on the 25th.\n")]}.items():
            r = client.post(f"/collections/{name}/documents", files=[("files", f) for f in files],
                            headers={"Authorization": "Bearer ops"})
            assert r.status_code == 200, r.text
            ids |= {d["path"]: d["doc_id"] for d in r.json()["documents"]}
        yield client, ids, settings


def text_of(client, doc_id, **params) -> str:
    return client.get(f"/documents/{doc_id}", params=params).json()["text"]


def view_of(client, doc_id: str, words: str):
    """The document's text, where `words` start in it, and its view with them highlighted."""
    text = text_of(client, doc_id)
    start = text.index(words)
    return text, start, client.get(f"/documents/{doc_id}/view", params={"start": start, "end": start + len(words)})


def test_ask_sources_link_to_their_view_and_it_marks_exactly_the_words(app):
    client, ids, _ = app
    body = client.post("/ask", json={"question": "How many gigawatt hours does the Lower Sesan 2 dam produce?"}).json()
    assert body["answers"]
    for answer in body["answers"]:
        src = answer["source"]
        assert all("view_url" in s for s in answer["sources"])
        page = client.get(src["view_url"])
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        text = text_of(client, src["doc_id"])
        html = parse(page.text)
        assert "".join(html.marks) == text[src["start"] : src["end"]] == answer["text"]
        assert "".join(html.article) == text  # the whole text, nothing added or dropped
        assert [t for t, a in html.tags if t == "mark"] == ["mark"]


def test_view_shows_the_trail_and_escapes_everything(app):
    client, ids, _ = app
    text, start, r = view_of(client, ids["upload:notes.md"], "Eight turbines")
    html = parse(r.text)
    assert [t for t in html.trail] == [f"Field notes {XSS}", "Energy", "Turbines"]
    assert heading_trail(text, start) == html.trail
    assert "".join(html.marks) == "Eight turbines"
    # markup from the document is text: no <img>, and the only script is the page's own
    assert not [t for t, _ in html.tags if t in ("img", "iframe")]
    assert [t for t, _ in html.tags if t == "script"] == ["script"] and SCRIPT in r.text
    assert XSS not in r.text and "&lt;img src=x onerror=alert(1)&gt;" in r.text
    assert r.headers["content-security-policy"] == CSP and "script-src 'sha256-" in CSP


@pytest.mark.parametrize("params", [{"start": 5}, {"end": 9}, {"start": 9, "end": 9}, {"start": 10, "end": 4},
                                    {"start": -1, "end": 4}, {"start": 0, "end": 10**6}, {"start": "x", "end": 3}])
def test_out_of_range_spans_are_4xx(app, params):
    client, ids, _ = app
    r = client.get(f"/documents/{ids['upload:notes.md']}/view", params=params)
    assert r.status_code == 422 and "detail" in r.json()
    r = client.get(f"/documents/{ids['upload:report.pdf']}/pages/1.png", params=params)
    assert r.status_code == 422


def test_unknown_documents_pages_and_private_collections(app):
    client, ids, _ = app
    assert client.get("/documents/nope/view").status_code == 404
    assert client.get(f"/documents/{ids['upload:notes.md']}/pages/1.png").status_code == 404  # not a PDF
    assert client.get(f"/documents/{ids['upload:report.pdf']}/pages/3.png").status_code == 404
    secret = ids["upload:secret.md"]
    assert client.get(f"/documents/{secret}/view", params={"collection": "hr"}).status_code == 401
    r = client.get(f"/documents/{secret}/view", params={"collection": "hr"}, headers={"Authorization": "Bearer hr-key"})
    assert r.status_code == 200 and "Salaries" in r.text
    r = client.get(f"/documents/{secret}/view", params={"collection": ["default", "hr"]})
    assert r.status_code == 422 and "Salaries" not in r.text


def highlight(png: bytes, plain: bytes) -> tuple[int, int, int, int]:
    """The bounding box of the pixels the highlight changed."""
    a = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)
    b = np.asarray(Image.open(io.BytesIO(plain)).convert("RGB"), dtype=int)
    ys, xs = np.nonzero(np.abs(a - b).sum(axis=2))
    return xs.min(), ys.min(), xs.max(), ys.max()


def test_pdf_view_shows_the_page_with_the_words_highlighted_where_they_are_printed(app):
    client, ids, _ = app
    doc = ids["upload:report.pdf"]
    _, _, r = view_of(client, doc, "32 seconds")
    images = [a["src"] for t, a in parse(r.text).tags if t == "img"]
    assert len(images) == 1 and "/pages/2.png" in images[0] and "Page 2" in r.text
    page = client.get(images[0])
    assert page.headers["content-type"] == "image/png"
    width, height = Image.open(io.BytesIO(page.content)).size
    boxes = [tuple(map(int, b.split(","))) for b in page.headers["x-highlight-boxes"].split(";")]
    assert len(boxes) == 1
    left, top, right, bottom = boxes[0]
    assert 0 <= left < right < width and 0 <= top < bottom < height
    plain = client.get(f"/documents/{doc}/pages/2.png").content
    changed = highlight(page.content, plain)
    assert left <= changed[0] and top <= changed[1] and changed[2] <= right and changed[3] <= bottom
    # fpdf2 printed the sentence on the third 8 mm line from a 10 mm margin of a 297 mm page, and
    # "32 seconds" after 40-odd characters of it: the box must sit there, not just anywhere
    mm = height / 297
    assert 10 + 16 <= (top + bottom) / 2 / mm <= 10 + 24
    assert 80 <= left / mm <= 130 and (right - left) / mm < 30


def test_a_missing_original_leaves_the_text_view_and_says_so(app):
    client, ids, settings = app
    doc = ids["upload:report.pdf"]
    kept = settings.data_dir / "uploads" / "default" / "report.pdf"
    data = kept.read_bytes()
    kept.unlink()
    try:
        r = client.get(f"/documents/{doc}/view", params={"start": 0, "end": 10})
        assert r.status_code == 200 and "cannot be shown" in r.text and "no longer there" in r.text
        assert not [t for t, _ in parse(r.text).tags if t == "img"]
        assert client.get(f"/documents/{doc}/pages/1.png").status_code == 404
        kept.write_bytes(data + b"%changed")
        assert "changed since it was indexed" in client.get(f"/documents/{doc}/view").text
    finally:
        kept.write_bytes(data)


def test_locate_matches_despite_whitespace_and_ligatures():
    page_text = "The ﬁnal ﬁle\nhas   32 seconds of video."
    pdf_chars = list("The final file\r\nhas 32 seconds of video.")
    start = page_text.index("32 seconds")
    found = locate(page_text, (start, start + 10), pdf_chars)
    assert "".join(pdf_chars[i] for i in found) == "32seconds"
    assert "".join(pdf_chars[i] for i in locate(page_text, (4, 8), pdf_chars)) == "final"
    assert locate(page_text, (start, start + 10), list("something else entirely")) == []
