"""Start a real `qa serve` on 127.0.0.1 for tests, and stop it afterwards."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_file(data_dir: Path, port: int) -> Path:
    """Where `running_server` writes the server's stdout and stderr."""
    return data_dir.parent / f"server-{port}.log"


@contextmanager
def running_server(data_dir: Path, env: dict | None = None, timeout: float = 180.0):
    """Yield the base URL of a live server; fail with its log if it never becomes healthy."""
    port = free_port()
    log = log_file(data_dir, port)
    environ = {**os.environ, "QA_DATA_DIR": str(data_dir), **(env or {})}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "qa.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env=environ,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log, timeout)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"server not healthy after {timeout} s:\n{log.read_text()[-4000:]}")
