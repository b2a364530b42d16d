"""The stored shapes of documents and passages (JSON rows), shared by every store, so a passage
written by one backend reads back identically from another."""

from __future__ import annotations

from qa.types import Document, Offsets, Passage


def passage_row(p: Passage) -> dict:
    """Offsets are stored as the points where they stop running consecutively: compact, exact."""
    row = {k: getattr(p, k) for k in ("passage_id", "doc_id", "section", "kind", "start", "end", "text", "headings")}
    return {**row, "offset_breaks": [list(run) for run in p.offsets.runs()]}


def passage_from(row: dict) -> Passage:
    breaks = row.pop("offset_breaks")
    return Passage(**row, offsets=Offsets.from_runs(map(tuple, breaks), len(row["text"])))


def document_from(row: dict) -> Document:
    pages = tuple((int(a), int(b)) for a, b in row.pop("pages", ()))
    metadata = metadata_from(row.pop("metadata", None))
    return Document(**row, pages=pages, metadata=metadata)


def metadata_from(stored: dict | None) -> dict[str, str | tuple[str, ...]]:
    """JSON gives lists back where the document had tuples; rows written before metadata existed
    have none."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in (stored or {}).items()}
