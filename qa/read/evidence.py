"""What speaks for a span before and beside the model: how much of the question's weight a
text covers, and whether a span is the kind of thing the question asks for. Both readers use
these (the neural reader feeds them to its calibrator)."""

from __future__ import annotations

import re

from qa.text import STOPWORDS, stem, tokenize
from qa.types import TermWeights


def coverage(question: str, text: str, weights: TermWeights) -> float:
    """Share of the question's idf mass whose terms occur in `text`: the main evidence that a
    passage is about what was asked. A rare question word missing from the corpus pulls it down."""
    terms = {stem(t) for t in tokenize(question) if t not in QUESTION_WORDS}
    if not terms:
        return 0.0
    present = {stem(t) for t in tokenize(text)}
    mass = {t: weights.weight(t) for t in terms}
    return sum(w for t, w in mass.items() if t in present) / sum(mass.values())


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


# "What is a generator?", "What does os.makedirs do?", "Define idempotent": the answer is the
# sentence that defines, not a fragment of it. "What is the capital of France?" or "What is the
# largest state?" ask for a thing, so a term with a function word or a superlative is not one.
_DEFINITIONAL = re.compile(
    r"^\s*(?:what (?:is|are) (?:an? |the )?(?P<term>[^?]+?)|what (?:does|do) [^?]+? (?:do|mean)|"
    r"(?:define|explain) [^?]+?)\s*\??\s*$",
    re.IGNORECASE,
)
_NOT_A_TERM = re.compile(r"\b(?:" + "|".join(sorted(STOPWORDS)) + r"|most|least|first|last|\w{3,}est)\b", re.IGNORECASE)


def is_definitional(question: str) -> bool:
    """Whether the question asks what something is or does (its answer is a defining sentence)."""
    m = _DEFINITIONAL.match(question)
    if m is None:
        return False
    term = m.group("term")
    return term is None or (len(term.split()) <= 4 and not _NOT_A_TERM.search(term))


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
