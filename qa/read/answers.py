"""Spans -> answers with citations: each span mapped to exact document offsets, the same words
from several passages merged into one answer that cites them all."""

from __future__ import annotations

from qa.store.base import Collection
from qa.text import clip_span
from qa.types import Answer, Citation, Span


def distinct_answers(spans: list[Span], collection: Collection, top_k: int) -> list[Answer]:
    """One answer per distinct text, carrying every passage that supports it. Support from
    several passages combines as a noisy-OR: each is a separate chance that these words are
    the answer, so agreement raises the score and a lone weak span stays weak."""
    groups: dict[str, list[Answer]] = {}
    for span in spans:
        answer = _cite(span, collection)
        groups.setdefault(" ".join(answer.text.lower().split()), []).append(answer)
    merged = [_merge(group) for group in groups.values()]
    merged.sort(key=lambda a: -a.score)
    return merged[:top_k]


def _cite(span: Span, collection: Collection) -> Answer:
    """Map a passage span to exact document offsets; the answer text is the document's own."""
    passage = span.hit.passage
    doc = collection.document(passage.doc_id)
    # The passage's reading joins short blocks (a definition list's "time" and "the 60-bit
    # timestamp") with a space, where the document keeps their line breaks: clipped again on the
    # document's own text, an answer never runs across blocks there either.
    start, end = clip_span(doc.text, *passage.document_span(span.start, span.end))
    citation = Citation(
        doc_id=doc.doc_id,
        title=doc.title,
        section=passage.section,
        passage_id=passage.passage_id,
        start=start,
        end=end,
        context=doc.text[passage.start : passage.end],
        context_start=passage.start,
        page=doc.page_at(start),
    )
    return Answer(text=doc.text[start:end], score=round(min(max(span.score, 0.0), 1.0), 4), source=citation)


def _merge(group: list[Answer]) -> Answer:
    """The noisy-OR counts each passage once, at its best score: two spans of one passage that
    became the same words (`QA_ANSWER_UNIT=sentence`, a definitional question) are one chance,
    not two, and one citation."""
    per_passage: dict[str, Answer] = {}
    for answer in sorted(group, key=lambda a: -a.score):
        per_passage.setdefault(answer.source.passage_id, answer)
    best = next(iter(per_passage.values()))
    doubt = 1.0
    for answer in per_passage.values():
        doubt *= 1.0 - answer.score
    sources = (best.source,) + tuple(a.source for a in per_passage.values() if a is not best)
    return Answer(best.text, round(1.0 - doubt, 4), best.source, sources)
