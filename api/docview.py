"""The HTML of a document view: the document's text with a cited span in one `<mark>`, its
section trail, and for PDFs the original pages beside it; and the links to it that every /ask
and /chat source carries (`view_url`).

The text is written character for character (headings styled, nothing added or dropped), so the
article's text content *is* the document text and the mark's is exactly `text[start:end]`.
Page labels are CSS (`::before`), not text. Everything that comes from a document is escaped,
and the page carries a Content-Security-Policy that allows only its own one script (by hash)."""

from __future__ import annotations

import base64
import hashlib
from bisect import bisect_right
from html import escape
from pathlib import PurePath

from starlette.requests import Request

from qa.ingest.headings import Heading
from qa.ingest.uploads import UPLOAD_PREFIX
from qa.types import Document

SCRIPT = 'var hit = document.getElementById("hit"); if (hit) hit.scrollIntoView({block: "center"});'
CSP = ("default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
       f"script-src 'sha256-{base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()}'")
STYLE = """
html,body{height:100%}
body{margin:0;display:flex;flex-direction:column;font:16px/1.6 Georgia,'Iowan Old Style','Times New Roman',serif;
 color:#1f2937;background:#f8fafc}
header{flex:none;padding:.8rem 1.5rem .7rem;background:#fff;border-bottom:1px solid #e5e7eb;font-family:system-ui,sans-serif}
header h1{margin:.1rem 0;font-size:1.3rem}
.trail{margin:0;font-size:.85rem;color:#4b5563}.trail span+span::before{content:" \\203A  ";color:#9ca3af}
.meta{margin:.1rem 0 0;font-size:.85rem;color:#6b7280}
.cited{margin:.4rem 0 0;font-size:.95rem}.cited q{background:#fde68a;padding:0 .2em;border-radius:3px}
.note{margin:.5rem 0 0;padding:.5rem .75rem;background:#fef3c7;border:1px solid #f59e0b;border-radius:6px;font-size:.9rem}
main{flex:1;min-height:0;overflow:auto;display:grid;grid-template-columns:minmax(0,48rem);justify-content:center;
 align-content:start;gap:1.25rem;padding:1.25rem}
main.split{overflow:hidden;grid-template-columns:minmax(0,1fr) minmax(0,1fr);grid-template-rows:minmax(0,1fr);
 justify-content:stretch;align-content:stretch}
main.split>*{overflow:auto}
.pages{padding:0 .25rem}
figure{margin:0 0 1rem}figure img{display:block;width:100%;height:auto;box-sizing:border-box;border:1px solid #d1d5db;
 background:#fff;box-shadow:0 1px 4px rgba(0,0,0,.08)}
figcaption{font:.8rem system-ui,sans-serif;color:#4b5563;margin-top:.25rem}
article{white-space:pre-wrap;overflow-wrap:anywhere;background:#fff;padding:1.25rem 1.5rem;border:1px solid #e5e7eb;
 border-radius:8px}
.hm{color:#9ca3af;font-weight:400}.h{font-family:system-ui,sans-serif;font-weight:700}
.h1{font-size:1.5em}.h2{font-size:1.3em}.h3{font-size:1.15em}.h4,.h5,.h6{font-size:1em}
.pg::before{content:"Page " attr(data-page);display:block;margin:.5rem 0;font:600 .75rem system-ui,sans-serif;
 color:#6b7280;border-top:1px dashed #d1d5db;padding-top:.25rem;white-space:normal}
mark{background:#fde68a;color:inherit;outline:2px solid #f59e0b;border-radius:2px}
@media (max-width:900px){main.split{overflow:auto;grid-template-columns:minmax(0,1fr);grid-template-rows:none}
 main.split>*{overflow:visible}}
"""


def page(doc: Document, span: tuple[int, int] | None, trail: list[str], heads: list[Heading],
         images: list[tuple[int, str]], note: str) -> str:
    """The whole HTML page. `images` are (page number, URL) of original pages to show."""
    where = f", page {doc.page_at(span[0])}" if span and doc.pages else ""
    cited = f'<p class="cited">Cited words: <q>{escape(doc.text[span[0]:span[1]])}</q></p>' if span else ""
    crumbs = "".join(f"<span>{escape(t)}</span>" for t in trail)
    figures = "".join(
        f'<figure><img src="{escape(url)}" alt="Page {n} of the original, the cited words highlighted">'
        f"<figcaption>Page {n} of the original</figcaption></figure>" for n, url in images
    )
    pages = f'<section class="pages" aria-label="Original pages">{figures}</section>' if images else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(doc.title)} · Verbatim</title><style>{STYLE}</style></head><body>"
        f'<header><p class="trail" aria-label="Section">{crumbs}</p><h1>{escape(doc.title)}</h1>'
        f'<p class="meta">{escape(PurePath(doc.path.removeprefix(UPLOAD_PREFIX)).name)}{where}</p>{cited}'
        + (f'<p class="note" role="note">{escape(note)}</p>' if note else "")
        + f'</header><main class="{"split" if images else ""}">{pages}'
        f'<article id="text" aria-label="Document text">{text_html(doc, span, heads)}</article></main>'
        f"<script>{SCRIPT}</script></body></html>"
    )


def text_html(doc: Document, span: tuple[int, int] | None, heads: list[Heading]) -> str:
    """The text in pieces cut at every heading edge, page start and span edge, so the mark
    opens and closes between pieces and no styled piece crosses it."""
    styled = []
    for h in heads:
        styled += [(h.start, h.title_start, "hm"), (h.title_start, h.end, f"h h{h.level}")]
    starts = [s for s, _, _ in styled]
    pages = {start: n for n, (start, _) in enumerate(doc.pages, 1)}
    cuts = sorted({0, len(doc.text), *pages, *(span or ()), *(edge for s, e, _ in styled for edge in (s, e))})
    out = []
    for a, b in zip(cuts, cuts[1:]):
        if a in pages:
            out.append(f'<span class="pg" data-page="{pages[a]}"></span>')
        if span and a == span[0]:
            out.append('<mark id="hit">')
        i = bisect_right(starts, a) - 1
        piece = escape(doc.text[a:b])
        out.append(f'<span class="{styled[i][2]}">{piece}</span>' if i >= 0 and a < styled[i][1] else piece)
        if span and b == span[1]:
            out.append("</mark>")
    return "".join(out)


def view_url(request: Request, collection: str, source: dict) -> str:
    url = request.url_for("document_view", doc_id=source["doc_id"])
    return str(url.include_query_params(start=source["start"], end=source["end"], collection=collection))


def with_view_urls(body: dict, request: Request, collection: str) -> dict:
    """Every source of an /ask (or /chat) reply gets `view_url`: absolute, naming its collection."""
    for answer in body["answers"]:
        for source in (answer["source"], *answer["sources"]):
            source["view_url"] = view_url(request, collection, source)
    return body
