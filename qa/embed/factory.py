"""Which encoder to use: the factory sits apart from the encoders, so none imports another."""

from __future__ import annotations

from pathlib import Path

from qa.embed.base import Encoder
from qa.errors import InvalidInput


def make_encoder(runtime: str, name: str, cache_dir: Path, batch_size: int = 64, threads: int = 2) -> Encoder:
    """The configured encoder. `torch` is sentence-transformers; `onnx` gives the same vectors
    without importing torch once its export sits in `cache_dir` (by default `<data_dir>/cache`);
    `onnx-int8` is faster and records a different model name, so its vectors never mix with fp32."""
    if runtime == "torch":
        from qa.embed.sentence_transformer import SentenceTransformerEncoder

        return SentenceTransformerEncoder(name, batch_size, threads)
    if runtime in ("onnx", "onnx-int8"):
        from qa.embed.onnx_encoder import OnnxEncoder

        return OnnxEncoder(name, Path(cache_dir), batch_size, threads, quantized=runtime == "onnx-int8")
    raise InvalidInput(f"unknown encoder runtime {runtime!r}; choose torch, onnx or onnx-int8")
