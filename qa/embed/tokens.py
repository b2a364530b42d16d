"""Token counts for usage reporting, with the tokenizer the encoder itself reads text with.

OpenAI-compatible clients expect `usage.prompt_tokens` and friends. Verbatim runs no language
model, so there is no "true" count to report; the honest figure is what our own model sees: the
WordPiece tokens of the packaged embedding model (the same `tokenizer.json` it ships with). These
numbers are not comparable with OpenAI's tiktoken counts, and they are never estimated: when the
tokenizer is not available (an unknown or fake encoder), `count_tokens` says so with `None`."""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

from qa.embed.base import INT8_SUFFIX, PACKAGED_MODELS

_lock = threading.Lock()


@lru_cache(maxsize=4)
def _tokenizer(model_name: str):
    """Loaded once per model: the file is ~700 kB of JSON and parsing it costs ~50 ms."""
    from tokenizers import Tokenizer

    path = Path(PACKAGED_MODELS[model_name][0]()) / "tokenizer.json"
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_truncation()  # count every token, not just the first 512 the model would read
    tokenizer.no_padding()
    return tokenizer


def count_tokens(model_name: str, texts: list[str]) -> int | None:
    """Total WordPiece tokens of `texts` (no [CLS]/[SEP]), or None when the model has no packaged
    tokenizer, so callers report 0 with a note instead of inventing a number. An int8 encoder
    counts with its model's tokenizer: quantising changed the weights, not the words."""
    model_name = model_name.removesuffix(INT8_SUFFIX)
    if model_name not in PACKAGED_MODELS:
        return None
    try:
        with _lock:  # lru_cache may build the same tokenizer twice under a race; harmless but wasteful
            tokenizer = _tokenizer(model_name)
    except Exception:  # a broken install must cost the usage figures, never the answer
        return None
    texts = [t for t in texts if t]
    if not texts:
        return 0
    return sum(len(e.ids) for e in tokenizer.encode_batch(texts, add_special_tokens=False))
