"""Tests for the ONNX span reader (qa/read/span_model.py)."""

from __future__ import annotations

import pytest

from qa.read.span_model import DEFAULT_MODEL_DIR, SpanModel

# The model ships with the project (qa/models/reader/): a missing file is a failure, not a skip.
pytestmark = pytest.mark.slow

PARIS = (
    "Paris is the capital and largest city of France. "
    "The Eiffel Tower, completed in 1889, was designed by the engineering "
    "company of Gustave Eiffel and is 330 metres tall."
)
NILE = "  The Nile  flows north through Egypt\u00a0and  empties into the Mediterranean Sea.  Café owners 😀 sell tea.  "


@pytest.fixture(scope="module")
def model() -> SpanModel:
    return SpanModel(DEFAULT_MODEL_DIR, threads=2)


@pytest.mark.slow
def test_empty_contexts_return_empty_list(model: SpanModel) -> None:
    assert model.predict("What is the capital of France?", []) == []
    assert model.predict("What is the capital of France?", ["", "   "]) == []


@pytest.mark.slow
def test_clear_factual_question(model: SpanModel) -> None:
    best = model.predict("In what year was the Eiffel Tower completed?", [PARIS])[0]
    assert PARIS[best.start : best.end] == "1889"
    assert 0.0 < best.score <= 1.0 and 0.0 <= best.null_score <= 1.0


@pytest.mark.slow
def test_offsets_reproduce_span_text_and_are_trimmed(model: SpanModel) -> None:
    contexts = [NILE, PARIS, NILE * 40]  # the last one needs several windows
    cands = model.predict("Into which sea does the Nile empty?", contexts, top_n=3)
    assert cands
    assert [c.score for c in cands] == sorted((c.score for c in cands), reverse=True)
    for c in cands:
        text = contexts[c.context_index][c.start : c.end]
        assert text and text == text.strip()
        assert 0 <= c.start < c.end <= len(contexts[c.context_index])
    per_context: dict[int, int] = {}
    for c in cands:
        per_context[c.context_index] = per_context.get(c.context_index, 0) + 1
    assert max(per_context.values()) <= 3
    best_nile = next(c for c in cands if c.context_index == 0)
    assert "Mediterranean" in NILE[best_nile.start : best_nile.end]


@pytest.mark.slow
def test_unicode_offsets_are_character_offsets(model: SpanModel) -> None:
    best = model.predict("Who sells tea?", [NILE])[0]
    assert "Café" in NILE[best.start : best.end] or "owners" in NILE[best.start : best.end]
