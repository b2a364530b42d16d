"""The `qa` command end to end, with the real models."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import DATA

pytestmark = pytest.mark.slow


def qa(*args, data_dir, check=False):
    env = {**os.environ, "QA_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "qa.cli", *args], capture_output=True, text=True, env=env, check=check)


def test_index_then_ask_json(tmp_path):
    data = tmp_path / "data"
    first = qa("index", str(DATA / "docs"), "--collection", "t", data_dir=data)
    assert first.returncode == 0, first.stderr
    assert "added 2" in first.stdout
    again = qa("index", str(DATA / "docs"), "--collection", "t", data_dir=data)
    assert "embedded 0 passages" in again.stdout
    out = qa("ask", "Who developed Vidu?", "--json", "--collection", "t", data_dir=data)
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert body["answers"]
    first_answer = body["answers"][0]
    assert first_answer["source"]["start"] < first_answer["source"]["end"]
    whole = json.loads(qa("ask", "Who developed Vidu?", "--json", "-c", "t", "--answer-unit", "sentence", data_dir=data).stdout)
    assert first_answer["text"] in whole["answers"][0]["text"] != first_answer["text"]
    wrong = qa("ask", "Who developed Vidu?", "-c", "t", "--answer-unit", "paragraph", data_dir=data)
    assert wrong.returncode == 2 and "'paragraph' is not one of 'span', 'sentence'" in wrong.stderr


def test_errors_print_message_and_exit_nonzero(tmp_path):
    data = tmp_path / "data"
    missing = qa("index", str(tmp_path / "missing"), data_dir=data)
    assert missing.returncode == 1 and missing.stderr.startswith("Error: no such file")
    assert "Traceback" not in missing.stderr
    empty = qa("ask", "   ", "--collection", "none", data_dir=data)
    assert empty.returncode == 1 and "Error:" in empty.stderr and "Traceback" not in empty.stderr


def test_index_says_an_empty_file_was_skipped(tmp_path):
    (tmp_path / "empty.txt").write_text(" \n")
    out = qa("index", str(tmp_path / "empty.txt"), "--collection", "e", data_dir=tmp_path / "data")
    assert out.returncode == 0, out.stderr
    assert "Skipped empty.txt: no text found in the file" in out.stderr and "Traceback" not in out.stderr


def test_index_names_each_skipped_file_and_shows_no_bars_in_a_pipe(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for f in (DATA / "docs").iterdir():
        (docs / f.name).write_bytes(f.read_bytes())
    (docs / "logo.png").write_bytes(b"\x89PNG\r\n")
    (docs / "empty.md").write_text("")
    out = qa("index", str(docs), "--collection", "t", data_dir=tmp_path / "data")
    assert out.returncode == 0, out.stderr
    assert out.stderr.splitlines() == ["Skipped empty.md: no text found in the file", "Skipped logo.png: unsupported file type (.png)"]
    assert len(out.stdout.splitlines()) == 1 and "skipped 2 files" in out.stdout
def test_switching_encoder_re_embeds_once_and_says_so(tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setenv("QA_ENCODER", "onnx")
    assert qa("index", str(DATA / "docs"), data_dir=data).returncode == 0
    monkeypatch.delenv("QA_ENCODER")  # the default: int8
    switched = qa("index", str(DATA / "docs"), data_dir=data)
    assert switched.returncode == 0, switched.stderr
    assert switched.stderr.count("model changed from all-MiniLM-L6-v2 to all-MiniLM-L6-v2-onnx-int8") == 1
    assert switched.stderr.startswith("Note: every passage of collection 'default' was embedded again")
    again = qa("index", str(DATA / "docs"), data_dir=data)
    assert "embedded 0 passages" in again.stdout and "Note:" not in again.stderr
