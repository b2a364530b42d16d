"""Thin routes: validate, call the service, shape the response. Handlers are plain `def`, so
FastAPI runs them in its thread pool and model inference never blocks the event loop.

Every read resolves its collection through `auth.readable_collection`, which checks the caller's
key on that same name: what is checked is what is answered from."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from api.auth import readable_collection
from api.docview import with_view_urls
from api.schemas import AskRequest, AskResponse, ChatRequest, ChatResponse, DocumentOut, DocumentSummary, ErrorOut, Health
from qa.config import COLLECTION_PATTERN
from qa.conversation import Turn
from qa.service import QAService

router = APIRouter()
ERRORS = {code: {"model": ErrorOut} for code in (401, 403, 404, 413, 415, 422, 503)}
# A JSON body that cannot be parsed at all (not UTF-8, nested too deep) is FastAPI's 400.
BODY_ERRORS = ERRORS | {400: {"model": ErrorOut, "description": "The body is not parseable JSON."}}
COLLECTION = Query(None, min_length=1, max_length=64, pattern=COLLECTION_PATTERN, description="Which collection; none: the default collection.")


def get_service(request: Request) -> QAService:
    return request.app.state.service


@router.post("/ask", response_model=AskResponse, responses=BODY_ERRORS, summary="Answer a question with citations")
def ask(body: AskRequest, request: Request, service: QAService = Depends(get_service)) -> dict:
    name = readable_collection(request, body.collection)
    result = service.ask(body.question, body.top_k, name, body.domain_filters(), body.min_score, body.answer_unit)
    return with_view_urls(result.to_dict(), request, name)


@router.post("/chat", response_model=ChatResponse, responses=BODY_ERRORS, summary="Answer the last message of a conversation")
def chat(body: ChatRequest, request: Request, service: QAService = Depends(get_service)) -> dict:
    """Follow-ups ("Who developed it?") are resolved against the earlier messages first."""
    name = readable_collection(request, body.collection)
    turns = [Turn(m.role, m.content) for m in body.messages]
    rewritten, result = service.chat(turns, body.top_k, name, body.domain_filters(), body.min_score, body.answer_unit)
    body = with_view_urls(result.to_dict(), request, name)
    return {**body, "question": rewritten.message, "query": rewritten.query, "rewrite": rewritten.rule}


@router.get("/documents", response_model=list[DocumentSummary], responses=ERRORS)
def documents(request: Request, collection: str | None = COLLECTION, service: QAService = Depends(get_service)) -> list[dict]:
    return service.documents(readable_collection(request, collection))


@router.get("/documents/{doc_id}", response_model=DocumentOut, responses=ERRORS)
def document(
    doc_id: str, request: Request, collection: str | None = COLLECTION, service: QAService = Depends(get_service)
) -> dict:
    d = service.document(doc_id, readable_collection(request, collection))
    return {"doc_id": d.doc_id, "title": d.title, "path": d.path, "text": d.text, "sha256": d.sha256}


@router.get("/health", response_model=Health, responses=ERRORS)
def health(request: Request, collection: str | None = COLLECTION, service: QAService = Depends(get_service)) -> dict:
    return service.health(readable_collection(request, collection))
