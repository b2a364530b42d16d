"""POST /feedback in-process, the append-only log (torn lines, kill -9), and feedback as
evaluation data: export rows, `qa feedback export`, negatives scored apart, the report section.
The whole loop through a real server and the real reader is test_feedback_loop.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.app import create_app
from qa.cli import main
from qa.config import Settings
from qa.eval import data as eval_data
from qa.eval.feedback import export_rows, feedback_section
from qa.eval.metrics import Prediction, summarize
from qa.eval.report import report_markdown
from qa.feedback.log import Feedback, FeedbackLog, Quote, new_feedback
from qa.read.heuristic import HeuristicReader
from qa.service import QAService
from tests.conftest import ROOT, HashEncoder

TEXT = b"# Dams\n\nThe Lower Sesan 2 dam produces 1,998 gigawatt hours of electricity a year.\n"
KEYS = {"keys": [{"name": "hr", "key": "hr-key", "read": ["hr"]}, {"name": "ops", "key": "ops", "write": ["*"]}],
        "private": ["hr"]}
QUESTION = "How much electricity does the dam produce?"


def client_for(tmp_path, **overrides) -> tuple[TestClient, dict]:
    (tmp_path / "keys.json").write_text(json.dumps(KEYS))
    settings = Settings(data_dir=tmp_path / "data", reader="heuristic", keys_file=tmp_path / "keys.json", **overrides)
    service = QAService(settings, encoder=HashEncoder(), reader=HeuristicReader())
    ids = {name: service.add_documents([_upload(f"{name}.md")], name)[1][0].doc_id for name in ("default", "hr")}
    return TestClient(create_app(settings, service)), ids


def _upload(name: str):
    from qa.ingest.uploads import Upload

    return Upload(name, TEXT)


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("feedback")
    client, ids = client_for(tmp)
    with client:
        yield client, ids, tmp / "data"


def body(doc_id: str, **fields) -> dict:
    start = TEXT.decode().index("1,998")
    answer = {"text": "Lower Sesan 2", "doc_id": doc_id, "start": 12, "end": 25}
    return {"question": QUESTION, "answer": answer, "verdict": "wrong",
            "correction": {"doc_id": doc_id, "start": start, "end": start + 20}, **fields}


def test_feedback_is_stored_with_the_corrected_words(api):
    client, ids, data = api
    r = client.post("/feedback", json=body(ids["default"]))
    assert r.status_code == 201, r.text
    stored = [f for f in FeedbackLog(data).read("default") if f.id == r.json()["id"]]
    assert len(stored) == 1
    start = TEXT.decode().index("1,998")
    assert stored[0].correction == Quote(ids["default"], start, start + 20, "1,998 gigawatt hours")
    assert stored[0].answer.text == "Lower Sesan 2" and stored[0].verdict == "wrong" and stored[0].version
    abstained = client.post("/feedback", json={"question": "Who built it?", "answer": None, "verdict": "should_abstain"})
    assert abstained.status_code == 201 and abstained.json()["answer"] is None


@pytest.mark.parametrize("change, status", [
    ({"verdict": "maybe"}, 422),
    ({"verdict": "correct"}, 422),  # a correction goes with "wrong"
    ({"question": ""}, 422),
    ({"question": "x" * 5000}, 422),
    ({"correction": {"doc_id": "nope", "start": 0, "end": 3}}, 404),
    ({"correction": {"doc_id": "DOC", "start": 5, "end": 5}}, 422),
    ({"correction": {"doc_id": "DOC", "start": 0, "end": 10**6}}, 422),
    ({"correction": {"doc_id": "DOC", "start": -1, "end": 3}}, 422),
    ({"extra": 1}, 422),
    ({"collection": "../etc"}, 422),
    ({"collection": "missing"}, 404),
])
def test_bad_feedback_is_4xx_and_stores_nothing(api, change, status):
    client, ids, data = api
    payload = body(ids["default"], **change)
    if "DOC" in json.dumps(payload):
        payload["correction"]["doc_id"] = ids["default"]
    before = FeedbackLog(data).read("default")
    r = client.post("/feedback", json=payload)
    assert r.status_code == status and "detail" in r.json(), r.text
    assert FeedbackLog(data).read("default") == before


def test_feedback_follows_the_read_rules(api):
    client, ids, _ = api
    payload = body(ids["hr"], collection="hr")
    assert client.post("/feedback", json=payload).status_code == 401
    assert client.post("/feedback", json=payload, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.post("/feedback", json=payload, headers={"Authorization": "Bearer hr-key"}).status_code == 201
    # a correction must name a document of the collection the feedback is about
    assert client.post("/feedback", json=body(ids["hr"])).status_code == 404
    # naming a public collection in the query beside a private one in the body is refused
    r = client.post("/feedback", params={"collection": "default"}, json=payload)
    assert r.status_code == 422 and "more than one collection" in r.json()["detail"]


def test_size_and_rate_limits(tmp_path):
    client, ids = client_for(tmp_path, feedback_max_bytes=2048, feedback_per_minute=3)
    with client:
        big = body(ids["default"], question="x " * 1500)
        r = client.post("/feedback", json=big)
        assert r.status_code == 413 and "limit" in r.json()["detail"]
        chunked = client.post("/feedback", content=iter([json.dumps(big).encode()[:1500]] * 2),
                              headers={"content-type": "application/json"})
        assert chunked.status_code == 413  # no Content-Length: counted while it streams
        codes = [client.post("/feedback", json=body(ids["default"])).status_code for _ in range(4)]
        assert codes == [201, 201, 201, 429]
        r = client.post("/feedback", json=body(ids["default"]))
        assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 20
    assert len(FeedbackLog(tmp_path / "data").read("default")) == 3


def record(question: str, verdict: str, answer: str | None = None, correction: str | None = None,
           at: str = "2026-03-02T10:00:00+00:00") -> Feedback:
    quote = (lambda t: Quote("d", 0, len(t), t))
    made = new_feedback("c", "v1", question, verdict, quote(answer) if answer else None, quote(correction) if correction else None)
    return Feedback(**{**made.__dict__, "at": at})


def test_the_log_survives_a_torn_last_line(tmp_path):
    log = FeedbackLog(tmp_path)
    log.append(record("q1", "correct", "a"))
    with open(log.path("c"), "ab") as handle:
        handle.write(b'{"id": "torn", "at": "2026')  # what kill -9 mid-write leaves
    log.append(record("q2", "should_abstain"))
    assert [f.question for f in log.read("c")] == ["q1", "q2"]


def test_kill_9_while_appending_loses_no_complete_record(tmp_path):
    code = ("import sys; from qa.feedback.log import FeedbackLog, new_feedback\n"
            "log = FeedbackLog(sys.argv[1])\n"
            "for i in range(100000):\n"
            "    log.append(new_feedback('c', 'v', f'question {i}', 'wrong', None, None))\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], env={**os.environ, "PYTHONPATH": str(ROOT)})
    path = FeedbackLog(tmp_path).path("c")
    deadline = time.monotonic() + 60
    while (not path.exists() or path.stat().st_size < 20_000) and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    lines = path.read_bytes().split(b"\n")
    whole = lines[:-1]  # the last piece is empty, or a line torn by the kill
    assert len(whole) > 50 and all(json.loads(line)["verdict"] == "wrong" for line in whole)
    read = FeedbackLog(tmp_path).read("c")
    assert [f.question for f in read] == [f"question {i}" for i in range(len(read))]
    FeedbackLog(tmp_path).append(record("after", "correct", "a"))
    assert FeedbackLog(tmp_path).read("c")[-1].question == "after"


def test_export_rows_follow_the_verdicts():
    rows = {r["question"]: r for r in export_rows([
        record("Who built it?", "wrong", "Tom", "Ana"),
        record("who  built it?", "correct", "Ana", at="2026-03-10T09:00:00+00:00"),
        record("How tall?", "should_abstain", "12 m"),
        record("When?", "wrong", "Monday"),
        record("Where?", "correct", None),
    ])}
    assert rows["who  built it?"]["answers"] == ["Ana"] and rows["who  built it?"]["wrong_answers"] == ["Tom"]
    assert rows["who  built it?"]["feedback"]["weeks"] == {"2026-W10": {"wrong": 1}, "2026-W11": {"correct": 1}}
    assert rows["How tall?"]["answers"] == [] and rows["How tall?"]["wrong_answers"] == ["12 m"]
    assert rows["When?"]["answers"] is None and rows["When?"]["wrong_answers"] == ["Monday"]
    assert rows["Where?"]["answers"] == []
    loaded = {q.question: q for q in eval_data.load_jsonl("\n".join(json.dumps(r) for r in rows.values()), "x").questions}
    assert loaded["When?"].gold_known is False and loaded["When?"].wrong == ("Monday",)
    assert loaded["How tall?"].gold_known and loaded["How tall?"].answers == ()


def test_negatives_are_scored_apart_from_em_and_f1():
    preds = [Prediction("1", "Who?", ("Ana",), "Ana", "Ana", 0.9, wrong=("Tom",)),
             Prediction("2", "When?", (), "Monday", "Monday", 0.8, wrong=("Monday",), gold_known=False),
             Prediction("3", "Where?", (), None, "Paris", 0.1, wrong=("Lyon",), gold_known=False)]
    summary = summarize(preds, 1.0)
    assert summary["answers"]["questions"] == 1 and summary["answers"]["f1"] == 1.0
    assert summary["negatives"] == {"questions": 3, "unknown_gold": 2, "repeated": round(1 / 3, 4), "abstained": round(1 / 3, 4)}


def test_export_command_writes_what_qa_eval_reads_and_the_report_section(tmp_path):
    log = FeedbackLog(tmp_path / "data")
    for r in [record("Who built it?", "wrong", "Tom", "Ana"), record("Who built it?", "wrong", "Tom"),
              record("How tall?", "should_abstain", "12 m", at="2026-03-10T09:00:00+00:00"),
              record("Why?", "correct", "Because", at="2026-03-10T09:00:00+00:00")]:
        log.append(Feedback(**{**r.__dict__, "collection": "docs"}))
    out = tmp_path / "fb.jsonl"
    result = CliRunner().invoke(main, ["feedback", "export", "-c", "docs", "-o", str(out), "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 0, result.output
    assert "3 questions from 4 verdicts" in result.output
    evalset = eval_data.load(out)
    assert [q.answers for q in evalset.questions] == [("Ana",), (), ("Because",)]
    preds = [Prediction(q.qid, q.question, q.answers, a, a, 0.5, wrong=q.wrong) for q, a in
             zip(evalset.questions, ["Ana", "12 m", None])]
    section = feedback_section(evalset.questions, preds)["feedback"]
    assert section["by_week"] == [
        {"week": "2026-W10", "verdicts": 2, "marked_correct": 0.0, "scored": 1, "f1_now": 1.0},
        {"week": "2026-W11", "verdicts": 2, "marked_correct": 0.5, "scored": 2, "f1_now": 0.0}]
    assert [(q["question"], q["marked_wrong"]) for q in section["most_wrong"]] == [("Who built it?", 2), ("How tall?", 1)]
    markdown = "\n".join(report_markdown(summarize(preds, 1.0) | {"feedback": section}, {"file": "x"}, []).splitlines())
    assert "## Feedback by week" in markdown and "| 2026-W11 | 2 | 50.0 | 2 | 0.0 |" in markdown
    assert "| How tall? | 1 | 12 m | (abstain) | 12 m |" in markdown
    empty = CliRunner().invoke(main, ["feedback", "export", "-c", "other", "--data-dir", str(tmp_path / "data")])
    assert empty.exit_code == 1 and "no feedback recorded" in empty.output
