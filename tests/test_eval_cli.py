"""`qa eval` end to end with the real models, on a small cut of SQuAD v1.1 dev."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import DATA

pytestmark = pytest.mark.slow


def qa_eval(*args, data_dir):
    env = {**os.environ, "QA_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "qa.cli", "eval", *map(str, args)], capture_output=True, text=True, env=env)


def test_eval_squad_cut_from_file_writes_a_sane_report(tmp_path):
    data, report = tmp_path / "data", tmp_path / "report"
    cut = DATA / "eval" / "squad-v1.1-dev-cut.json"
    run = qa_eval(cut, "--corpus-from-file", "--limit", "16", "--report", report, "--min-recall-at", "20=0.8", data_dir=data)
    assert run.returncode == 0, run.stdout + run.stderr
    for name in ("metrics.json", "predictions.jsonl", "report.md", "accuracy_coverage.png", "reliability.png",
                 "recall_at_k.png", "latency.png"):
        assert (report / name).stat().st_size > 0, name
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["questions"] == 16
    assert metrics["citations"]["exact"] == 1.0  # every citation reproduces its answer
    assert metrics["retrieval"]["recall@1"] <= metrics["retrieval"]["recall@5"] <= metrics["retrieval"]["recall@20"]
    assert metrics["retrieval"]["recall@5"] >= 0.6  # six paragraphs, two articles: retrieval is easy
    assert 0.0 < metrics["answers"]["f1"] <= 1.0 and metrics["latency"]["p50_ms"] > 0
    again = qa_eval(cut, "--corpus-from-file", "--limit", "4", "--report", report, data_dir=data)
    assert again.returncode == 0, again.stderr
    assert json.loads((report / "metrics.json").read_text())["meta"]["corpus"].endswith("embedded 0")


def test_eval_over_http_checks_citations_against_the_server(tmp_path):
    from tests.server import running_server

    data, report = tmp_path / "data", tmp_path / "report"
    with running_server(data) as url:
        run = qa_eval(DATA / "seed-dev.jsonl", "--url", url, "--limit", "6", "--report", report, data_dir=tmp_path / "other")
    assert run.returncode == 0, run.stdout + run.stderr
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["meta"]["url"] == url and metrics["questions"] == 6
    assert metrics["citations"]["checked"] == 0 or metrics["citations"]["exact"] == 1.0
    assert metrics["latency"]["p50_ms"] > 0
