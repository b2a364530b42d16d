"""QAService wiring with the fake encoder: seeding, refresh on change, validation, citations."""

import pytest

from qa.config import Settings
from qa.errors import InvalidInput, NotFound
from qa.service import QAService
from qa.types import Span
from tests.conftest import FirstWordsReader, HashEncoder


@pytest.fixture
def service(tmp_path, docs_dir, encoder):
    settings = Settings(data_dir=tmp_path / "data", seeds_dir=docs_dir, reader="heuristic")
    return QAService(settings, encoder=encoder, reader=FirstWordsReader())


def test_empty_data_dir_is_seeded_then_left_alone(service, docs_dir, encoder):
    report = service.ensure_seeded(docs_dir)
    assert report.added == 2 and service.health()["documents"] == 2
    embedded = encoder.texts_encoded
    again = service.ensure_seeded(docs_dir)
    assert again.embedded == 0 and encoder.texts_encoded == embedded


def test_changed_seed_file_is_reindexed_on_start(service, docs_dir):
    service.ensure_seeded(docs_dir)
    (docs_dir / "vidu.md").write_text("# Vidu\n\nVidu now makes videos of 64 seconds.\n")
    report = service.ensure_seeded(docs_dir)
    assert report.added == 1 and report.removed == 1
    texts = [service.document(d["doc_id"]).text for d in service.documents()]
    assert any("64 seconds" in t for t in texts) and not any("32 seconds" in t for t in texts)


def test_model_change_rebuilds_instead_of_answering_wrong(tmp_path, docs_dir, encoder):
    settings = Settings(data_dir=tmp_path / "data", seeds_dir=docs_dir)
    QAService(settings, encoder=encoder, reader=FirstWordsReader()).ensure_seeded(docs_dir)

    class NewModel(HashEncoder):
        name = "new-model"
        dim = 32

    fresh = QAService(settings, encoder=NewModel(), reader=FirstWordsReader())
    report = fresh.ensure_seeded(docs_dir)
    assert report.embedded > 0 and fresh.health()["model"] == "new-model"
    assert "model changed from test-hash to new-model" in report.reembedded
    assert fresh.ask("Vidu?").answers  # the 32-d question vector fits the rebuilt index


def test_a_collection_of_another_model_is_reported_when_loaded(tmp_path, docs_dir, encoder, caplog):
    settings = Settings(data_dir=tmp_path / "data", seeds_dir=docs_dir)
    QAService(settings, encoder=encoder, reader=FirstWordsReader()).ensure_seeded(docs_dir)

    class NewModel(HashEncoder):
        name = "new-model"

    with caplog.at_level("WARNING", logger="verbatim"):
        QAService(settings, encoder=NewModel(), reader=FirstWordsReader()).documents()
    assert "embedded with test-hash, questions now with new-model" in caplog.text


def test_citations_point_at_the_exact_document_characters(service, docs_dir):
    service.ensure_seeded(docs_dir)
    result = service.ask("How long are Vidu videos?", top_k=5)
    assert result.answer == result.answers[0].text
    for answer in result.answers:
        src = answer.source
        assert service.document(src.doc_id).text[src.start : src.end] == answer.text
        assert src.context[src.start - src.context_start : src.end - src.context_start] == answer.text


def test_abstains_below_threshold(tmp_path, docs_dir, encoder):
    settings = Settings(data_dir=tmp_path / "data", seeds_dir=docs_dir, abstain_threshold=0.95)
    service = QAService(settings, encoder=encoder, reader=FirstWordsReader())
    service.ensure_seeded(docs_dir)
    result = service.ask("anything")
    assert result.answer is None and result.answers  # weak candidates are still listed


@pytest.mark.parametrize("question", ["", "   ", "x" * 1001])
def test_bad_questions(service, docs_dir, question):
    service.ensure_seeded(docs_dir)
    with pytest.raises(InvalidInput):
        service.ask(question)


def test_bad_top_k_and_unknown_collection(service, docs_dir):
    service.ensure_seeded(docs_dir)
    with pytest.raises(InvalidInput):
        service.ask("ok?", top_k=0)
    with pytest.raises(NotFound):
        service.ask("ok?", collection="nothing-here")
    with pytest.raises(NotFound):
        service.document("no-such-doc")


class WordReader:
    """Finds one fixed word in every passage that has it, each with score 0.5."""

    name = "word"

    def __init__(self, word: str) -> None:
        self.word = word

    def read(self, question, hits, unit="span"):
        found = [(h, h.passage.text.find(self.word)) for h in hits]
        return [Span(h, i, i + len(self.word), 0.5) for h, i in found if i >= 0]


def test_same_answer_in_several_passages_is_one_answer_with_every_citation(tmp_path, encoder):
    docs = tmp_path / "two"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\nShengshu built Vidu in Beijing.\n")
    (docs / "b.md").write_text("# B\n\nVidu was shown by Shengshu at a forum.\n")
    service = QAService(Settings(data_dir=tmp_path / "data"), encoder=encoder, reader=WordReader("Shengshu"))
    service.index([docs])
    result = service.ask("Who built Vidu?", top_k=3)
    assert len(result.answers) == 1
    answer = result.answers[0]
    assert answer.score == 0.75  # two independent 0.5 chances
    assert {c.title for c in answer.sources} == {"A", "B"}
    for c in answer.sources:
        assert service.document(c.doc_id).text[c.start : c.end] == "Shengshu"
    assert result.to_dict()["answers"][0]["sources"][0] == result.to_dict()["answers"][0]["source"]


class TwiceReader(WordReader):
    """The same word found twice in one passage, as two spans of one sentence become when the
    reader widens them to it."""

    def read(self, question, hits, unit="span"):
        return [Span(span.hit, span.start, span.end, score) for span in super().read(question, hits, unit) for score in (0.5, 0.4)]


def test_one_passage_counts_once_toward_an_answers_score(tmp_path, encoder):
    docs = tmp_path / "one"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\nShengshu built Vidu in Beijing.\n")
    service = QAService(Settings(data_dir=tmp_path / "data"), encoder=encoder, reader=TwiceReader("Shengshu"))
    service.index([docs])
    answer = service.ask("Who built Vidu?", top_k=3).answers[0]
    assert answer.score == 0.5  # one passage, its best span: not 1 - 0.5 * 0.6
    assert len(answer.sources) == 1


def test_start_up_refresh_never_widens_to_a_files_folder(tmp_path, docs_dir, encoder):
    settings = Settings(data_dir=tmp_path / "data", collection="mine")
    service = QAService(settings, encoder=encoder, reader=FirstWordsReader())
    service.index([docs_dir / "vidu.md"], "mine")
    (docs_dir / "vidu.md").write_text("# Vidu\n\nVidu now makes videos of 64 seconds.\n")
    report = service.ensure_seeded(tmp_path / "no-seeds-here")
    assert report.added == 1 and report.removed == 1
    assert [d["title"] for d in service.documents("mine")] == ["Vidu"]  # hydro.txt beside it stays out


def test_the_reranker_decides_what_the_reader_reads(tmp_path, docs_dir, encoder):
    """The slot between retrieve and read: whatever the reranker keeps is all the reader sees."""
    keep_hydro = KeepOnly(lambda hit, service: "hydro" in service.document(hit.passage.doc_id).path)
    service = QAService(Settings(data_dir=tmp_path / "data"), encoder=encoder, reader=FirstWordsReader(), reranker=keep_hydro)
    keep_hydro.service = service
    service.index([docs_dir])
    result = service.ask("How long can Vidu videos be?", top_k=5)
    cited = {service.document(a.source.doc_id).path for a in result.answers}
    assert result.answers and all("hydro" in path for path in cited)
    assert keep_hydro.questions == [["How long can Vidu videos be?"]]
    assert all("hydro" in service.document(h.passage.doc_id).path for h in service.retrieve_batch(["Vidu"], 5)[0])


class KeepOnly:
    """A reranker that keeps the hits `wanted(hit, service)` approves, and notes what it was asked."""

    def __init__(self, wanted) -> None:
        self.wanted, self.service, self.questions = wanted, None, []

    def rerank(self, questions, hits):
        self.questions.append(list(questions))
        return [[h for h in found if self.wanted(h, self.service)] for found in hits]


def test_a_follow_up_searches_its_conversations_topic(tmp_path, encoder):
    """"How long should the dough be kneaded?" fits both pages equally; the conversation's first
    question decides which one is read first, each way round, and the reader reads the
    follow-up as sent."""
    from qa.conversation import Turn

    docs = tmp_path / "kitchen"
    docs.mkdir()
    (docs / "bread.md").write_text("# Sourdough bread\n\nKnead the dough for ten minutes, then let it rise overnight.\n")
    (docs / "pasta.md").write_text("# Fresh pasta\n\nKnead the dough for three minutes, then roll it out thin.\n")
    service = QAService(Settings(data_dir=tmp_path / "data"), encoder=encoder, reader=FirstWordsReader())
    service.index([docs])
    follow_up = "How long should the dough be kneaded?"
    for topic, title in [("How do I bake sourdough bread?", "Sourdough bread"), ("How do I make fresh pasta?", "Fresh pasta")]:
        rewrite, result = service.chat([Turn("user", topic), Turn("assistant", "..."), Turn("user", follow_up)])
        assert result.question == rewrite.query == follow_up
        assert result.retrieved[0].passage.doc_id == result.answers[0].source.doc_id
        assert result.answers[0].source.title == title
