"""The FastAPI application. The service (models, index) is built once, in the lifespan."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api import auth, collections, docs, errors, feedback, routes, verify, widget
from api.limits import BodyLimit, RateLimiter
from api.openai import routes as openai_routes
from qa.config import Settings, get_settings
from qa.service import QAService


def create_app(settings: Settings | None = None, service: QAService | None = None) -> FastAPI:
    """`service` may be injected (tests); otherwise it is built from settings at start-up, and
    the seed corpus is indexed if the data directory is empty."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if service is None:
            s = settings or get_settings()
            app.state.service = QAService(s)
            app.state.service.warm_up()
            app.state.service.ensure_seeded(s.seeds_dir)
        else:
            app.state.service = service
        yield

    app = FastAPI(
        title="Verbatim",
        description="Extractive question answering over your documents: answers are the documents' "
        "own words, with exact character offsets.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # api/docs.py serves /docs and /redoc without a CDN
        redoc_url=None,
    )
    errors.install(app)
    resolved = settings or (service.settings if service else get_settings())
    app.state.keyring = auth.from_settings(resolved)
    app.state.feedback_rate = RateLimiter(resolved.feedback_per_minute)
    app.add_middleware(BodyLimit, limits={feedback.PATH: resolved.feedback_max_bytes})
    allow_cors(app, resolved.cors_origins)  # added last, so outermost: a 413 carries CORS headers too
    app.include_router(routes.router)
    app.include_router(verify.router)
    app.include_router(feedback.router)
    app.include_router(collections.router)
    app.include_router(widget.router)
    docs.install(app)
    openai_routes.install(app)  # /v1/...: after errors.install, whose handlers it scopes
    document_limits(app, resolved)
    return app


def document_limits(app: FastAPI, settings: Settings) -> None:
    """State the limits that follow settings in the OpenAPI schema, with this server's values:
    the service enforces them (so a changed setting needs no schema change), the schema tells
    clients what they are."""

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            schema["components"]["schemas"]["AskRequest"]["properties"]["question"]["maxLength"] = settings.max_question_chars
            upload = schema["paths"]["/collections/{name}/documents"]["post"]["requestBody"]["content"]["multipart/form-data"]
            upload["schema"]["properties"][collections.FIELD]["maxItems"] = settings.max_upload_files
        return app.openapi_schema

    app.openapi = openapi


def allow_cors(app: FastAPI, origins: list[str]) -> None:
    """Pages on the configured origins may call the read-only endpoints (GET, and POST for /ask
    and /chat) from a browser: that is what lets the widget work when embedded anywhere. Only the
    `content-type` header is allowed, so a cross-origin write with `Authorization: Bearer` (or a
    DELETE) fails its preflight: managing documents stays a server-side job."""
    if origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"], allow_headers=["content-type"], max_age=600
        )
