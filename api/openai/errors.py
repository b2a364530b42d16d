"""OpenAI's error shape, `{"error": {"message", "type", "param", "code"}}`, on `/v1/...` only.

FastAPI's exception handlers are app-wide, so each handler already installed (the domain errors
of `api/errors.py`, validation, HTTP errors, the 500 fallback) is wrapped: a request under `/v1/`
gets the OpenAI shape, any other request goes to the handler that was there before, unchanged.
Statuses come from the same mapping as the rest of the API (`api.errors.status_for`)."""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.errors import status_for
from qa.errors import QAError

log = logging.getLogger("verbatim.api.openai")
PREFIX = "/v1/"
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
CODES = {"Unauthorized": "invalid_api_key", "Forbidden": "insufficient_scope", "NotFound": "not_found", "NotReady": "not_ready"}
TYPES = {401: "authentication_error", 403: "permission_error", 404: "not_found_error", 429: "rate_limit_error"}


class OpenAIError(Exception):
    """An error only this route family has (an unknown model, a chat without a user message)."""

    def __init__(self, status: int, message: str, type: str = "invalid_request_error", code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type, code, param


def error_response(status: int, message: str, type: str | None = None, code: str | None = None, param: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    kind = type or (TYPES.get(status, "invalid_request_error") if status < 500 else "server_error")
    headers = {**(headers or {}), **({"WWW-Authenticate": "Bearer"} if status == 401 else {})}
    return JSONResponse({"error": {"message": message, "type": kind, "param": param, "code": code}}, status_code=status, headers=headers)


def _openai(exc: Exception) -> JSONResponse:
    """The OpenAI-shaped response for any exception raised while serving a `/v1` request."""
    if isinstance(exc, OpenAIError):
        return error_response(exc.status, exc.message, exc.type, exc.code, exc.param)
    if isinstance(exc, QAError):
        return error_response(status_for(exc), exc.message, code=CODES.get(type(exc).__name__, "invalid_value"))
    if isinstance(exc, RequestValidationError):
        return _validation(exc)
    if isinstance(exc, StarletteHTTPException):
        return error_response(exc.status_code, str(exc.detail), headers=exc.headers)  # a 405's Allow
    log.exception("unexpected error", exc_info=exc)
    return error_response(500, "internal error; the server log has the details", code="internal_error")


def _validation(exc: RequestValidationError) -> JSONResponse:
    """Name the offending fields the way OpenAI does (`messages[0].role`), the first as `param`."""
    problems: dict[str | None, list[str]] = {}
    for err in exc.errors():
        param = _param(err.get("loc", ()))
        problems.setdefault(param, []).append(err.get("msg", "invalid value"))
    message = "; ".join(f"{p}: {' or '.join(m)}" if p else " or ".join(m) for p, m in problems.items())
    return error_response(422, message or "invalid request", code="invalid_value", param=next(iter(problems), None))


def _param(loc) -> str | None:
    """("body", "messages", 0, "content", "list[TextPart]") -> "messages[0].content": the union
    member names pydantic adds to the location are not fields, so they are dropped."""
    parts = [p for p in loc if isinstance(p, int) or (p != "body" and _FIELD.match(p) and p not in ("str", "int", "bool"))]
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(".") or None


def _scoped(previous: Callable | None) -> Callable:
    async def handler(request: Request, exc: Exception):
        if request.url.path.startswith(PREFIX):
            return _openai(exc)
        if previous is None:
            raise exc
        result = previous(request, exc)
        return await result if inspect.isawaitable(result) else result

    return handler


def install(app: FastAPI) -> None:
    """Call after `api.errors.install`, so there are handlers to wrap."""
    for cls in (QAError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(cls, _scoped(app.exception_handlers.get(cls)))
    app.add_exception_handler(OpenAIError, _own)


async def _own(_: Request, exc: Exception) -> JSONResponse:
    return _openai(exc)
