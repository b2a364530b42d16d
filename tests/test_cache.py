"""Question-vector and answer caches: hits skip the model, a new collection version misses."""

import numpy as np

from qa.cache import LRU, QuestionVectors
from qa.config import Settings
from qa.service import QAService
from tests.conftest import HashEncoder
from tests.test_service import FirstWordsReader


def test_lru_forgets_the_least_recently_used():
    cache = LRU(2)
    cache.put("a", 1), cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and len(cache) == 2
    disabled = LRU(0)
    disabled.put("a", 1)
    assert disabled.get("a") is None


def test_question_vectors_encode_only_the_misses():
    encoder = HashEncoder()
    cached = QuestionVectors(encoder, 10)
    first = cached.encode(["who won", "when was it"])
    again = cached.encode(["when was it", "who won", "where"])
    assert encoder.texts_encoded == 3
    assert np.allclose(again[:2], first[::-1]) and again.shape == (3, encoder.dim)


def _service(tmp_path, docs_dir, encoder, **overrides) -> QAService:
    settings = Settings(data_dir=tmp_path / "data", seeds_dir=docs_dir, reader="heuristic", **overrides)
    service = QAService(settings, encoder=encoder, reader=FirstWordsReader())
    service.ensure_seeded(docs_dir)
    return service


def test_repeated_question_is_answered_from_the_cache(tmp_path, docs_dir, encoder):
    service = _service(tmp_path, docs_dir, encoder)
    first = service.ask("Who wrote the report?")
    calls = encoder.calls
    again = service.ask("Who wrote the report?")
    assert encoder.calls == calls and again.answers == first.answers
    assert "cached_ms" in again.timings


def test_new_collection_version_invalidates_answers(tmp_path, docs_dir, encoder):
    service = _service(tmp_path, docs_dir, encoder)
    service.ask("Who wrote the report?")
    (docs_dir / "extra.txt").write_text("The report was written by Ada Lovelace in 1843.\n")
    service.index([docs_dir])
    after = service.ask("Who wrote the report?")
    assert "cached_ms" not in after.timings  # a new version: asked again, not served stale


def test_cache_size_zero_disables_caching(tmp_path, docs_dir, encoder):
    service = _service(tmp_path, docs_dir, encoder, cache_size=0)
    service.ask("Who wrote the report?")
    calls = encoder.calls
    service.ask("Who wrote the report?")
    assert encoder.calls == calls + 1
