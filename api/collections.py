"""Managing documents over HTTP: upload (multipart, field `files`), delete, and the listings.

The upload body is read through a byte counter, so an oversized request is refused with 413 as
soon as it passes the cap, before it is buffered anywhere; the files are then parsed by the
service, which stores nothing unless every file is readable."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from api.auth import keyring, readable_collection, write_access
from api.routes import get_service
from api.schemas import DocumentSummary, ErrorOut
from qa.config import COLLECTION_PATTERN
from qa.errors import InvalidInput, NotFound, PayloadTooLarge
from qa.indexer import IndexReport
from qa.ingest.uploads import Upload
from qa.service import QAService

router = APIRouter(tags=["collections"])
ERRORS = {code: {"model": ErrorOut} for code in (401, 403, 404, 413, 415, 422)}
NAME = Path(..., min_length=1, max_length=64, pattern=COLLECTION_PATTERN)
FIELD = "files"
_MULTIPART = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FIELD],
                    # maxItems is this server's max_upload_files, set by api.app.document_limits
                    "properties": {FIELD: {"type": "array", "minItems": 1, "items": {"type": "string", "format": "binary"}}},
                }
            }
        },
    }
}


class Report(BaseModel):
    added: int
    removed: int
    unchanged: int
    embedded: int
    documents: int
    passages: int
    seconds: float
    version: str | None = Field(description="The new version; null when the last document went and the collection with it.")


class UploadOut(BaseModel):
    collection: str
    documents: list[DocumentSummary]
    report: Report


class DeleteOut(BaseModel):
    collection: str
    doc_id: str
    report: Report


class CollectionOut(BaseModel):
    name: str
    documents: int
    passages: int
    version: str


class DroppedOut(BaseModel):
    """What the deleted collection held."""

    collection: str
    documents: int
    passages: int


def _report(report: IndexReport) -> dict:
    return {k: getattr(report, k) for k in Report.model_fields}


@router.post(
    "/collections/{name}/documents",
    response_model=UploadOut,
    responses=ERRORS,
    openapi_extra=_MULTIPART,
    dependencies=[Depends(write_access)],
    summary="Upload documents (creates the collection; a stored name is replaced)",
)
async def upload(request: Request, name: str = NAME, service: QAService = Depends(get_service)) -> dict:
    settings = service.settings
    files = await read_files(request, settings.max_upload_bytes, settings.max_upload_files)
    report, docs = await run_in_threadpool(service.add_documents, files, name)
    ids = {d.doc_id for d in docs}
    listed = await run_in_threadpool(service.documents, name)
    return {"collection": name, "documents": [d for d in listed if d["doc_id"] in ids], "report": _report(report)}


@router.delete(
    "/collections/{name}/documents/{doc_id}",
    response_model=DeleteOut,
    responses=ERRORS,
    dependencies=[Depends(write_access)],
    summary="Remove a document; questions stop citing it at once",
)
def delete(doc_id: str, name: str = NAME, service: QAService = Depends(get_service)) -> dict:
    return {"collection": name, "doc_id": doc_id, "report": _report(service.remove_document(doc_id, name))}


@router.get("/collections", response_model=list[CollectionOut], responses=ERRORS)
def collections(request: Request, service: QAService = Depends(get_service)) -> list[dict]:
    """Collections this caller may read (private ones only with a key that reads them)."""
    ring, auth = keyring(request), request.headers.get("authorization")
    listed = []
    for name in (n for n in service.collections() if ring.may_read(auth, n)):
        try:
            listed.append(service.summary(name))
        except NotFound:  # dropped since it was listed
            pass
    return listed


@router.delete(
    "/collections/{name}",
    response_model=DroppedOut,
    responses=ERRORS,
    dependencies=[Depends(write_access)],
    summary="Delete a whole collection: its documents, index, settings and uploaded originals",
)
def drop(name: str = NAME, service: QAService = Depends(get_service)) -> dict:
    held = service.drop_collection(name)
    return {"collection": name, "documents": held["documents"], "passages": held["passages"]}


@router.get(
    "/collections/{name}/documents",
    response_model=list[DocumentSummary],
    responses=ERRORS,
)
def documents(request: Request, name: str = NAME, service: QAService = Depends(get_service)) -> list[dict]:
    return service.documents(readable_collection(request, name))


async def read_files(request: Request, max_bytes: int, max_files: int) -> list[Upload]:
    """The files of a multipart body, refusing (413) a body over `max_bytes` while it streams."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidInput(f"send the files as multipart/form-data, in the field {FIELD!r}")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(f"the upload is {declared} bytes; the limit is {max_bytes}")
    parser = MultiPartParser(request.headers, _capped(request.stream(), max_bytes), max_files=max_files + 1, max_fields=20)
    parser.spool_max_size = max_bytes + 1  # parts stay in memory (bounded by the cap), never in /tmp
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        if "Too many files" in exc.message:
            raise PayloadTooLarge(f"too many files in one upload; the limit is {max_files}") from None
        raise InvalidInput(f"malformed multipart body: {exc.message}") from None
    try:
        return [await _one_file(key, value) for key, value in form.multi_items()]
    finally:
        await form.close()


async def _one_file(key: str, value) -> Upload:
    if key != FIELD:
        raise InvalidInput(f"unexpected form field {key!r}: send files in the field {FIELD!r}")
    if not isinstance(value, UploadFile):
        raise InvalidInput(f"the field {FIELD!r} must carry files, each with a file name")
    return Upload(value.filename or "", await value.read())


async def _capped(stream: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    seen = 0
    async for chunk in stream:
        seen += len(chunk)
        if seen > limit:
            raise PayloadTooLarge(f"the upload is over the {limit}-byte limit")
        yield chunk
