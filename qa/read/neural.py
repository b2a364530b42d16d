"""The trained reader behind the `Reader` interface: Verbatim's own MiniLM span model (ONNX, see
training/MODEL_CARD.md) reads each retrieved passage and proposes spans; `qa.read.calibrate`
turns the evidence for each span into its score, the expected F1 of answering with it.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from qa.read.calibrate import Calibrator, Evidence
from qa.read.evidence import coverage, is_definitional, type_prior
from qa.read.span_model import DEFAULT_MODEL_DIR, SpanCandidate, SpanModel
from qa.text import clip_span, enclosing_sentence, is_label
from qa.types import AnswerUnit, Hit, Passage, Span


CANDIDATES_PER_PASSAGE = 5
CALIBRATION = "calibration.json"


def model_available(model_dir: Path = DEFAULT_MODEL_DIR) -> bool:
    return (model_dir / "model.onnx").is_file() and (model_dir / "tokenizer.json").is_file()


class NeuralReader:
    """Reads the retrieved passages (the top `first` before the others, see `read`) and scores
    each candidate span with the calibrator shipped beside the model."""

    name = "neural"

    def __init__(
        self, model_dir: Path = DEFAULT_MODEL_DIR, threads: int | None = None, first: int = 0, sure: float = 1.0,
    ) -> None:
        self._model = SpanModel(model_dir, threads=threads)
        self._calibration = model_dir / CALIBRATION
        self.first, self.sure = first, sure

    @cached_property
    def _calibrator(self) -> Calibrator:
        """Loaded on first read, so `evidence()` works for fitting a calibrator before one exists."""
        return Calibrator.load(self._calibration)

    def read(self, question: str, hits: list[Hit], unit: AnswerUnit = "span") -> list[Span]:
        """Spans by calibrated score. With `first` set, the top `first` passages are read alone,
        and the rest only when no span of theirs reaches `sure`: the model's forward passes are
        nearly all of a question's time, and a sure answer in the best passages rarely loses."""
        first = self.first if 0 < self.first < len(hits) else len(hits)
        looked = self._look(question, hits[:first], 0)
        spans = self._score(self._evidence(question, hits[:first], looked, unit))
        if first < len(hits) and (not spans or spans[0].score < self.sure):
            looked = tuple(a + b for a, b in zip(looked, self._look(question, hits[first:], first)))
            spans = self._score(self._evidence(question, hits, looked, unit))
        return spans

    def evidence(self, question: str, hits: list[Hit]) -> list[tuple[Hit, int, int, Evidence]]:
        """Each distinct candidate span (passage offsets) of all `hits`, with what speaks for it;
        the calibrator's fit (training/fit_calibrator.py) reads the same evidence."""
        return self._evidence(question, hits, self._look(question, hits, 0), "span")

    def _look(self, question: str, hits: list[Hit], base: int) -> tuple[list[SpanCandidate], list[float]]:
        """The model's candidates in passage offsets (context index counted from `base`), and
        the "no answer" probability of every window it read."""
        shown = [_shown(h.passage) for h in hits]
        raw = self._model.predict(question, [text for text, _ in shown], top_n=CANDIDATES_PER_PASSAGE)
        candidates = [_in_passage(c, shown[c.context_index][1], base) for c in raw]
        return [c for c in candidates if c is not None], [c.null_score for c in raw]

    def _score(self, found: list[tuple[Hit, int, int, Evidence]]) -> list[Span]:
        spans = [Span(hit, start, end, round(self._calibrator.probability(ev), 4)) for hit, start, end, ev in found]
        spans.sort(key=lambda s: -s.score)
        return spans

    def _evidence(
        self, question: str, hits: list[Hit], looked: tuple[list[SpanCandidate], list[float]], unit: AnswerUnit
    ) -> list[tuple[Hit, int, int, Evidence]]:
        candidates, nulls = looked
        whole_sentence = unit == "sentence" or is_definitional(question)
        covered = [coverage(question, h.passage.searchable, h.weights) for h in hits]
        best_null = min(nulls, default=1.0)
        clusters = _clusters(candidates)
        top = sorted((p for _, p in clusters), reverse=True)[:2] + [0.0, 0.0]
        out = []
        for best, p_cluster in clusters:
            hit = hits[best.context_index]
            start, end = clip_span(hit.passage.text, best.start, best.end)
            if whole_sentence:  # the model gives SQuAD-sized spans: a fragment of the sentence wanted
                start, end = enclosing_sentence(hit.passage.text, start, end)
            evidence = Evidence(
                p_cluster, best.null_score, covered[best.context_index], type_prior(question, hit.passage.text[start:end]),
                hit.rank, hit.dense, best_null, top[1] if p_cluster == top[0] else top[0],
            )
            out.append((hit, start, end, evidence))
        return out


def _shown(passage: Passage) -> tuple[str, list[int] | None]:
    """What the model reads for a passage, and the passage index of each of its characters
    (None: the passage text itself).

    A hard line break ends a byline or sub-head; read as a sentence end, "GONG Qian\nChina
    has..." is not taken for one name. A passage that opens with such a label opens its section,
    so its heading stood right above it in the document: shown again, it tells the model what
    "By CEN Yingjie" wrote ("Who wrote the article about ...?"; seed-dev F1 84.8 -> 92.8)."""
    text = passage.text
    if "\n" not in text:
        return text, None
    pieces = [(ch, i) if ch != "\n" else (". ", i) for i, ch in enumerate(text)]
    if passage.headings and is_label(text.split("\n", 1)[0]):
        pieces.insert(0, (passage.headings.replace(" / ", ". ") + ". ", -1))
    return "".join(t for t, _ in pieces), [i for t, i in pieces for _ in t]


def _in_passage(c: SpanCandidate, origin: list[int] | None, base: int = 0) -> SpanCandidate | None:
    """The candidate in passage offsets; None when it lies in a heading shown only to the model."""
    start, last = (c.start, c.end - 1) if origin is None else (origin[c.start], origin[c.end - 1])
    if start < 0 or last < 0:
        return None
    return SpanCandidate(c.context_index + base, start, last + 1, c.score, c.null_score)


def _clusters(candidates: list[SpanCandidate]) -> list[tuple[SpanCandidate, float]]:
    """Group overlapping spans of the same passage ("32 seconds", "up to 32 seconds long"): each
    (start, end) pair is a distinct outcome of the model, so the group's probability is their
    sum. The group is represented by its most probable member."""
    groups: list[list[SpanCandidate]] = []
    for cand in sorted(candidates, key=lambda c: -c.score):
        home = next((g for g in groups if _overlaps(g[0], cand)), None)
        if home is None:
            groups.append([cand])
        else:
            home.append(cand)
    return [(g[0], min(1.0, sum(c.score for c in g))) for g in groups]


def _overlaps(a: SpanCandidate, b: SpanCandidate) -> bool:
    return a.context_index == b.context_index and a.start < b.end and b.start < a.end

