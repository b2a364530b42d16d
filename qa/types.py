"""The domain's value objects: frozen, so a passage or an answer cannot drift after it is cited."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

# What an answer's words are: the shortest span that answers ("1961"), or the whole sentence(s)
# holding it (long-form answers). The server's default is `Settings.answer_unit`; a request may
# ask for the other.
AnswerUnit = Literal["span", "sentence"]
ANSWER_UNITS: tuple[AnswerUnit, ...] = ("span", "sentence")


@dataclass(frozen=True)
class Document:
    """A source file's text exactly as served by `GET /documents/{doc_id}`; all offsets point here."""

    doc_id: str
    title: str
    path: str
    text: str
    sha256: str
    # For paged formats (PDF): page i (1-based i+1) is text[pages[i][0]:pages[i][1]]; else empty.
    pages: tuple[tuple[int, int], ...] = ()
    # A Markdown file's front matter (`author: Ann`, `tags: [a, b]`), values as strings: what
    # question filters can name. Empty for other formats.
    metadata: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding character `offset`, so a citation can name its page."""
        for number, (start, end) in enumerate(self.pages, 1):
            if start <= offset < end:
                return number
        return None


class Offsets(Sequence[int]):
    """The document offset of each character of a passage's text, kept as runs of consecutive
    offsets. Text copied from one stretch of a document is one run; a tuple held one Python int
    per character (~40 bytes each), so a collection's offsets outweighed its text and vectors
    together, and indexing 100k passages needed gigabytes."""

    __slots__ = ("_starts", "_origins", "_length")

    def __init__(self, values: Iterable[int] = ()) -> None:
        starts: list[int] = []
        origins: list[int] = []
        length, previous = 0, None
        for length, value in enumerate(values, 1):
            if previous is None or value != previous + 1:
                starts.append(length - 1)
                origins.append(value)
            previous = value
        self._starts, self._origins, self._length = tuple(starts), tuple(origins), length

    @classmethod
    def from_runs(cls, runs: Iterable[tuple[int, int]], length: int) -> Offsets:
        """From (index in the text, document offset) pairs where the runs start, as stored."""
        made = cls()
        pairs = list(runs)
        made._starts, made._origins, made._length = tuple(i for i, _ in pairs), tuple(o for _, o in pairs), length
        return made

    def runs(self) -> list[tuple[int, int]]:
        """(index in the text, document offset) where each run starts: the compact stored form."""
        return list(zip(self._starts, self._origins))

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Offsets(self[i] for i in range(*index.indices(self._length)))
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError("offset index out of range")
        run = bisect_right(self._starts, index) - 1
        return self._origins[run] + index - self._starts[run]

    def __iter__(self) -> Iterator[int]:
        ends = self._starts[1:] + (self._length,)
        for start, end, origin in zip(self._starts, ends, self._origins):
            yield from range(origin, origin + end - start)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Offsets):
            return (self._starts, self._origins, self._length) == (other._starts, other._origins, other._length)
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    __hash__ = None  # type: ignore[assignment]  # equal to a tuple, so never a dict key

    def __repr__(self) -> str:
        return f"Offsets(runs={self.runs()}, length={self._length})"


@dataclass(frozen=True)
class Passage:
    """A retrievable unit of a document.

    A paragraph interrupted by a photo caption is stitched from the text on both sides of it, so
    `document.text[start:end]` may hold more than the passage. `text` is the cleaned reading
    (line-break hyphens joined, whitespace collapsed) that is embedded and read; `offsets[i]` is
    the document offset of `text[i]`, so any span of `text` maps back to exact document characters.
    """

    passage_id: str
    doc_id: str
    section: str
    kind: str  # "text" or "caption"
    start: int  # document offset of the first character
    end: int  # document offset just past the last character
    text: str
    offsets: Offsets = field(repr=False, compare=False)  # any sequence of ints is made compact
    # The section and the labels under it ("Voice of the World", "Opinion"): searched, not shown.
    headings: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.offsets, Offsets):
            object.__setattr__(self, "offsets", Offsets(self.offsets))

    @property
    def searchable(self) -> str:
        """What is embedded and matched: questions often name the article, not the words."""
        return f"{self.headings}: {self.text}" if self.headings else self.text

    def document_span(self, start: int, end: int) -> tuple[int, int]:
        """Document offsets of `text[start:end]` (end exclusive)."""
        return self.offsets[start], self.offsets[end - 1] + 1


@dataclass(frozen=True, eq=False)
class TermWeights:
    """How much each word says in the collection a question was searched in (its idf), and what
    a word the collection lacks weighs. The retriever knows them and hands them to the reader
    with its hits, so a reader needs nothing from the retriever itself."""

    idf: Mapping[str, float]
    unknown: float

    def weight(self, term: str) -> float:
        return self.idf.get(term, self.unknown)


@dataclass(frozen=True)
class Hit:
    """A passage found for a question: fused rank score, and the evidence behind it."""

    passage: Passage
    score: float
    rank: int
    dense: float  # cosine similarity of question and passage
    lexical: float  # BM25 score (0 when no question word occurs)
    weights: TermWeights = field(compare=False, repr=False)  # the same object for every hit of a question


@dataclass(frozen=True)
class Span:
    """A reader's pick: `hit.passage.text[start:end]`, with a score in [0, 1]."""

    hit: Hit
    start: int
    end: int
    score: float

    @property
    def text(self) -> str:
        return self.hit.passage.text[self.start : self.end]


@dataclass(frozen=True)
class Citation:
    """Where an answer's words stand: `document.text[start:end]` is the answer text."""

    doc_id: str
    title: str
    section: str
    passage_id: str
    start: int
    end: int
    context: str
    context_start: int
    page: int | None = None  # 1-based page of `start` in paged formats (PDF), else None


@dataclass(frozen=True)
class Answer:
    """An extracted span with a calibrated score in [0, 1]. `source` is the strongest citation;
    `sources` holds every passage where the same words answer the question (`source` first)."""

    text: str
    score: float
    source: Citation
    sources: tuple[Citation, ...] = ()


@dataclass(frozen=True)
class Result:
    """The reply to one question: best answer (or None: abstained) and all candidates."""

    question: str
    answer: str | None
    answers: tuple[Answer, ...]
    took_ms: float
    timings: dict[str, float] = field(default_factory=dict, compare=False)
    retrieved: tuple[Hit, ...] = field(default=(), compare=False, repr=False)
    min_score: float | None = None  # the score `answer` needed: the collection's threshold or the request's

    def to_dict(self) -> dict:
        """The public JSON shape of CONTRACT.md, shared by `POST /ask` and `qa ask --json`."""
        return {
            "question": self.question,
            "answer": self.answer,
            "answers": [
                {
                    "text": a.text,
                    "score": a.score,
                    "source": asdict(a.source),
                    "sources": [asdict(c) for c in a.sources or (a.source,)],
                }
                for a in self.answers
            ],
            "min_score": self.min_score,
            "took_ms": self.took_ms,
        }
