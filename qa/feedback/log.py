"""Users' verdicts on answers, kept per collection in `<data_dir>/feedback/<collection>.jsonl`,
one JSON record a line, only ever appended to.

Crash-safe the plain way: a record is one `write` of one line to a file opened for appending,
fsynced before the request is answered, under a thread lock and an `flock` (two server processes
on one data directory never interleave their lines). A `kill -9` mid-write can leave at most a
torn last line: reading skips a line that does not parse, and the next append first ends that
line, so torn bytes never swallow the good record written after them."""

from __future__ import annotations

import fcntl
import json
import os
import threading
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from qa.config import check_collection
from qa.errors import InvalidInput
from qa.types import Document

VERDICTS = ("correct", "wrong", "should_abstain")
MAX_QUOTE_CHARS = 2000  # a correction is an answer, not a chapter


@dataclass(frozen=True)
class Quote:
    """Words of a document: `text == document.text[start:end]` when it was recorded."""

    doc_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Feedback:
    """One verdict. `answer` is what was shown (None: the service abstained); `correction` the
    words the user selected as the right answer, resolved to their text when recorded, so the
    record keeps its meaning after the document changes or is removed."""

    id: str
    at: str  # UTC, ISO 8601
    collection: str
    version: str  # the collection version live when the verdict was recorded
    question: str
    verdict: str
    answer: Quote | None
    correction: Quote | None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, row: dict) -> Feedback:
        quotes = {k: Quote(**row[k]) if row.get(k) else None for k in ("answer", "correction")}
        return cls(**{**row, **quotes})


def quote(doc: Document, start: int, end: int, limit: int | None = None) -> Quote:
    """`doc.text[start:end]`, refused unless it is a non-empty range inside the document."""
    if not 0 <= start < end <= len(doc.text):
        raise InvalidInput(f"start and end must satisfy 0 <= start < end <= {len(doc.text)} (the document's length)")
    if limit is not None and end - start > limit:
        raise InvalidInput(f"a correction may span at most {limit} characters")
    return Quote(doc.doc_id, start, end, doc.text[start:end])


def new_feedback(collection: str, version: str, question: str, verdict: str, answer: Quote | None,
                 correction: Quote | None) -> Feedback:
    """A record, checked: a correction says what the right answer is, so it goes with `wrong`."""
    if verdict not in VERDICTS:
        raise InvalidInput(f"verdict must be one of {', '.join(VERDICTS)}")
    if correction is not None and verdict != "wrong":
        raise InvalidInput("a correction goes with the verdict 'wrong' (the answer was wrong, these words are right)")
    if answer is not None and not 0 <= answer.start <= answer.end:
        raise InvalidInput("answer offsets must satisfy 0 <= start <= end")
    at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return Feedback(uuid.uuid4().hex, at, collection, version, question, verdict, answer, correction)


class FeedbackLog:
    """The per-collection feedback files of one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.folder = Path(data_dir) / "feedback"
        self._lock = threading.Lock()

    def path(self, collection: str) -> Path:
        return self.folder / f"{check_collection(collection)}.jsonl"

    def append(self, record: Feedback) -> Feedback:
        """Write the record as one line and fsync it; returns it once it is on disk."""
        line = (json.dumps(record.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        path = self.path(record.collection)
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            created = not path.exists()
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    line = b"\n" + line  # end a line torn by a crash, so this record stands alone
                view = memoryview(line)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)  # releases the flock
            if created:
                _fsync_dir(self.folder)
        return record

    def read(self, collection: str) -> list[Feedback]:
        """Every record, oldest first; a line that does not parse (a torn write) is skipped."""
        try:
            raw = self.path(collection).read_bytes()
        except FileNotFoundError:
            return []
        records = []
        for line in raw.split(b"\n"):
            try:
                records.append(Feedback.from_dict(json.loads(line)))
            except (ValueError, TypeError, KeyError):
                continue  # blank, or torn by a crash mid-write
        return records


def _fsync_dir(folder: Path) -> None:
    """Make a new file's name durable, not only its contents."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
