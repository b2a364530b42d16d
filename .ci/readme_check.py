"""The README's service command, run as a new user runs it: in a fresh clone of this repository,
with a fresh venv and an empty data directory. It must answer /health and say it is ready, and
/docs and /redoc must load nothing from outside 127.0.0.1 (Debian's Chromium, remote requests
blocked and recorded). Prints the wall time of the install and of the first start.

Run from the repository root with the project's venv (Playwright comes from the [test] extra):
`.venv/bin/python .ci/readme_check.py`. The command runs as written, with only QA_PORT set so it
cannot collide with a server already on port 8000; the clone is of the committed HEAD."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import ARGS, CHROMIUM, check_docs_offline  # noqa: E402
from tests.readme import two_commands  # noqa: E402
from tests.server import free_port  # noqa: E402

TIMEOUT = 1200  # s: venv, pip install of torch and the rest, then the first start


def clean_env(port: int) -> dict[str, str]:
    """A new user's shell: none of this run's QA_* settings, venv or Python paths."""
    drop = ("QA_", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
    return {**{k: v for k, v in os.environ.items() if not k.startswith(drop)}, "QA_PORT": str(port)}


def wait_ready(url: str, proc: subprocess.Popen, log: Path) -> tuple[float, float]:
    """Seconds until `qa serve` started (venv + install) and until /health answered 200."""
    began, served = time.monotonic(), None
    while time.monotonic() - began < TIMEOUT:
        if proc.poll() is not None:
            raise SystemExit(f"the command exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        if served is None and "Started server process" in log.read_text(errors="replace"):
            served = time.monotonic() - began
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return served or 0.0, time.monotonic() - began
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"not healthy after {TIMEOUT} s:\n{log.read_text()[-4000:]}")


def check(clone: Path, log: Path) -> None:
    serve_command, _ = two_commands()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    print(f"$ {serve_command}    # in a fresh clone, QA_PORT={port}", flush=True)
    with open(log, "wb") as out:
        proc = subprocess.Popen(["bash", "-c", serve_command], cwd=clone, env=clean_env(port),
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        installed, healthy = wait_ready(url, proc, log)
        print(f"venv + pip install: {installed:.0f} s; first start: {healthy - installed:.0f} s; "
              f"healthy after {healthy:.0f} s in all", flush=True)
        text = log.read_text()
        if f"Verbatim is ready: {url}/" not in text:
            raise SystemExit(f"healthy, but it never said it was ready:\n{text[-4000:]}")
        print(text[text.index("INFO:     Started server process"):], end="", flush=True)  # what the user saw
        from playwright import sync_api

        began = time.monotonic()
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                check_docs_offline(browser, url)
            finally:
                browser.close()
        print(f"/docs and /redoc rendered with every request outside 127.0.0.1 blocked, and none was tried "
              f"({time.monotonic() - began:.0f} s)", flush=True)
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """The server and the shell around it, as Ctrl+C would; killed if they linger."""
    began = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    print(f"stopped in {time.monotonic() - began:.0f} s", flush=True)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="verbatim-readme-"))
    began = time.monotonic()
    try:
        subprocess.run(["git", "clone", "-q", str(ROOT), str(work / "verbatim")], check=True)
        check(work / "verbatim", work / "serve.log")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        print(f"readme check: {time.monotonic() - began:.0f} s in all", flush=True)


if __name__ == "__main__":
    main()
