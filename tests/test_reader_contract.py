"""The Reader contract (`qa.read.base`), one suite over every reader: the trained one and the
heuristic fallback. Whatever a reader finds, its spans must be citable: inside a given hit's
passage, scored in [0, 1], best first, and the same for the same input."""

from __future__ import annotations

import pytest

from qa.read.base import Reader
from qa.text import sentence_bounds, tokenize
from qa.types import Hit, Passage, TermWeights

pytestmark = pytest.mark.slow
TEXTS = [
    "Vidu is a text-to-video model. It can generate videos up to 32 seconds long with a single click.",
    "The Lower Sesan 2 dam produces 1,998 gigawatt hours of electricity a year.",
    "By Jane Okafor\nThe river bridge will cost 40 million dollars and open in spring.",
]


@pytest.fixture(scope="module", params=["neural", "heuristic"])
def reader(request) -> Reader:
    if request.param == "neural":
        from qa.read.neural import NeuralReader, model_available

        if not model_available():
            pytest.skip("the trained reader is not installed")
        return NeuralReader(threads=1)
    from qa.read.heuristic import HeuristicReader

    return HeuristicReader()


def hits() -> list[Hit]:
    words = {t for text in TEXTS for t in tokenize(text)}
    weights = TermWeights({w: 1.0 + len(w) / 10 for w in words}, 3.0)
    found = []
    for rank, text in enumerate(TEXTS):
        passage = Passage(f"p{rank}", f"d{rank}", "", "text", 0, len(text), text, tuple(range(len(text))), "")
        found.append(Hit(passage, 1.0 - rank / 10, rank, 0.5, 1.0, weights))
    return found


def test_is_a_reader(reader):
    assert isinstance(reader.name, str) and reader.name
    assert reader.read("How long can Vidu videos be?", []) == []


@pytest.mark.parametrize("question", ["How long can Vidu videos be?", "How much will the bridge cost?", "Who wrote it?"])
def test_spans_are_citable_and_ordered(reader, question):
    given = hits()
    spans = reader.read(question, given)
    assert spans, "every reader proposes candidates over passages that share the question's words"
    assert all(any(s.hit is h for h in given) for s in spans)
    assert all(0 <= s.start < s.end <= len(s.hit.passage.text) for s in spans)
    assert all(s.text.strip() == s.text and s.text for s in spans)
    assert all(0.0 <= s.score <= 1.0 for s in spans)
    assert [s.score for s in spans] == sorted((s.score for s in spans), reverse=True)


def test_the_same_input_reads_the_same(reader):
    first = [(s.hit.rank, s.start, s.end, s.score) for s in reader.read("How long can Vidu videos be?", hits())]
    again = [(s.hit.rank, s.start, s.end, s.score) for s in reader.read("How long can Vidu videos be?", hits())]
    assert first == again


def test_sentence_answers_are_whole_sentences_of_their_passage(reader):
    """`unit="sentence"`: every span starts and ends where a sentence of its passage does, and
    the spans stay citable and ordered."""
    spans = reader.read("How long can Vidu videos be?", hits(), "sentence")
    assert spans
    for s in spans:
        bounds = sentence_bounds(s.hit.passage.text)
        assert s.start in {a for a, _ in bounds} and s.end in {b for _, b in bounds}, s.text
    assert [s.score for s in spans] == sorted((s.score for s in spans), reverse=True)
    assert len({(s.hit.rank, s.start, s.end) for s in spans}) == len(spans), "a sentence is proposed once"
