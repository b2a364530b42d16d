"""kill -9 during `qa index`: the last good version keeps answering exactly as before, and the
next run completes. Real model in a real subprocess (a subprocess cannot use the fake encoder),
so the corpus is kept to a couple of hundred one-sentence passages."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa.config import Settings
from qa.embed.factory import make_encoder
from qa.embed.sentence_transformer import SentenceTransformerEncoder
from qa.read.heuristic import HeuristicReader
from qa.service import QAService
from qa.store import local as store

pytestmark = pytest.mark.slow

ANIMALS = ["otter", "heron", "lynx", "bison", "gecko", "marmot", "ibis", "tapir", "okapi", "quokka"]
QUESTIONS = [
    "How many animals did the otter colony at station 3 count?",
    "Where did observers note the lynx nests?",
    "What did survey 7-2 count?",
]


def write_corpus(folder: Path, files: range, tag: str) -> None:
    folder.mkdir(exist_ok=True)
    for f in files:
        paras = [
            f"In survey {f}-{j} the {ANIMALS[(f + j) % 10]} colony at station {f * 100 + j} counted {(f * 37 + j * 11) % 900 + 10} {tag} animals near river {j}."
            for j in range(10)
        ]
        (folder / f"f{f:02d}.md").write_text(f"# Survey file {f}\n\n" + "\n\n".join(paras) + "\n")


def start_index(corpus: Path, data: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "QA_DATA_DIR": str(data)}
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "qa.cli", "index", str(corpus), "--collection", "crash"], stdout=out, stderr=out, env=env
        )


def kill_when(proc: subprocess.Popen, ready, timeout: float = 240) -> bool:
    """SIGKILL as soon as `ready()` holds; False if the run finished first."""
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            return False
        time.sleep(0.001)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return True


def answers(service: QAService) -> list[dict]:
    results = service.ask_batch(QUESTIONS, 3, "crash")
    return [{k: v for k, v in r.to_dict().items() if k != "took_ms"} for r in results]


def test_kill_9_during_indexing_loses_nothing(tmp_path):
    corpus, data, log = tmp_path / "corpus", tmp_path / "data", tmp_path / "index.log"
    write_corpus(corpus, range(10), "wild")
    # The ONNX encoder exports itself once per cache folder: not inside a run whose time is the yardstick.
    make_encoder(Settings().encoder, Settings().embed_model, Path(os.environ["QA_MODEL_CACHE"])).warm_up()
    started = time.monotonic()
    assert start_index(corpus, data, log).wait(timeout=300) == 0, log.read_text()[-2000:]
    full_run = time.monotonic() - started  # the last good version, and how long a run takes
    good = store.current_version(data, "crash")
    settings = Settings(data_dir=data, reader="heuristic")
    encoder = SentenceTransformerEncoder(settings.embed_model, threads=settings.threads)
    reader = HeuristicReader()
    before = answers(QAService(settings, encoder, reader))
    assert before[0]["answer"] and len(store.load(data, "crash").passages) == 100

    # The next run has more work than the first (so a kill at 60% of the first run's time lands
    # inside it even when the machine's load changes between runs): 30 new files, one changed,
    # one removed.
    write_corpus(corpus, range(10, 40), "tame")
    write_corpus(corpus, range(3, 4), "changed")
    (corpus / "f05.md").unlink()
    folder = data / "collections" / "crash"
    points = {
        "starting up": lambda t0: time.monotonic() - t0 > 0.5,
        "loading the model or embedding": lambda t0: time.monotonic() - t0 > 0.6 * full_run
        or (b"Loading weights" in log.read_bytes() and time.sleep(0.5) is None),
        "writing the new version": lambda t0: any(p.name.startswith(".tmp-") for p in folder.iterdir()),
    }
    killed = []
    for name, ready in points.items():
        proc, t0 = start_index(corpus, data, log), time.monotonic()
        if not kill_when(proc, lambda: ready(t0)):
            assert proc.returncode == 0, log.read_text()[-2000:]
            break  # the run finished before this point was seen: nothing left to interrupt
        killed.append(name)
        assert store.current_version(data, "crash") == good, f"killed while {name}: the pointer moved"
        assert answers(QAService(settings, encoder, reader)) == before, f"killed while {name}: answers changed"
    print("kill points hit:", killed)
    assert len(killed) >= 2, killed

    proc = start_index(corpus, data, log)
    assert proc.wait(timeout=300) == 0, log.read_text()[-2000:]
    resumed = store.load(data, "crash")
    assert resumed.version != good and len(resumed.documents) == 39 and len(resumed.passages) == 390
    assert not [p for p in folder.iterdir() if p.name.startswith(".tmp-")]  # leftovers cleaned
    assert sum("changed animals" in p.text for p in resumed.passages) == 10
    assert not any(d.path.endswith("f05.md") for d in resumed.documents.values())
