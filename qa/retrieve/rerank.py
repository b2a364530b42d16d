"""The re-ranking slot between retrieval and reading. A `Reranker` may reorder or drop each
question's hits (a cross-encoder, or the reader's own passage scores); the service calls it on
every batch, so adding one never touches the service. `KeepOrder` is the default."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from qa.types import Hit


@runtime_checkable
class Reranker(Protocol):
    """Batch first: one call per batch of questions, as the retriever's search."""

    def rerank(self, questions: list[str], hits: list[list[Hit]]) -> list[list[Hit]]:
        """For each question, hits taken from its own list (reordered, possibly fewer)."""
        ...


class KeepOrder:
    """The identity: retrieval's order is what the reader sees."""

    def rerank(self, questions: list[str], hits: list[list[Hit]]) -> list[list[Hit]]:
        return hits
