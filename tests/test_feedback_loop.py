"""The trust loop end to end, with the real models: questions asked over HTTP, users' verdicts
sent to POST /feedback (corrections selected from the document, should_abstain on the weakest
answers), `qa feedback export`, `qa eval` on the export, and `qa eval --feedback --tune`, which
must move the collection's threshold the way the feedback asks, live on the running server."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from qa.eval.metrics import exact_match
from tests.conftest import DATA
from tests.server import running_server

pytestmark = pytest.mark.slow
OFF_TOPIC = ["How tall is the Eiffel Tower?", "Who won the 1998 football world cup?"]
SHOULD_ABSTAIN = 3  # the weakest answers users say should not have been given


def qa(data, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "QA_DATA_DIR": str(data)}
    return subprocess.run([sys.executable, "-m", "qa.cli", *args], env=env, capture_output=True, text=True, timeout=600)


def test_ask_feedback_export_eval_tune(tmp_path):
    data = tmp_path / "data"
    gold = {q["question"]: q["answers"] for q in map(json.loads, (DATA / "seed-dev.jsonl").read_text().splitlines())}
    with running_server(data) as url:
        asked = {q: httpx.post(f"{url}/ask", json={"question": q}, timeout=60).json() for q in [*gold, *OFF_TOPIC]}
        answered = sorted((b for b in asked.values() if b["answer"]), key=lambda b: b["answers"][0]["score"])
        assert len(answered) > SHOULD_ABSTAIN + 5 and all(asked[q]["answer"] is None for q in OFF_TOPIC)
        weakest = {b["question"] for b in answered[:SHOULD_ABSTAIN]}
        doc_id = answered[0]["answers"][0]["source"]["doc_id"]  # the seed corpus is one document
        text = httpx.get(f"{url}/documents/{doc_id}").json()["text"]
        sent = {}
        for question, body in asked.items():
            sent[question] = verdict_for(question, body, gold.get(question), doc_id, text, weakest)
            r = httpx.post(f"{url}/feedback", json=sent[question], timeout=30)
            assert r.status_code == 201, r.text
        verdicts = [s["verdict"] for s in sent.values()]
        assert verdicts.count("should_abstain") >= SHOULD_ABSTAIN and "correct" in verdicts and "wrong" in verdicts
        to_abstain = [q for q, s in sent.items() if s["verdict"] == "should_abstain" or (s["verdict"] == "correct" and not s["answer"])]

        exported = qa(data, "feedback", "export", "-c", "default", "-o", str(tmp_path / "fb.jsonl"))
        assert exported.returncode == 0, exported.stderr
        rows = {r["question"]: r for r in map(json.loads, (tmp_path / "fb.jsonl").read_text().splitlines())}
        assert set(rows) == set(asked)
        for question, s in sent.items():
            expected = ([text[s["correction"]["start"]:s["correction"]["end"]]] if "correction" in s
                        else [] if s["verdict"] == "should_abstain" or s["answer"] is None else [s["answer"]["text"]])
            assert rows[question]["answers"] == expected

        scored = qa(data, "eval", str(tmp_path / "fb.jsonl"), "--report", str(tmp_path / "report"))
        assert scored.returncode == 0, scored.stderr
        metrics = json.loads((tmp_path / "report" / "metrics.json").read_text())
        assert metrics["answers"]["questions"] == len(asked)
        assert metrics["answers"]["no_ans"]["count"] == len(to_abstain)
        # served as it is, the answers users said it should not give count against it
        abstained = [q for q in to_abstain if asked[q]["answer"] is None]
        assert metrics["answers"]["no_ans"]["accuracy"] == pytest.approx(len(abstained) / len(to_abstain), abs=1e-4)
        assert "## Feedback by week" in (tmp_path / "report" / "report.md").read_text()

        before = metrics["meta"]["abstain_threshold"]
        tuned = qa(data, "eval", "--feedback", "default", "--tune")
        assert tuned.returncode == 0, tuned.stderr
        after = json.loads((data / "collections" / "default" / "settings.json").read_text())["abstain_threshold"]
        weakest_scores = [b["answers"][0]["score"] for b in answered[:SHOULD_ABSTAIN]]
        print(f"threshold {before} -> {after} (weakest answers scored {weakest_scores})")
        assert after > before and after > max(weakest_scores)
        # the running server applies it at once: the questions users said it should not answer
        again = {q: httpx.post(f"{url}/ask", json={"question": q}, timeout=60).json()["answer"] for q in weakest}
        assert again == dict.fromkeys(weakest)


def verdict_for(question: str, body: dict, golds: list[str] | None, doc_id: str, text: str, weakest: set[str]) -> dict:
    """What a careful user says: an answer that is not exactly the right words, or a wrong
    abstention, gets the right words selected in the document (where the gold answer first
    stands)."""
    top = body["answers"][0] if body["answer"] else None
    answer = {"text": top["text"], **{k: top["source"][k] for k in ("doc_id", "start", "end")}} if top else None
    base = {"question": question, "answer": answer}
    if question in weakest:
        return {**base, "verdict": "should_abstain"}
    if not golds:  # off-topic: the right reply is to abstain
        return {**base, "verdict": "correct" if top is None else "should_abstain"}
    if top is not None and exact_match(top["text"], golds):
        return {**base, "verdict": "correct"}
    start = text.find(golds[0])
    assert start >= 0, golds[0]
    return {**base, "verdict": "wrong", "correction": {"doc_id": doc_id, "start": start, "end": start + len(golds[0])}}
