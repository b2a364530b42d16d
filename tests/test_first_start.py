"""What a new user meets first: `qa serve` on an empty data directory says what it is doing and
when it is ready, with no warnings meant for developers; /docs and /redoc work offline (a real
server, Debian's Chromium, every request that would leave 127.0.0.1 blocked and recorded)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browser import ARGS, CHROMIUM, check_docs_offline
from tests.server import log_file, running_server


def test_docs_pages_link_only_local_assets(tmp_path):
    """Fast: the HTML of /docs and /redoc names no http(s) URL (FastAPI's defaults are a CDN)."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from qa.config import Settings
    from qa.service import QAService
    from tests.conftest import HashEncoder

    settings = Settings(data_dir=tmp_path / "data", reader="heuristic")
    client = TestClient(create_app(settings, QAService(settings, encoder=HashEncoder())))
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assert re.findall(r"https?://", html) == [], page
        for asset in re.findall(r'(?:src|href)="(/[^"]+)"', html):
            assert client.get(asset).status_code == 200, asset


@pytest.fixture(scope="module")
def first_start(tmp_path_factory):
    """A server started on an empty data directory, and what it printed until it was ready."""
    data = tmp_path_factory.mktemp("first-start") / "data"
    with running_server(data) as url:
        yield url, log_file(data, urlsplit(url).port).read_text()


@pytest.mark.slow
def test_first_start_says_what_it_is_doing(first_start):
    url, log = first_start
    lines = [line.split(":", 1)[1].strip() for line in log.splitlines() if line.startswith("INFO:")]
    indexing = next(i for i, line in enumerate(lines) if line.startswith("empty data directory"))
    assert re.search(r"indexing \S*seeds/ \(1 file\) into collection 'default'", lines[indexing])
    assert lines[indexing + 1].startswith("indexed default: 1 documents")
    assert lines.index(f"Verbatim is ready: {url}/") > indexing + 1
    assert not re.search(r"warn|traceback|%", log, re.IGNORECASE), log


@pytest.mark.slow
def test_docs_render_in_chromium_with_the_network_blocked(first_start):
    from playwright import sync_api

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (scripts/test.sh does)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            check_docs_offline(browser, first_start[0])
        finally:
            browser.close()
