"""Worst-case latency of hostile input at the caps: `/chat` and `/v1/chat/completions` with
adversarial conversations as long as they may be, and `/ask` over the largest passages the
ingester can now produce (a 1 MB one-line text and a 1 MB word with no spaces).

In-process (FastAPI's TestClient) with the real service: the packaged encoder and the default
reader, the answer cache off so every request does the full work. Each shape is asked `--rounds`
times; the table shows the slowest. Prints a table and writes benchmarks/out/hostile_worst_case.json.

    .venv/bin/python benchmarks/hostile_worst_case.py --rounds 3

Timings on a shared machine are inflated by whatever else runs on its CPUs: say so beside them.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from common import report  # puts the repository on sys.path, as in the other benchmarks
from fastapi.testclient import TestClient

from api.app import create_app
from qa.config import Settings
from qa.conversation import MAX_CONVERSATION_CHARS, MAX_MESSAGE_CHARS
from qa.ingest.passages import MAX_PASSAGE_CHARS
from qa.ingest.passages import split_passages
from qa.service import QAService
from qa.ingest.uploads import Upload

EARLIER = MAX_CONVERSATION_CHARS // MAX_MESSAGE_CHARS - 1  # earlier turns of a full conversation


def at_cap(unit: str, length: int, head: str = "", tail: str = "x") -> str:
    """`head`, then `unit` repeated, then `tail`: exactly `length` characters."""
    body = length - len(head) - len(tail)
    return head + (unit * (body // len(unit) + 1))[:body] + tail


def shapes(last_cap: int) -> dict[str, tuple[list[str], str]]:
    """(earlier user messages, last message) of each adversarial conversation at the caps."""
    return {
        "ellipsis ' ?' runs": ([at_cap(" ?", MAX_MESSAGE_CHARS, "and ")] * EARLIER, at_cap(" ?", last_cap, "and ")),
        "pronouns (expand)": ([at_cap("it ", MAX_MESSAGE_CHARS)] * EARLIER, at_cap("it ", last_cap)),
        "capitalised words": ([at_cap("Ab of ", MAX_MESSAGE_CHARS)] * EARLIER, at_cap("Who is it ", last_cap)),
        "whitespace runs": ([at_cap(" ", MAX_MESSAGE_CHARS, "and")] * EARLIER, "And Japan?"),
    }


def conversation(earlier: list[str], last: str, assistant: str) -> list[dict]:
    messages = []
    for text in earlier:
        messages += [{"role": "user", "content": text}, {"role": "assistant", "content": assistant}]
    return messages + [{"role": "user", "content": last}]


def slowest(client: TestClient, path: str, body: dict, rounds: int) -> float:
    worst = 0.0
    for _ in range(rounds):
        t0 = time.perf_counter()
        r = client.post(path, json=body)
        assert r.status_code == 200, r.text[:300]
        worst = max(worst, (time.perf_counter() - t0) * 1000)
    return worst


def big_documents() -> list[Upload]:
    rng = random.Random(0)
    words = "river dam power station water energy turbine valley flood season grid village".split()
    one_line = " ".join(rng.choice(words) for _ in range(200_000))[:1_000_000]
    return [Upload("one-line.txt", one_line.encode()), Upload("no-space.txt", b"x" * 1_000_000)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", cache_size=0)
        service = QAService(settings)
        service.warm_up()
        service.ensure_seeded(settings.seeds_dir)
        t0 = time.perf_counter()
        _, docs = service.add_documents(big_documents(), "big")
        index_s = time.perf_counter() - t0
        passages = [p for d in docs for p in split_passages(d, settings.max_passage_words)]
        longest = max(len(p.text) for p in passages)
        rows = []
        with TestClient(create_app(settings, service)) as client:
            for name, (earlier, last) in shapes(settings.max_question_chars).items():
                chat = {"messages": conversation(earlier, last, "up to 32 seconds")}
                rows.append(("/chat", name, slowest(client, "/chat", chat, args.rounds)))
                v1 = {"model": "verbatim", "messages": conversation(earlier, last, at_cap(" [1]", 2_000, "Vidu"))}
                v1["messages"][0]["content"] = [{"type": "text", "text": earlier[0][:5_000]}, {"type": "text", "text": earlier[0][5_000:]}]
                rows.append(("/v1/chat/completions", name, slowest(client, "/v1/chat/completions", v1, args.rounds)))
            for question in ("When is the flood season of the river?", "x" * settings.max_question_chars):
                ask = {"question": question, "collection": "big", "top_k": 3}
                rows.append(("/ask", f"largest passages ({longest} chars), q {len(question)} chars", slowest(client, "/ask", ask, args.rounds)))
    body = {"rounds": args.rounds, "max_message_chars": MAX_MESSAGE_CHARS, "max_conversation_chars": MAX_CONVERSATION_CHARS,
            "max_passage_chars": MAX_PASSAGE_CHARS, "big_documents_index_s": round(index_s, 1),
            "big_documents_passages": len(passages), "reader": service.reader.name,
            "rows": [{"endpoint": e, "shape": s, "worst_ms": round(ms, 1)} for e, s, ms in rows]}
    report("hostile_worst_case", body, rows, ("endpoint", "shape", "worst ms"))


if __name__ == "__main__":
    main()
