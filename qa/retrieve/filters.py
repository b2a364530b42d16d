"""Which documents a question may be answered from: by id, by source path (a prefix or a glob), by
file type, and by the document's metadata (Markdown front matter). The retrievers search only the
passages of the matching documents, so the top k are filled from them rather than cut from an
unfiltered top k."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import PurePosixPath

from qa.errors import InvalidInput
from qa.store.base import StoredDocument

DOC_ID = re.compile(r"[0-9a-f]{1,64}")
GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class Filters:
    """Every field given must match (AND); any one value within a field will do (OR). Frozen and
    hashable: it is part of the answer cache's key."""

    doc_ids: frozenset[str] = frozenset()
    paths: tuple[str, ...] = ()  # a prefix of the source path, or a glob when it holds * ? or [
    types: frozenset[str] = frozenset()  # file suffixes, lower case, without the dot: "md", "pdf"
    metadata: tuple[tuple[str, frozenset[str]], ...] = ()  # key -> accepted values

    @classmethod
    def of(cls, doc_id=None, path=None, type=None, metadata: Mapping | None = None) -> Filters | None:
        """From the loose shapes users send (a string or a list of strings each); None when
        nothing is asked, so an unfiltered question keeps its plain cache key."""
        ids = frozenset(_strings(doc_id, "doc_id"))
        bad = sorted(i for i in ids if not DOC_ID.fullmatch(i))
        if bad:
            raise InvalidInput(f"filters.doc_id: {bad[0][:80]!r} is not a document id (hex digits, as GET /documents lists them)")
        types = frozenset(t.lower().lstrip(".") for t in _strings(type, "type"))
        meta = tuple(sorted((str(k), frozenset(_strings(v, f"metadata.{k}"))) for k, v in (metadata or {}).items()))
        found = cls(ids, tuple(_strings(path, "path")), types, meta)
        return found if found != cls() else None

    def matches(self, doc: StoredDocument) -> bool:
        return (
            (not self.doc_ids or doc.doc_id in self.doc_ids)
            and (not self.paths or any(_path_matches(doc.path, p) for p in self.paths))
            and (not self.types or file_type(doc.path) in self.types)
            and all(_values(getattr(doc, "metadata", {}).get(k)) & wanted for k, wanted in self.metadata)
        )

    def select(self, documents: Callable[[], Mapping[str, StoredDocument]]) -> frozenset[str]:
        """The ids of the matching documents. `documents` is called only when more than ids are
        asked (a Milvus replica then lists the collection's documents once per version)."""
        if self == Filters(doc_ids=self.doc_ids):
            return self.doc_ids
        return frozenset(d for d, doc in documents().items() if self.matches(doc))


def file_type(path: str) -> str:
    """"pdf" for "/docs/report.PDF" and "upload:report.pdf"."""
    return PurePosixPath(path).suffix.lower().lstrip(".")


def _path_matches(path: str, pattern: str) -> bool:
    """A glob matches the whole source path (`*` crosses '/', as in `*/guide/*.md`); otherwise
    the pattern is a prefix (`/srv/docs/`, `upload:`)."""
    if GLOB_CHARS & set(pattern):
        return fnmatchcase(path, pattern)
    return path.startswith(pattern)


def _values(value) -> set[str]:
    if value is None:
        return set()
    return {str(v) for v in value} if isinstance(value, (list, tuple)) else {str(value)}


def _strings(value, name: str) -> Iterable[str]:
    values = [value] if isinstance(value, str) else list(value or ())
    if not all(isinstance(v, str) and v for v in values):
        raise InvalidInput(f"filters.{name}: expected a non-empty string or a list of them")
    return values
