"""One typed settings object. Only entry points (CLI, API app) call `get_settings()`;
everything else receives explicit values."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from qa.errors import InvalidInput
from qa.types import AnswerUnit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROJECT_NAME = "verbatim-qa"
COLLECTION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
_COLLECTION_NAME = re.compile(COLLECTION_PATTERN)


def check_collection(name: str) -> str:
    """The one collection-name rule (settings, HTTP schemas, routes, auth and the store use it):
    names become folder names, so refuse anything that could escape or collide."""
    if not isinstance(name, str) or not _COLLECTION_NAME.match(name):
        raise InvalidInput(f"invalid collection name {str(name)[:80]!r}: use 1-64 letters, digits, '-' or '_', starting with a letter or digit")
    return name


def _valid_collection(name: str) -> str:
    try:
        return check_collection(name)
    except InvalidInput as exc:
        raise ValueError(exc.message) from None


# A collection name as a pydantic type, for settings and request schemas; its JSON schema states
# the same rule as the pattern, so OpenAPI clients see it.
CollectionName = Annotated[
    str, AfterValidator(_valid_collection), Field(json_schema_extra={"pattern": COLLECTION_PATTERN, "maxLength": 64})
]


def default_data_dir() -> Path:
    """Where the data lives when neither `--data-dir` nor `QA_DATA_DIR` says: `.qa-data` in the
    project checkout when Verbatim runs from one (git ignores it there), else the platform's user
    data folder (`~/.local/share/verbatim` on Linux, via platformdirs). Never the current
    directory: the same `qa` command must find the same collections from any folder."""
    if in_checkout():
        return PROJECT_ROOT / ".qa-data"
    import platformdirs

    return Path(platformdirs.user_data_dir("verbatim", appauthor=False))


def in_checkout() -> bool:
    """Whether the code runs from a clone of this project (an editable install or a source tree),
    not from an installed wheel: the folder above the package holds this project's pyproject.toml."""
    try:
        text = (PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return False
    return re.search(rf'^name\s*=\s*"{PROJECT_NAME}"', text, re.MULTILINE) is not None


class Settings(BaseSettings):
    """Values come from flags, then `QA_*` environment variables, then these defaults."""

    model_config = SettingsConfigDict(env_prefix="QA_", extra="ignore")

    data_dir: Path = Field(
        default_factory=default_data_dir, description="Index, metadata and manifests; default: .qa-data in the "
        "project checkout, else the user data folder (see `default_data_dir`)."
    )
    seeds_dir: Path = Field(PROJECT_ROOT / "seeds", description="Corpus indexed when the data dir is empty.")
    collection: CollectionName = Field(
        "default", description="The default collection: the one a request or command that names none reads and writes."
    )
    embed_model: str = Field("all-MiniLM-L6-v2", description="Packaged sentence-transformers model.")
    index_backend: str = Field(
        "faiss", description="Vector backend: faiss (embedded, the default), flat, or milvus (a Milvus server or "
        "cluster holds vectors, passages, documents and manifests; every API replica reads the same ones)."
    )
    milvus_uri: str = Field("http://127.0.0.1:19530", description="Milvus proxy to use with index_backend=milvus.")
    milvus_token: str | None = Field(None, description="Milvus credentials, 'user:password' or an API key.")
    ray_address: str | None = Field(
        None, description="Ray cluster (e.g. ray://head:10001 or 127.0.0.1:6379) that `qa index` embeds on; none: locally."
    )
    ray_workers: int = Field(2, ge=1, description="Embedding actors on the Ray cluster (one CPU each).")
    reader: Literal["auto", "neural", "heuristic"] = Field(
        "auto", description="Span reader: the trained ONNX model when present (auto), or the heuristic one."
    )
    top_k: int = Field(3, ge=1, le=50, description="Answers returned per question by default.")
    retrieve_k: int = Field(
        6, ge=1, le=200, description="Passages read per question (reading dominates latency; 6 loses <0.3 F1 against 8)."
    )
    read_first: int = Field(
        2, ge=0, le=200, description="Read this many top passages first, the rest only when no answer there is sure "
        "(0: all at once). On 200 SQuAD questions: reading p50 125 -> 55 ms, F1 68.1 -> 69.1."
    )
    read_sure: float = Field(0.3, ge=0.0, le=1.0, description="With read_first, the score that counts as sure.")
    answer_unit: AnswerUnit = Field(
        "span", description="What the reader answers with unless a request asks otherwise: the shortest span "
        "that answers (SQuAD-style, '1961'), or the whole sentence(s) holding it (long-form answers; up to 80 "
        "words). Questions asking what something is or does get the sentence either way."
    )
    abstain_threshold: float = Field(
        0.15, ge=0.0, le=1.0, description="Below this score (the answer's calibrated expected F1), answer null."
    )
    max_question_chars: int = Field(1000, ge=1, description="Longer questions are refused (422).")
    max_passage_words: int = Field(180, ge=20, description="Longer paragraphs are split at sentences.")
    encode_batch_size: int = Field(64, ge=1)
    encoder: Literal["torch", "onnx", "onnx-int8"] = Field(
        "onnx-int8", description="Embedding runtime: ONNX Runtime, int8 (2-3x faster than fp32 on 2 cores, retrieval "
        "within 0.005 of it: benchmarks/RESULTS.md; its own model name) or fp32 (the same vectors as torch), no torch "
        "import after a one-off export on first use; or sentence-transformers on torch."
    )
    model_cache: Path | None = Field(None, description="Where the ONNX export is kept; default <data_dir>/cache.")
    cache_size: int = Field(
        1024, ge=0, description="Answers (per collection version) and question vectors kept per process (LRU); 0 disables."
    )
    threads: int = Field(2, ge=1, description="CPU threads for model inference.")
    keys_file: Path | None = Field(
        None, description="JSON file of API keys with per-collection scopes (see README); with or instead of api_key."
    )
    private_collections: str = Field(
        "", description="Comma-separated collections whose reads (ask, documents) need a key; '*' for all."
    )
    max_upload_bytes: int = Field(50 * 1024 * 1024, ge=1, description="Largest upload request body (413 above).")
    max_upload_files: int = Field(20, ge=1, description="Most files in one upload (413 above).")
    feedback_max_bytes: int = Field(16 * 1024, ge=256, description="Largest POST /feedback body (413 above).")
    feedback_per_minute: int = Field(
        30, ge=1, description="POST /feedback requests a client (by address) may make per minute, in bursts up to as many (429 above)."
    )
    api_key: str | None = Field(None, description="When set, write endpoints need `Authorization: Bearer KEY`.")
    cors_origins: list[str] = Field(
        ["*"],
        description="Origins whose pages may call the read-only endpoints (/ask, /chat, /documents, "
        "/health) from a browser, e.g. the pages that embed the widget. A JSON list in the environment: "
        'QA_CORS_ORIGINS=\'["https://example.org"]\'. "*" allows any page.',
    )
    host: str = "127.0.0.1"
    port: int = 8000


def load_settings(**values) -> Settings:
    """Settings from `values` over the environment. A bad value (a flag or a QA_* variable) is
    the user's mistake: InvalidInput says which setting and why, not a pydantic traceback."""
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise InvalidInput("; ".join(map(_problem, exc.errors()))) from None


def _problem(error: dict) -> str:
    """One invalid setting in words: our own validators' messages as they are, pydantic's with
    the setting's name."""
    name = ".".join(map(str, error["loc"]))
    if error["type"] == "value_error":
        return f"{error['ctx']['error']} (setting {name!r})"
    return f"invalid setting {name!r}: {error['msg']}"


@lru_cache
def get_settings() -> Settings:
    """Settings from the environment, read once per process."""
    return load_settings()
