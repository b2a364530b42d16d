"""The trained reader behind the `Reader` interface: Verbatim's own MiniLM span model (ONNX, see
training/MODEL_CARD.md) reads each retrieved passage and proposes spans.

Its raw outputs are per-window probabilities, which are not comparable across questions: a
model that must put its mass somewhere is confident in the wrong passage too. The score we
return mixes three pieces of evidence, each in [0, 1]:
- `relative`: how sure the model is of this span against "no answer" in the same window;
- `coverage`: how much of the question's idf mass the passage (and its section title) contains,
  which catches questions about things the corpus never mentions ("GDP", "CEO");
- `p_span`: the model's absolute probability of the span.
"""

from __future__ import annotations

from pathlib import Path

from qa.read import coverage
from qa.span_model import DEFAULT_MODEL_DIR, SpanModel
from qa.types import Hit, Span


def model_available(model_dir: Path = DEFAULT_MODEL_DIR) -> bool:
    return (model_dir / "model.onnx").is_file() and (model_dir / "tokenizer.json").is_file()


class NeuralReader:
    """Reads all retrieved passages in one batched ONNX call."""

    name = "neural"

    def __init__(self, model_dir: Path = DEFAULT_MODEL_DIR, threads: int | None = None) -> None:
        self._model = SpanModel(model_dir, threads=threads)

    def read(self, question: str, hits: list[Hit], idf: dict[str, float], unknown_idf: float) -> list[Span]:
        # A hard line break ends a byline or sub-head; shown to the model as a full stop (same
        # length, so offsets hold) it stops "GONG Qian\nChina has..." reading as one name.
        contexts = [h.passage.text.replace("\n", ".") for h in hits]
        candidates = self._model.predict(question, contexts, top_n=3)
        covered = [coverage(question, h.passage.searchable, idf, unknown_idf) for h in hits]
        spans = []
        for c in candidates:
            hit = hits[c.context_index]
            start, end = _first_line(hit.passage.text, c.start, c.end)
            spans.append(Span(hit, start, end, confidence(c.score, c.null_score, covered[c.context_index])))
        spans.sort(key=lambda s: -s.score)
        return spans


def _first_line(text: str, start: int, end: int) -> tuple[int, int]:
    """Answers never run across a hard line break: keep the part before it."""
    cut = text.find("\n", start, end)
    if cut == -1:
        return start, end
    return start, cut if cut > start else end


def confidence(p_span: float, p_null: float, covered: float) -> float:
    """One score in [0, 1] meaning the same across questions (see the module docstring).

    The model's span-versus-no-answer odds carry most of the weight; coverage and the absolute
    span probability only scale it, so a sure answer in a passage that words things differently
    from the question survives, while a guess in a passage about something else does not."""
    relative = p_span / (p_span + p_null) if p_span + p_null > 0 else 0.0
    return round(relative * (0.4 + 0.6 * covered) * (0.6 + 0.4 * p_span), 4)
