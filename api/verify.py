"""Verify an answer in the original: a readable page of the document with the cited words
highlighted (`/documents/{doc_id}/view`), and for PDFs the original page as a PNG with the
words' character boxes highlighted (`/documents/{doc_id}/pages/{n}.png`), rendered here so the
browser needs no PDF engine. Both read like `GET /documents/{doc_id}`: the same collection
rule and keys."""

from __future__ import annotations

from pathlib import PurePath

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from api import docview
from api.auth import readable_collection
from api.routes import COLLECTION, ERRORS, get_service
from qa.errors import InvalidInput, NotFound
from qa.feedback.log import quote
from qa.ingest.headings import heading_trail, headings
from qa.ingest.pdf_view import render_page
from qa.service import QAService
from qa.types import Document

router = APIRouter(tags=["verify"])
START = Query(None, ge=0, description="Offset of the first cited character (with `end`).")
END = Query(None, ge=0, description="Offset just past the last cited character.")
MAX_PAGES_SHOWN = 3
HEADERS = {"Content-Security-Policy": docview.CSP, "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=300"}


def checked_span(doc: Document, start: int | None, end: int | None) -> tuple[int, int] | None:
    """(start, end) when both are given and inside the document; none given: no highlight."""
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise InvalidInput("give both start and end, or neither")
    q = quote(doc, start, end)
    return q.start, q.end


def is_pdf(doc: Document) -> bool:
    return PurePath(doc.path).suffix.lower() == ".pdf" and bool(doc.pages)


# The pages are HTML and PNG, their errors JSON: declared per status, since a route's
# `response_class` would document its errors under the page's media type too.
PAGE = {200: {"description": "The document as an HTML page.", "content": {"text/html": {"schema": {"type": "string"}}}}}
IMAGE = {200: {"description": "The PDF page.", "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}}


@router.get("/documents/{doc_id}/view", name="document_view", responses=ERRORS | PAGE,
            summary="The document as a page, the cited words highlighted (and the PDF page beside it)")
def view(doc_id: str, request: Request, start: int | None = START, end: int | None = END,
         collection: str | None = COLLECTION, service: QAService = Depends(get_service)) -> HTMLResponse:
    name = readable_collection(request, collection)
    doc = service.document(doc_id, name)
    span = checked_span(doc, start, end)
    images, note = [], ""
    if is_pdf(doc):
        data, why = service.original(doc, name)
        if data is None:
            note = f"The original PDF cannot be shown ({why}); this is the text Verbatim extracted from it."
        else:
            first, last = (doc.page_at(span[0]), doc.page_at(span[1] - 1)) if span else (1, 1)
            numbers = range(first or 1, min(last or 1, (first or 1) + MAX_PAGES_SHOWN - 1) + 1)
            images = [(n, page_url(request, doc_id, n, name, span)) for n in numbers]
    html = docview.page(doc, span, heading_trail(doc.text, span[0] if span else 0), headings(doc.text), images, note)
    return HTMLResponse(html, headers=HEADERS)


@router.get("/documents/{doc_id}/pages/{number}.png", name="document_page", responses=ERRORS | IMAGE,
            summary="A page of the original PDF as PNG, the cited words highlighted")
def page_image(doc_id: str, request: Request, number: int = Path(..., ge=1), start: int | None = START,
               end: int | None = END, collection: str | None = COLLECTION,
               service: QAService = Depends(get_service)) -> Response:
    """The header `X-Highlight-Boxes` lists the highlighted rectangles in pixels
    (`left,top,right,bottom;...`, empty when the words were not found on this page)."""
    name = readable_collection(request, collection)
    doc = service.document(doc_id, name)
    span = checked_span(doc, start, end)
    if not is_pdf(doc):
        raise NotFound(f"document {doc_id!r} is not a PDF: it has no pages to show")
    if number > len(doc.pages):
        raise NotFound(f"the document has no page {number} (it has {len(doc.pages)})")
    data, why = service.original(doc, name)
    if data is None:
        raise NotFound(f"the original PDF cannot be shown: {why}")
    lo, hi = doc.pages[number - 1]
    local = (max(span[0], lo) - lo, min(span[1], hi) - lo) if span and span[0] < hi and lo < span[1] else None
    image = render_page(data, number, doc.text[lo:hi], local)
    boxes = ";".join(",".join(map(str, box)) for box in image.boxes)
    return Response(image.png, media_type="image/png", headers={**HEADERS, "X-Highlight-Boxes": boxes})


def page_url(request: Request, doc_id: str, number: int, collection: str, span: tuple[int, int] | None) -> str:
    url = request.url_for("document_page", doc_id=doc_id, number=str(number))
    params = {"start": span[0], "end": span[1]} if span else {}
    return str(url.include_query_params(**params, collection=collection))
