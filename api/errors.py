"""The one place where domain errors become HTTP statuses. Every error body is `{"detail": ...}`."""

from __future__ import annotations

import json
import logging
import math

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from qa.errors import CorruptFile, EmptyFile, IndexMismatch, InvalidInput, NotFound, NotReady, QAError, UnsupportedFile
from qa.errors import Forbidden, PayloadTooLarge, RateLimited, Unauthorized

log = logging.getLogger("verbatim.api")

STATUS: dict[type[QAError], int] = {
    InvalidInput: 422,
    NotFound: 404,
    UnsupportedFile: 415,
    CorruptFile: 422,
    EmptyFile: 422,
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

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        """FastAPI's own 422, with the echoed input made encodable (see `encodable`)."""
        return JSONResponse({"detail": encodable(jsonable_encoder(exc.errors()))}, status_code=422)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException):
        """FastAPI's own, except that a 405's `Allow` names every method of the path: the router
        lists only those of the first route matching it (POST, not GET, for an upload path)."""
        if exc.status_code == 405:
            exc.headers = {**(exc.headers or {}), "Allow": allowed_methods(request, (exc.headers or {}).get("Allow", ""))}
        return await http_exception_handler(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse({"detail": "internal error; the server log has the details"}, status_code=500)


def allowed_methods(request: Request, own: str) -> str:
    """For a 405's `Allow`: the failing route's own methods (`own`) and every method the OpenAPI
    schema lists for a path template matching the request's path."""
    methods = {m for m in own.split(", ") if m}
    for template, item in request.app.openapi()["paths"].items():
        if _matches(template, request.url.path):
            methods |= {m.upper() for m in item if m in _METHODS}
    return ", ".join(sorted(methods))


_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _matches(template: str, path: str) -> bool:
    """ "/collections/{name}/documents" matches "/collections/work/documents"."""
    want, got = template.split("/"), path.split("/")
    return len(want) == len(got) and all(w.startswith("{") and g or w == g for w, g in zip(want, got))


def encodable(value):
    """`value` with what JSON cannot carry spelled out: Python's JSON parser accepts NaN, Infinity
    and lone surrogates ("\\ud800"), and a 422 echoing them back could not be encoded (a 500)."""
    if isinstance(value, float) and not math.isfinite(value):
        return json.dumps(value)  # "NaN", "Infinity", as the client wrote it
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value
    if isinstance(value, dict):
        return {encodable(k): encodable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [encodable(v) for v in value]
    return value
