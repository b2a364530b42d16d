"""/docs (Swagger UI) and /redoc with their scripts, styles and icon served from the installed
`fastapi-offline` package, as FastAPI's "self-hosting JavaScript and CSS for docs" describes:
FastAPI's own pages fetch them from a CDN and stay blank offline, where Verbatim is meant to run.
fastapi-offline is used for its files only (MIT, kept in step with Swagger UI and ReDoc releases)."""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"
# ReDoc's sidebar shows a logo from its vendor's CDN, with no option to turn it off: the page tells
# the browser that images come from this server only, so opening it sends nothing elsewhere.
LOCAL_IMAGES = {"Content-Security-Policy": "img-src 'self' data:"}


def install(app: FastAPI) -> None:
    """Add the two pages and their assets to an app created with docs_url=None, redoc_url=None."""
    app.mount(ASSETS, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + app.openapi_url, title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js", swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        page = get_redoc_html(
            openapi_url=root + app.openapi_url, title=f"{app.title} - ReDoc", redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS}/favicon.png", with_google_fonts=False,
        )
        page.headers.update(LOCAL_IMAGES)
        return page
