"""Shared fixtures. A hashing bag-of-words encoder stands in for the real model in fast unit
tests; tests marked `slow` use the real models and real servers."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import numpy as np
import pytest

from qa.config import Settings
from qa.types import Span

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SEED_FILE = ROOT / "seeds" / "000_2482174482ea82ec.txt"


class HashEncoder:
    """Deterministic, dependency-free vectors: texts sharing words get similar vectors."""

    name = "test-hash"
    dim = 64

    def __init__(self) -> None:
        self.calls = 0
        self.texts_encoded = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.texts_encoded += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


@pytest.fixture
def encoder() -> HashEncoder:
    return HashEncoder()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", reader="heuristic")


@pytest.fixture
def docs_dir(tmp_path: Path) -> Path:
    """A writable copy of the test documents, so tests may change and delete files."""
    target = tmp_path / "docs"
    target.mkdir()
    for f in (DATA / "docs").iterdir():
        (target / f.name).write_bytes(f.read_bytes())
    return target


@pytest.fixture(scope="session", autouse=True)
def shared_model_cache(tmp_path_factory):
    """The ONNX encoder exports itself once per cache folder (~10 s); tests that start servers on
    fresh data dirs share one folder instead of exporting again each time."""
    if "QA_MODEL_CACHE" in os.environ:
        yield
        return
    os.environ["QA_MODEL_CACHE"] = str(tmp_path_factory.mktemp("model-cache"))
    yield
    os.environ.pop("QA_MODEL_CACHE", None)


class FirstWordsReader:
    """Answers with each passage's first three words, surer for higher-ranked passages: enough
    to test the plumbing around a reader without loading one."""

    name = "first-words"

    def read(self, question, hits, unit="span"):
        spans = []
        for hit in hits:
            words = hit.passage.text.split()[:3]
            end = hit.passage.text.index(words[-1]) + len(words[-1])
            spans.append(Span(hit, 0, end, 0.9 - 0.1 * hit.rank))
        return spans


# --- Milvus: tests marked `milvus` talk to a real server (`.ci/run` starts one) ---------------

MILVUS_URI = os.environ.get("QA_MILVUS_URI", "http://127.0.0.1:19530")


def _milvus_reachable(uri: str) -> bool:
    import socket
    from urllib.parse import urlparse

    parsed = urlparse(uri)
    try:
        socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 19530), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def milvus_uri() -> str:
    """The server's URI, or a skip that says how to get one. With VERBATIM_REQUIRE_MILVUS=1 (set
    by `.ci/run`) a missing server fails instead, so CI cannot pass by skipping everything."""
    if _milvus_reachable(MILVUS_URI):
        return MILVUS_URI
    message = (f"no Milvus server at {MILVUS_URI}: `bash .ci/run` starts one (pip install -e '.[milvus]'), "
               "or point QA_MILVUS_URI at yours")
    if os.environ.get("VERBATIM_REQUIRE_MILVUS") == "1":
        pytest.fail(message)
    pytest.skip(message)
