"""The one place where domain errors become HTTP statuses. Every error body is `{"detail": ...}`."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from qa.errors import CorruptFile, IndexMismatch, InvalidInput, NotFound, NotReady, QAError, UnsupportedFile
from qa.errors import Forbidden, PayloadTooLarge, RateLimited, Unauthorized

log = logging.getLogger("verbatim.api")

STATUS: dict[type[QAError], int] = {
    InvalidInput: 422,
    NotFound: 404,
    UnsupportedFile: 415,
    CorruptFile: 422,
    IndexMismatch: 409,
    NotReady: 503,
    PayloadTooLarge: 413,
    Unauthorized: 401,
    Forbidden: 403,
    RateLimited: 429,
}


def status_for(error: QAError) -> int:
    """Most specific registered class wins; an unregistered QAError is the client's fault (400)."""
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def error_response(exc: QAError) -> JSONResponse:
    """The response for a domain error, with the headers its status calls for."""
    headers = None
    if isinstance(exc, Unauthorized):
        headers = {"WWW-Authenticate": "Bearer"}
    elif isinstance(exc, RateLimited):
        headers = {"Retry-After": str(exc.retry_after)}
    return JSONResponse({"detail": exc.message}, status_code=status_for(exc), headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(QAError)
    async def _domain(_: Request, exc: QAError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse({"detail": "internal error; the server log has the details"}, status_code=500)
