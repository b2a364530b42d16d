"""`qa rm` in a subprocess. Removing embeds nothing, so it never loads the model: a collection
built by a stand-in encoder carrying the real model's name and width is enough."""

import os
import subprocess
import sys

from qa.config import Settings
from qa.embed.onnx_encoder import model_name
from qa.indexer import IndexPlan, add_documents
from qa.ingest.files import parse_document
from qa.store import local as store
from tests.conftest import HashEncoder


class SameNameEncoder(HashEncoder):
    name, dim = model_name(Settings().embed_model, Settings().encoder == "onnx-int8"), 384  # the default's


def qa(*args, data_dir):
    env = {**os.environ, "QA_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "qa.cli", *args], capture_output=True, text=True, env=env, timeout=120)


def test_rm_removes_and_reports(tmp_path):
    data = tmp_path / "data"
    docs = [parse_document(f"# {n}\n\nWords about {n} and more.\n".encode(), f"upload:{n}.md", n) for n in ("a", "b")]
    add_documents(data, "work", docs, IndexPlan(SameNameEncoder(), "faiss", 180))
    done = qa("rm", docs[0].doc_id, "--collection", "work", data_dir=data)
    assert done.returncode == 0, done.stderr
    assert f"removed {docs[0].doc_id}; 1 documents" in done.stdout
    assert list(store.load(data, "work").documents) == [docs[1].doc_id]
    missing = qa("rm", "nope", "-c", "work", data_dir=data)
    assert missing.returncode == 1 and missing.stderr.startswith("Error: no document with id 'nope'")
    assert qa("rm", "x", "-c", "../etc", data_dir=data).stderr.startswith("Error: invalid collection name")
