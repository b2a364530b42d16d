"""`qa eval` without the real models: metric functions against hand-computed values, the loaders
on small cuts of the real files, gold-passage mapping, gates and their exit codes, the report."""

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from qa.cli import evaluate, main
from qa.config import Settings
from qa.errors import InvalidInput
from qa.eval import data as eval_data
from qa.eval import run as eval_run
from qa.store import local as store
from qa.eval.metrics import (
    Prediction, answer_metrics, at_threshold, exact_match, f1_score, failed_gates, ndcg_at_k, normalize_answer,
    recall_at_k, reciprocal_rank, reliability, retrieval_metrics, summarize, threshold_sweep,
)
from qa.service import QAService
from tests.conftest import DATA, FirstWordsReader, HashEncoder

CUTS = DATA / "eval"


@pytest.fixture
def service(tmp_path):
    return QAService(Settings(data_dir=tmp_path / "data", reader="heuristic"), encoder=HashEncoder(), reader=FirstWordsReader())


# --- SQuAD's metrics ----------------------------------------------------------------------------


def test_normalisation_is_squads():
    assert normalize_answer("The  Denver Broncos!") == "denver broncos"
    assert normalize_answer("an apple, a day") == "apple day"


def test_exact_match_and_f1_take_the_best_gold():
    assert exact_match("an Apple.", ["apple"]) == 1.0
    assert f1_score("Denver Broncos team", ["Denver Broncos"]) == pytest.approx(0.8)  # P 2/3, R 1
    assert f1_score("Broncos", ["Carolina Panthers", "Denver Broncos"]) == pytest.approx(2 / 3)  # P 1, R 1/2
    assert f1_score("Panthers", ["Carolina Panthers", "Panthers"]) == 1.0


def test_no_gold_answer_means_abstaining_is_right():
    assert exact_match(None, []) == 1.0 and f1_score(None, []) == 1.0
    assert exact_match("Denver", []) == 0.0 and f1_score("Denver", []) == 0.0
    assert f1_score(None, ["Denver"]) == 0.0


def test_retrieval_metrics_hand_computed():
    ranked = ["a", "b", "c", "d"]
    assert recall_at_k(ranked, {"c"}, 1) == 0.0 and recall_at_k(ranked, {"c"}, 3) == 1.0
    assert recall_at_k(ranked, {"a", "z"}, 5) == 0.5
    assert reciprocal_rank(ranked, {"c"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(ranked, {"d"}, k=3) == 0.0
    ideal = 2 + 1 / math.log2(3)
    assert ndcg_at_k(["a", "b"], {"b": 1, "c": 2}) == pytest.approx((1 / math.log2(3)) / ideal)
    assert ndcg_at_k(["c", "b"], {"b": 1, "c": 2}) == pytest.approx(1.0)


def _p(qid, golds, top, score, served=True, **kw):
    return Prediction(qid, f"q{qid}", tuple(golds), top if served else None, top, score, **kw)


# Four questions: right (0.9), wrong (0.5), unanswerable answered weakly (0.3) and strongly (0.6).
FOUR = [_p("1", ["Denver"], "Denver", 0.9), _p("2", ["Carolina"], "Denver", 0.5),
        _p("3", [], "Denver", 0.3, served=False), _p("4", [], "Denver", 0.6)]


def test_answer_metrics_split_hasans_noans_and_abstention():
    m = answer_metrics(FOUR)
    assert m["exact_match"] == 0.5 and m["answer_rate"] == 0.75  # q1 right, q3 rightly abstained
    assert m["has_ans"] == {"count": 2, "exact_match": 0.5, "f1": 0.5}
    assert m["no_ans"] == {"count": 2, "accuracy": 0.5}
    assert m["abstention"] == {"precision": 1.0, "recall": 0.5}


def test_threshold_sweep_finds_the_best_threshold():
    sweep = threshold_sweep(FOUR)
    # t <= 0.3: F1 1/4; 0.5: (1+0+1+0)/4; 0.6: (1+0+1+0)/4; 0.9: (1+0+1+1)/4; above: 2/4
    assert sweep["best"] == {"threshold": 0.9, "answer_rate": 0.25, "f1": 0.75, "exact_match": 0.75, "f1_answered": 1.0}
    by_t = {p["threshold"]: p for p in sweep["curve"]}
    assert by_t[0.0]["f1"] == 0.25 and by_t[0.0]["answer_rate"] == 1.0
    assert by_t[1.0]["answer_rate"] == 0.0 and by_t[1.0]["f1_answered"] is None


def test_sweep_matches_brute_force_on_random_scores():
    rng = np.random.default_rng(0)
    preds = [_p(str(i), ["x"] if rng.random() < 0.6 else [], "x" if rng.random() < 0.5 else "y", float(rng.random()))
             for i in range(500)]
    best = threshold_sweep(preds)["best"]
    brute = max(at_threshold(preds, sorted({p.top_score for p in preds} | {0.0})), key=lambda p: p["f1"])
    assert best["f1"] == brute["f1"]


def test_reliability_bins_and_calibration_error():
    rel = reliability(FOUR)
    assert [b["count"] for b in rel["bins"]] == [1, 1, 1, 1]
    # |0 - 0.3|, |0 - 0.5|, |0 - 0.6|, |1 - 0.9| averaged
    assert rel["ece"] == pytest.approx((0.3 + 0.5 + 0.6 + 0.1) / 4, abs=1e-4)


def test_retrieval_metrics_skip_questions_without_gold():
    preds = [Prediction("1", "q", (), ranked=("a", "b"), relevant={"b": 1}), Prediction("2", "q", (), ranked=("c",))]
    m = retrieval_metrics(preds)
    assert m["questions"] == 1 and m["recall@1"] == 0.0 and m["recall@5"] == 1.0 and m["mrr@10"] == 0.5


def test_gates_name_each_figure_that_fell_short():
    summary = {"answers": {"f1": 0.6, "exact_match": 0.5}, "retrieval": {"recall@5": 0.95}}
    assert failed_gates(summary, {"f1": 0.5, "recall@5": 0.9}) == []
    failures = failed_gates(summary, {"f1": 0.7, "exact_match": 0.4, "ndcg@10": 0.5})
    assert len(failures) == 2 and failures[0].startswith("f1 0.6000 is below") and "ndcg@10 was not measured" in failures[1]


# --- loaders ------------------------------------------------------------------------------------


def test_squad_v11_cut_one_document_per_article_with_gold_ranges():
    s = eval_data.load(CUTS / "squad-v1.1-dev-cut.json")
    assert s.kind == "squad1" and len(s.questions) == 95 and [c.title for c in s.corpus] == ["Super Bowl 50", "Warsaw"]
    texts = {c.key: c.text for c in s.corpus}
    assert texts["Super Bowl 50"].startswith("# Super Bowl 50\n\nSuper Bowl 50 was")
    for q in s.questions:
        assert q.answers and q.gold
        assert all(texts[key][a:b] in q.answers for key, a, b in q.gold)


def test_squad_v20_cut_honours_is_impossible():
    s = eval_data.load(CUTS / "squad-v2.0-dev-cut.json")
    assert s.kind == "squad2" and len(s.questions) == 17
    assert sum(not q.answers for q in s.questions) == 9 and all(not q.gold for q in s.questions if not q.answers)


def test_beir_folder_and_split_file():
    folder = CUTS / "squad-retrieval-cut"
    s = eval_data.load(folder)
    assert s.kind == "beir" and s.retrieval_only and len(s.questions) == 7 and len(s.corpus) == 20
    assert all(q.relevant for q in s.questions)
    assert eval_data.load(folder / "qrels" / "test.tsv").questions == s.questions


def test_jsonl_and_its_errors(tmp_path):
    s = eval_data.load(DATA / "seed-dev.jsonl")
    assert s.kind == "jsonl" and len(s.questions) == 25 and sum(not q.answers for q in s.questions) == 3
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1", "question": "Who?", "answers": ["x"]}\n{"id": "2"}\n')
    with pytest.raises(InvalidInput, match="line 2"):
        eval_data.load(bad)
    with pytest.raises(InvalidInput, match="no such file"):
        eval_data.load(tmp_path / "missing.json")


def test_conversations_each_turn_after_the_turns_before_it_with_gold_answers():
    s = eval_data.load(CUTS / "conversations-cut.jsonl")
    assert s.kind == "conversations" and len(s.questions) == 6 and [c.title for c in s.corpus] == ["Acme Bakery", "Keeping basil"]
    texts = {c.key: c.text for c in s.corpus}
    assert "1998 after training in Paris.\u0085The bakery" in texts["Acme Bakery"]  # one line, not split there
    turns = {q.qid: q for q in s.questions}
    assert turns["D1_q#0"].history == () and not turns["D1_q#2"].answers and not turns["D1_q#2"].gold
    # The unanswerable turn adds its question but no assistant message, as the widget sends it.
    assert turns["D1_q#3"].history == (("user", "Who founded Acme Bakery?"), ("assistant", "Jane Doe"),
                                       ("user", "When did she open it?"), ("assistant", "1998"),
                                       ("user", "Does it sell wedding cakes?"))
    for q in s.questions:
        assert all(texts[key][a:b] in q.answers for key, a, b in q.gold) and bool(q.gold) == bool(q.answers)


def test_conversations_errors_name_the_line(tmp_path):
    bad = tmp_path / "dialogues.jsonl"
    good = (CUTS / "conversations-cut.jsonl").read_text(encoding="utf-8").split("\n")[0]
    bad.write_text(good + "\n" + '{"id": "x", "turns": [{"id": "t", "question": "Why?"}]}\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match="line 2: expected a dialogue"):
        eval_data.load(bad)


def test_sample_is_reproducible_and_keeps_the_corpus():
    s = eval_data.load(CUTS / "squad-v1.1-dev-cut.json")
    a, b = s.sample(10, seed=3), s.sample(10, seed=3)
    assert a.questions == b.questions and len(a.questions) == 10 and a.fingerprint == s.fingerprint
    assert s.sample(10, seed=4).questions != a.questions


# --- running ------------------------------------------------------------------------------------


def test_corpus_from_file_maps_gold_passages_and_is_cached(service):
    s = eval_data.load(CUTS / "squad-v1.1-dev-cut.json")
    first = eval_run.build_corpus(service, s)
    assert first.collection == eval_run.corpus_collection(s) and first.report.embedded > 0
    for q in s.questions:
        gold = eval_run.gold_passages(q, first)
        assert gold, q.question
    again = eval_run.build_corpus(service, s)
    assert again.report.embedded == 0 and again.collection == first.collection


def test_in_process_predictions_carry_citations_and_ranks(service):
    s = eval_data.load(CUTS / "squad-v1.1-dev-cut.json").sample(8, seed=0)
    batch, name, corpus = eval_run.prepare(service, s, "default", True, 3, None)
    preds, seconds = eval_run.run(batch, s.questions, 4)
    assert len(preds) == 8 and seconds > 0
    assert all(p.citation_exact for p in preds) and all(len(p.ranked) <= 20 and p.relevant for p in preds)
    summary = summarize(preds, seconds)
    assert summary["citations"]["exact"] == 1.0 and summary["retrieval"]["recall@20"] > 0


def test_conversation_turns_are_asked_as_chat_asks_them(service):
    class Recording(FirstWordsReader):
        asked: list[str] = []

        def read(self, question, hits, unit="span"):
            self.asked.append(question)
            return super().read(question, hits, unit)

    service._reader = reader = Recording()
    s = eval_data.load(CUTS / "conversations-cut.jsonl")
    batch, name, corpus = eval_run.prepare(service, s, "default", True, 3, None)
    preds = {p.qid: p for p in eval_run.run(batch, s.questions, 4)[0]}
    assert preds["D1_q#0"].query is None  # a first turn is asked as it is
    followup = next(q for q in s.questions if q.qid == "D1_q#1")
    rewrite, _ = service.chat(eval_run._turns(followup), 3, name)
    assert rewrite.query == "When did Jane Doe open it?" == preds["D1_q#1"].query
    assert "When did Jane Doe open it?" in reader.asked and "When did she open it?" not in reader.asked
    assert all(p.relevant for p in preds.values() if p.golds)


def test_http_replies_are_checked_against_the_served_text():
    q = eval_data.EvalQuestion("1", "Who?", ("Denver Broncos",))
    body = {"answer": "Denver Broncos", "took_ms": 5.0,
            "answers": [{"text": "Denver Broncos", "score": 0.8, "source": {"doc_id": "d", "passage_id": "p", "start": 4, "end": 18}}]}
    good = eval_run._from_json(q, body, 12.0, lambda doc_id: "The Denver Broncos won")
    assert good.citation_exact and good.em == 1.0 and good.latency_ms == 12.0
    off = eval_run._from_json(q, body, 12.0, lambda doc_id: "XThe Denver Broncos won")
    assert off.citation_exact is False


def test_tune_writes_the_threshold_the_service_uses(tmp_path):
    data = tmp_path / "data"
    summary = {"questions": 4, "answers": answer_metrics(FOUR), "threshold": threshold_sweep(FOUR)}
    assert eval_run.tune(data, "default", summary, "four.jsonl") == 0.9
    assert store.read_settings(data, "default")["tuned"]["file"] == "four.jsonl"
    assert QAService(Settings(data_dir=data), encoder=HashEncoder(), reader=FirstWordsReader()).abstain_threshold() == 0.9
    explicit = QAService(Settings(data_dir=data, abstain_threshold=0.3), encoder=HashEncoder(), reader=FirstWordsReader())
    assert explicit.abstain_threshold() == 0.3
    answerable_only = {"questions": 1, "answers": answer_metrics(FOUR[:2]), "threshold": threshold_sweep(FOUR[:2])}
    with pytest.raises(InvalidInput, match="abstain"):
        eval_run.tune(data, "default", answerable_only, "x")


class UnitsReader(FirstWordsReader):
    """Records the answer unit each question was read with."""

    def __init__(self) -> None:
        self.units: list[str] = []

    def read(self, question, hits, unit="span"):
        self.units.append(unit)
        return super().read(question, hits, unit)


def test_a_unit_tuned_with_the_threshold_is_the_collections_own(tmp_path):
    """`qa eval --tune --answer-unit sentence` stores the unit beside the threshold it measured;
    the collection's questions are then read in sentences, unless the server's own setting or the
    request names a unit. Other collections keep the default."""
    data, docs = tmp_path / "data", tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\nShengshu built Vidu in Beijing. It makes videos.\n")
    summary = {"questions": 4, "answers": answer_metrics(FOUR), "threshold": threshold_sweep(FOUR)}
    eval_run.tune(data, "long", summary, "four.jsonl", "sentence")
    eval_run.tune(data, "short", summary, "four.jsonl")
    assert store.read_settings(data, "long")["answer_unit"] == "sentence"
    assert "answer_unit" not in store.read_settings(data, "short")
    reader = UnitsReader()
    service = QAService(Settings(data_dir=data), encoder=HashEncoder(), reader=reader)
    for name in ("long", "short"):
        service.index([docs], collection=name)
        service.ask("Who built Vidu?", 1, name)
    service.ask("Who built Vidu?", 1, "long", unit="span")
    assert reader.units == ["sentence", "span", "span"]
    server_says = QAService(Settings(data_dir=data, answer_unit="span"), encoder=HashEncoder(), reader=reader)
    assert server_says.answer_unit("long") == "span" and service.answer_unit("long") == "sentence"


# --- the command ----------------------------------------------------------------------------------


@pytest.fixture
def qa_eval(tmp_path, monkeypatch):
    """`qa eval` with the hashing encoder and the fake reader behind it."""
    monkeypatch.setenv("QA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(evaluate, "service_for", lambda s: QAService(s, encoder=HashEncoder(), reader=FirstWordsReader()))
    return lambda *args: CliRunner().invoke(main, ["eval", *map(str, args)])


def test_gates_set_the_exit_code(qa_eval):
    beir = CUTS / "squad-retrieval-cut"
    passed = qa_eval(beir, "--min-recall-at", "20=0.1", "--min-ndcg", "0.01")
    assert passed.exit_code == 0, passed.output
    assert "recall@20" in passed.output and "nDCG@10" in passed.output
    failed = qa_eval(beir, "--min-recall-at", "1=1.01", "--min-f1", "50")
    assert failed.exit_code == 1
    assert "Gate failed: recall@1" in failed.output and "Gate failed: f1 was not measured" in failed.output
    assert qa_eval(beir, "--min-recall-at", "3=0.5").exit_code == 2


def test_report_files_and_url_refusals(qa_eval, tmp_path):
    out = tmp_path / "report"
    result = qa_eval(CUTS / "squad-v2.0-dev-cut.json", "--corpus-from-file", "--report", out, "--sweep", "--tune")
    assert result.exit_code == 0, result.output
    assert "NoAns accuracy" in result.output and "threshold  answered%" in result.output
    tuned = store.read_settings(tmp_path / "data", "default")
    assert "Tuned: abstain_threshold" in result.output and 0.0 <= tuned["abstain_threshold"] <= 1.0
    assert "answer_unit" not in tuned  # none was asked for: the server's default stays the collection's
    sentences = qa_eval(CUTS / "squad-v2.0-dev-cut.json", "--corpus-from-file", "--tune", "--answer-unit", "sentence")
    assert "and answer_unit 'sentence' stored" in sentences.output, sentences.output
    assert store.read_settings(tmp_path / "data", "default")["answer_unit"] == "sentence"
    for name in ("metrics.json", "predictions.jsonl", "report.md", "accuracy_coverage.png", "reliability.png",
                 "recall_at_k.png", "latency.png"):
        assert (out / name).stat().st_size > 0, name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["questions"] == 17 and metrics["meta"]["format"] == "squad2"
    assert len((out / "predictions.jsonl").read_text().splitlines()) == 17
    refused = qa_eval(CUTS / "squad-v2.0-dev-cut.json", "--corpus-from-file", "--url", "http://127.0.0.1:9")
    assert refused.exit_code == 1 and "Error: --url" in refused.output
