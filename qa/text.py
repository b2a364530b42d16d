"""Text helpers every stage may use: word tokens, stopwords, idf, a crude stemmer, sentence
bounds and labels. They live below the stages so that no stage borrows them from another
(ingest, retrieval and both readers must cut and weigh words the same way)."""

from __future__ import annotations

import math
import re

_TOKEN = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")
STOPWORDS = frozenset(
    "a an and are as at be been being by did do does for from had has have he her his how i in "
    "is it its of on or she so than that the their them they this to was were what when where "
    "which who whom whose why will with would you your".split()
)
TERMINAL = tuple('.!?:;"\'”’)')  # what ends a sentence-like block
SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[\"“(]?[A-Z0-9])|\n")
TINY_WORDS = 8  # a run of fewer words is a byline or sub-head, not a passage of its own


def tokenize(text: str) -> list[str]:
    """Lower-cased word and number tokens without stopwords; '4,155' stays one token."""
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


def idf_weight(documents: int, frequency: int) -> float:
    """BM25's idf of a term found in `frequency` of `documents` texts."""
    return math.log(1 + (documents - frequency + 0.5) / (frequency + 0.5))


def stem(token: str) -> str:
    """A crude stemmer: enough to match 'generated'/'generate' and 'inventions'/'invention'."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(token) > len(suffix) + 3 and token.endswith(suffix):
            return token[: -len(suffix)]
    return token


def sentence_bounds(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of a cleaned reading."""
    cuts = [0] + [m.end() for m in SENTENCE_END.finditer(text)] + [len(text)]
    return [(a, a + len(text[a:b].rstrip())) for a, b in zip(cuts, cuts[1:]) if text[a:b].strip()]


def enclosing_sentence(text: str, start: int, end: int, max_words: int = 80) -> tuple[int, int]:
    """The whole sentence(s) around a span, or the span itself when they run past `max_words`
    (a sentence that long is a list or a table row the splitter could not cut)."""
    bounds = sentence_bounds(text)
    lo = next((a for a, b in bounds if a <= start < b), start)
    hi = next((b for a, b in bounds if a < end <= b), end)
    if len(text[lo:hi].split()) > max_words:
        return start, end
    return _trim_edges(text, lo, hi)  # a list item's bullet is not part of its sentence


def is_label(piece: str) -> bool:
    """A few words with no closing punctuation: a byline ("By LIN Yuchen") or a sub-head."""
    return len(piece.split()) < TINY_WORDS and not piece.rstrip().endswith(TERMINAL)


# A hard line break (list item, code line, block) or a table cell; not the breaks after a line
# that ends in a hyphen ("Hydro-Elec-" + "\n\n" + "tric"): that is one word the page broke.
_BOUNDARY = re.compile(r"(?<![-\n])\n+| \| ")
_PAIRS = {"(": ")", "[": "]", "{": "}", "“": "”", "‘": "’"}
_EDGE_PUNCT = ",;:"
_BULLETS = "•◦▪-*–"


def clip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """A reader's span made presentable: inside one block (cut at the first hard line break or
    table cell boundary, keeping the first part that has words), whole words at both ends, and
    no unpaired bracket or dangling comma at either end. Unchanged when nothing would be left."""
    pieces, at = [], start
    for m in _BOUNDARY.finditer(text, start, end):
        pieces.append((at, m.start()))
        at = m.end()
    pieces.append((at, end))
    lo, hi = next(((a, b) for a, b in pieces if any(c.isalnum() for c in text[a:b])), (start, end))
    while lo > 0 and text[lo - 1].isalnum() and text[lo].isalnum():
        lo -= 1
    while hi < len(text) and text[hi - 1].isalnum() and text[hi].isalnum():
        hi += 1
    lo, hi = _trim_edges(text, lo, hi)
    return (lo, hi) if lo < hi else (start, end)


def _trim_edges(text: str, lo: int, hi: int) -> tuple[int, int]:
    while lo < hi:
        span = text[lo:hi]
        if span[0].isspace() or span[0] in _EDGE_PUNCT or (span[0] in _PAIRS and _PAIRS[span[0]] not in span) \
                or (span[0] in _BULLETS and span[1:2].isspace()):
            lo += 1
        elif span[-1].isspace() or span[-1] in _EDGE_PUNCT or _unopened(span):
            hi -= 1
        else:
            break
    return lo, hi


def _unopened(span: str) -> bool:
    """Whether the span ends in a closing bracket it never opened."""
    opener = next((o for o, c in _PAIRS.items() if c == span[-1]), None)
    return opener is not None and span.count(opener) < span.count(span[-1])
