"""The trained reader as the service calls it (qa/read/neural.py): what it is shown of each
passage, and that every span it returns is exact passage text."""

from __future__ import annotations

import pytest

from qa.read.neural import NeuralReader, _shown
from qa.types import Hit, Passage, TermWeights

ARTICLE = (
    "By Jane Okafor\n"
    "The city council approved the new river bridge on Monday after two years of debate. "
    "Mayor Tom Reyes said construction would start in spring and cost 40 million dollars."
)


def _hit(text: str, headings: str = "", rank: int = 0) -> Hit:
    passage = Passage("p1", "d1", headings, "text", 0, len(text), text, tuple(range(len(text))), headings)
    return Hit(passage, 1.0, rank, 0.5, 1.0, TermWeights({}, 1.0))


def test_plain_passage_is_shown_as_it_is() -> None:
    text = "The Nile flows north through Egypt."
    assert _shown(_hit(text, "Rivers").passage) == (text, None)


def test_byline_passage_is_shown_under_its_heading_and_maps_back() -> None:
    shown, origin = _shown(_hit(ARTICLE, "City Approves River Bridge / News").passage)
    assert shown.startswith("City Approves River Bridge. News. By Jane Okafor. The city council")
    assert len(origin) == len(shown)
    # Every character taken from the passage points at itself; the heading points nowhere.
    assert all(ARTICLE[i] == ch for ch, i in zip(shown, origin) if i >= 0 and ARTICLE[i] != "\n")
    assert origin[: len("City Approves River Bridge. News. ")] == [-1] * len("City Approves River Bridge. News. ")


@pytest.fixture(scope="module")
def reader() -> NeuralReader:
    return NeuralReader(threads=2)


@pytest.mark.slow
def test_byline_answers_who_wrote_the_article(reader: NeuralReader) -> None:
    hit = _hit(ARTICLE, "City Approves River Bridge")
    spans = reader.read("Who wrote the article about the river bridge?", [hit])
    assert spans[0].hit.passage.text[spans[0].start : spans[0].end] == "Jane Okafor"


@pytest.mark.slow
def test_spans_never_come_from_the_shown_heading(reader: NeuralReader) -> None:
    hit = _hit(ARTICLE, "Bridge Built by Acme Corporation")
    question = "Which company built the bridge?"
    shown, _ = _shown(hit.passage)
    # The model does pick the heading's words; the reader must drop them, as they are not the passage's.
    assert "Acme Corporation" in {shown[c.start : c.end] for c in reader._model.predict(question, [shown])}
    for span in reader.read(question, [hit]):
        assert 0 <= span.start < span.end <= len(ARTICLE)


def _counting(reader: NeuralReader, monkeypatch) -> list[int]:
    """Record how many contexts each model call reads."""
    calls: list[int] = []
    predict = reader._model.predict

    def counted(question, contexts, **kwargs):
        calls.append(len(contexts))
        return predict(question, contexts, **kwargs)

    monkeypatch.setattr(reader._model, "predict", counted)
    return calls


NILE = "The Nile flows north through Egypt and empties into the Mediterranean Sea."


@pytest.mark.slow
def test_a_sure_answer_in_the_first_passages_skips_the_rest(reader: NeuralReader, monkeypatch) -> None:
    hits = [_hit(ARTICLE, rank=0), _hit(NILE, rank=1)]
    monkeypatch.setattr(reader, "first", 1)
    monkeypatch.setattr(reader, "sure", 0.0)  # any span is sure enough
    calls = _counting(reader, monkeypatch)
    spans = reader.read("Who is the mayor?", hits)
    assert calls == [1] and {s.hit.rank for s in spans} == {0}


@pytest.mark.slow
def test_without_a_sure_answer_every_passage_is_read_as_in_one_pass(reader: NeuralReader, monkeypatch) -> None:
    hits = [_hit(ARTICLE, rank=0), _hit(NILE, rank=1)]
    question = "Where does the Nile flow?"
    at_once = [(s.hit.rank, s.start, s.end, s.score) for s in reader.read(question, hits)]
    monkeypatch.setattr(reader, "first", 1)
    monkeypatch.setattr(reader, "sure", 1.0)
    calls = _counting(reader, monkeypatch)
    in_two = [(s.hit.rank, s.start, s.end, s.score) for s in reader.read(question, hits)]
    assert calls == [1, 1] and in_two == at_once
