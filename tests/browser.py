"""Debian's Chromium for the browser tests (never a browser that Playwright downloads), and a
page load that proves a page needs nothing beyond 127.0.0.1."""

from __future__ import annotations

from urllib.parse import urlsplit

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
WAIT = 30_000  # ms: generous for a loaded CI machine


def block_remote(context) -> list[str]:
    """Abort every request of `context` that leaves 127.0.0.1 and record its URL in the list
    returned, so a test can both see the page work offline and assert nothing tried to leave."""
    remote: list[str] = []

    def route(r) -> None:
        if urlsplit(r.request.url).hostname == "127.0.0.1":
            r.continue_()
        else:
            remote.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    return remote


def check_docs_offline(browser, base_url: str) -> None:
    """/docs (Swagger UI) and /redoc render the API with every remote request blocked, and none
    was even tried: their scripts, styles and icons come from the server itself."""
    from playwright.sync_api import expect

    context = browser.new_context()
    remote = block_remote(context)
    page = context.new_page()
    try:
        page.goto(f"{base_url}/docs")
        expect(page.locator(".opblock-summary-path[data-path='/ask']").first).to_be_visible(timeout=WAIT)
        page.goto(f"{base_url}/redoc")
        expect(page.get_by_role("heading", name="Verbatim").first).to_be_visible(timeout=WAIT)
        expect(page.get_by_text("/ask", exact=True).first).to_be_attached(timeout=WAIT)
    finally:
        context.close()
    assert remote == [], f"requests left 127.0.0.1: {remote}"
