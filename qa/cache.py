"""Small thread-safe LRU caches for the question path.

Why: a widget's visitors ask the same handful of questions, and the evaluation asks each question
of a file against one collection version; both the question's vector and the whole answer can be
reused. Answers are keyed by collection *version*, so a re-index or an upload makes every older
entry unreachable (and it ages out) instead of serving a stale answer.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import numpy as np


class LRU:
    """A bounded mapping that forgets the least recently used entry; size 0 stores nothing."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            if key not in self._data:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return self._data[key]

    def put(self, key: Hashable, value: Any) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


class QuestionVectors:
    """Question embeddings by text, for one encoder: the misses of a batch go to the model in
    one call. Passages never pass through here (they would only evict questions)."""

    def __init__(self, encoder, size: int) -> None:
        self.encoder = encoder
        self.cache = LRU(size)

    def encode(self, questions: list[str]) -> np.ndarray:
        found = [self.cache.get(q) for q in questions]
        missing = [i for i, v in enumerate(found) if v is None]
        if missing:
            fresh = self.encoder.encode([questions[i] for i in missing])
            for row, i in enumerate(missing):
                found[i] = fresh[row]
                self.cache.put(questions[i], fresh[row])
        if not questions:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        return np.vstack(found).astype(np.float32, copy=False)
