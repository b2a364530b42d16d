"""Thin routes: validate, call the service, shape the response. Handlers are plain `def`, so
FastAPI runs them in its thread pool and model inference never blocks the event loop."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from api.schemas import AskRequest, AskResponse, ChatRequest, ChatResponse, DocumentOut, DocumentSummary, ErrorOut, Health
from qa.conversation import Turn
from qa.service import QAService

router = APIRouter()
ERRORS = {code: {"model": ErrorOut} for code in (404, 413, 415, 422, 503)}
COLLECTION = Query("default", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def get_service(request: Request) -> QAService:
    return request.app.state.service


@router.post("/ask", response_model=AskResponse, responses=ERRORS, summary="Answer a question with citations")
def ask(body: AskRequest, service: QAService = Depends(get_service)) -> dict:
    return service.ask(body.question, body.top_k, body.collection).to_dict()


@router.post("/chat", response_model=ChatResponse, responses=ERRORS, summary="Answer the last message of a conversation")
def chat(body: ChatRequest, service: QAService = Depends(get_service)) -> dict:
    """Follow-ups ("Who developed it?") are resolved against the earlier messages first."""
    turns = [Turn(m.role, m.content) for m in body.messages]
    rewritten, result = service.chat(turns, body.top_k, body.collection)
    return {**result.to_dict(), "question": rewritten.message, "query": rewritten.query, "rewrite": rewritten.rule}


@router.get("/documents", response_model=list[DocumentSummary], responses=ERRORS)
def documents(collection: str = COLLECTION, service: QAService = Depends(get_service)) -> list[dict]:
    return service.documents(collection)


@router.get("/documents/{doc_id}", response_model=DocumentOut, responses=ERRORS)
def document(doc_id: str, collection: str = COLLECTION, service: QAService = Depends(get_service)) -> dict:
    d = service.document(doc_id, collection)
    return {"doc_id": d.doc_id, "title": d.title, "path": d.path, "text": d.text, "sha256": d.sha256}


@router.get("/health", response_model=Health, responses=ERRORS)
def health(collection: str = COLLECTION, service: QAService = Depends(get_service)) -> dict:
    return service.health(collection)
