"""The reader seam: passages -> answer spans. The trained reader (`qa.read.neural`) and the
heuristic fallback (`qa.read.heuristic`) both implement it; `qa.read.factory` picks one."""

from __future__ import annotations

from typing import Protocol

from qa.types import AnswerUnit, Hit, Span


class Reader(Protocol):
    """Extracts the shortest spans that answer a question from retrieved passages. Everything
    it needs comes with the hits (the passages, and the collection's term weights)."""

    name: str

    def read(self, question: str, hits: list[Hit], unit: AnswerUnit = "span") -> list[Span]:
        """Candidate spans, best first, each with a score in [0, 1] meaning "this answers it".
        With `unit="sentence"` each span is the whole sentence(s) of its passage holding the words
        that answer (`qa.text.enclosing_sentence`)."""
        ...
