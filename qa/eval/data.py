"""Question files for `qa eval`, recognised by their content, not their names.

Four shapes: JSON Lines (`{"id", "question", "answers"}`), SQuAD v1.1 / v2.0 JSON, BEIR
folders (`corpus.jsonl`, `queries.jsonl`, `qrels/<split>.tsv`), and conversations (JSON Lines of
dialogues over one context each, the DoQA format: `{"id", "context_title", "context", "turns":
[{"id", "question", "answers", "is_impossible"}]}`, turns in order), whose turns are asked with
the turns before them. Each loader also returns the
file's own corpus, as the documents `--corpus-from-file` indexes: one document per SQuAD article
(paragraphs separated by blank lines, so each becomes a passage) or per BEIR entry. A question's
gold evidence is kept as character ranges of those documents (the span its answer stands in), so
the passages covering it can be named once the corpus is split and indexed."""

from __future__ import annotations

import csv
import hashlib
import json
import random
from dataclasses import dataclass, field, replace
from pathlib import Path

from qa.errors import InvalidInput


@dataclass(frozen=True)
class CorpusText:
    """A document to index: `key` is the file's own id for it (BEIR `_id`, SQuAD article title)."""

    key: str
    title: str
    text: str


@dataclass(frozen=True)
class EvalQuestion:
    """One question and what counts as right: `answers` empty means the right reply is to abstain.

    `gold` holds (corpus key, start, end) ranges of corpus text that contain an answer;
    `relevant` holds (corpus key, grade) judgements for retrieval-only (BEIR) files. `wrong`
    holds answers known to be wrong ("not this answer", from users' feedback); with
    `gold_known` False nothing else is known of the right answer, so the question is scored
    only against them. `feedback` is the export's summary of the verdicts behind the question.
    `history` holds the (role, content) messages of a conversation before this question, oldest
    first."""

    qid: str
    question: str
    answers: tuple[str, ...]
    gold: tuple[tuple[str, int, int], ...] = ()
    relevant: tuple[tuple[str, int], ...] = ()
    wrong: tuple[str, ...] = ()
    gold_known: bool = True
    feedback: dict | None = field(default=None, compare=False, hash=False)
    history: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class EvalSet:
    """A loaded question file. `kind` is one of jsonl, squad1, squad2, beir, conversations."""

    path: str
    kind: str
    questions: tuple[EvalQuestion, ...]
    corpus: tuple[CorpusText, ...] = ()

    @property
    def retrieval_only(self) -> bool:
        return self.kind == "beir"

    @property
    def fingerprint(self) -> str:
        """Identifies the corpus (not the questions): a sample and the full file share a collection."""
        digest = hashlib.sha256()
        for doc in self.corpus:
            digest.update(f"{doc.key}\0{doc.title}\0{doc.text}\0".encode())
        return digest.hexdigest()

    def sample(self, limit: int | None, seed: int) -> EvalSet:
        """A reproducible sample of `limit` questions, kept in file order."""
        if limit is None or limit >= len(self.questions):
            return self
        picked = sorted(random.Random(seed).sample(range(len(self.questions)), limit))
        return replace(self, questions=tuple(self.questions[i] for i in picked))


def load(path: Path) -> EvalSet:
    """Read a question file or BEIR folder, deciding the format from what is inside."""
    path = Path(path)
    if path.is_dir() or (path.suffix == ".tsv" and path.parent.name == "qrels"):
        return load_beir(path)
    if not path.is_file():
        raise InvalidInput(f"no such file or folder: {path}")
    text = path.read_text(encoding="utf-8-sig")
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None
    if isinstance(whole, dict) and isinstance(whole.get("data"), list):
        return load_squad(whole, str(path))
    if _is_conversation(next((line for line in text.split("\n") if line.strip()), "")):
        return load_conversations(text, str(path))
    return load_jsonl(text, str(path))


def load_jsonl(text: str, source: str) -> EvalSet:
    """JSON Lines questions; no corpus of their own (they go to an indexed collection)."""
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                rows.append((number, json.loads(line)))
            except ValueError:
                raise InvalidInput(f"{source}, line {number}: not JSON") from None
    return from_rows(rows, source)


def from_rows(rows: list[tuple[int, dict]], source: str) -> EvalSet:
    """Questions from (line number, row) pairs: `{"id", "question", "answers"}`, where a
    missing `answers` is an empty list (abstain) and `null` means the right answer is unknown;
    optional `wrong_answers` (known wrong) and `feedback` (kept for the report)."""
    questions = []
    for number, row in rows:
        try:
            answers, wrong = row.get("answers", []), row.get("wrong_answers", [])
            if not isinstance(row["question"], str) or not isinstance(answers, list | None) or not isinstance(wrong, list):
                raise TypeError
        except (KeyError, TypeError, AttributeError):
            raise InvalidInput(f"{source}, line {number}: expected {{\"id\", \"question\", \"answers\": [...]}}") from None
        questions.append(EvalQuestion(str(row.get("id", number)), row["question"], _unique(answers or []),
                                      wrong=_unique(wrong), gold_known=answers is not None, feedback=row.get("feedback")))
    if not questions:
        raise InvalidInput(f"{source}: no questions found (expected JSON Lines, SQuAD JSON or a BEIR folder)")
    return EvalSet(source, "jsonl", tuple(questions))


def load_squad(data: dict, source: str) -> EvalSet:
    """SQuAD v1.1 / v2.0: one document per article, the title as its heading, paragraphs apart."""
    questions: list[EvalQuestion] = []
    corpus: list[CorpusText] = []
    v2 = False
    for article in data["data"]:
        title = " ".join(str(article.get("title", "untitled")).replace("_", " ").split())
        text = f"# {title}\n\n"
        for paragraph in article.get("paragraphs", []):
            context = paragraph["context"].replace("\r", " ")  # same length: offsets stay true
            base = len(text)
            text += context + "\n\n"
            for qa in paragraph.get("qas", []):
                v2 = v2 or "is_impossible" in qa
                questions.append(_squad_question(qa, title, context, base))
        corpus.append(CorpusText(title, title, text.rstrip("\n") + "\n"))
    if not questions:
        raise InvalidInput(f"{source}: a SQuAD file without questions")
    return EvalSet(source, "squad2" if v2 else "squad1", tuple(questions), tuple(corpus))


def _squad_question(qa: dict, key: str, context: str, base: int) -> EvalQuestion:
    answers = [] if qa.get("is_impossible") else qa.get("answers", [])
    gold = []
    for answer in answers:
        start = answer.get("answer_start", -1)
        if context[start : start + len(answer["text"])] != answer["text"]:
            start = context.find(answer["text"])  # a few official offsets are off by some characters
        if start >= 0:
            gold.append((key, base + start, base + start + len(answer["text"])))
    return EvalQuestion(str(qa["id"]), qa["question"], _unique([a["text"] for a in answers]), tuple(dict.fromkeys(gold)))


def _is_conversation(line: str) -> bool:
    try:
        row = json.loads(line)
    except ValueError:
        return False
    return isinstance(row, dict) and isinstance(row.get("turns"), list) and "context" in row


def load_conversations(text: str, source: str) -> EvalSet:
    """Dialogues, each over its own context: the context becomes a SQuAD article (the same
    document the SQuAD form of the file gives, so both forms share one indexed collection), and
    each turn a question whose history is the turns before it.

    The earlier answers in the history are the *gold* ones, as a user's dialogue would hold the
    answer it was shown: each turn is then measured on its own, not on the system's earlier
    mistakes (the "gold history" protocol of CoQA and QuAC). An earlier turn without an answer
    adds no assistant message, as the widget sends nothing for a reply that abstained."""
    articles, histories = [], {}
    for number, line in enumerate(text.split("\n"), 1):  # not splitlines(): contexts hold U+0085
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            qas, history = [], []
            for turn in row["turns"]:
                answers = [] if turn.get("is_impossible") else [_as_squad(a) for a in turn.get("answers", [])]
                qas.append({"id": str(turn["id"]), "question": turn["question"], "is_impossible": not answers, "answers": answers})
                histories[str(turn["id"])] = tuple(history)
                history += [("user", turn["question"])] + ([("assistant", answers[0]["text"])] if answers else [])
            title = row.get("context_title") or row.get("title") or str(row.get("id", number))
            articles.append({"title": title, "paragraphs": [{"context": row["context"], "qas": qas}]})
        except (ValueError, KeyError, TypeError, AttributeError):
            raise InvalidInput(f"{source}, line {number}: expected a dialogue {{\"context\", \"turns\": "
                               f"[{{\"id\", \"question\", \"answers\"}}]}}") from None
    squad = load_squad({"data": articles}, source)
    questions = tuple(replace(q, history=histories[q.qid]) for q in squad.questions)
    return replace(squad, kind="conversations", questions=questions)


def _as_squad(answer) -> dict:
    """DoQA's dev file gives answers as strings (found in the context by `_squad_question`), its
    train file as SQuAD `{"text", "answer_start"}`."""
    return answer if isinstance(answer, dict) else {"text": str(answer), "answer_start": -1}


def load_beir(path: Path) -> EvalSet:
    """A BEIR folder (or one of its `qrels/*.tsv`, to pick the split; default `test`)."""
    qrels_file = path if path.is_file() else _default_split(path)
    folder = qrels_file.parent.parent
    for needed in ("corpus.jsonl", "queries.jsonl"):
        if not (folder / needed).is_file():
            raise InvalidInput(f"{folder}: a BEIR folder needs {needed}")
    corpus = tuple(_beir_doc(row) for row in _jsonl(folder / "corpus.jsonl"))
    queries = {str(row["_id"]): row for row in _jsonl(folder / "queries.jsonl")}
    judged: dict[str, dict[str, int]] = {}
    with open(qrels_file, encoding="utf-8") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if len(row) >= 3 and row[0] != "query-id" and row[2].lstrip("-").isdigit() and int(row[2]) > 0:
                judged.setdefault(row[0], {})[row[1]] = int(row[2])
    questions = tuple(
        EvalQuestion(qid, queries[qid]["text"], _unique(queries[qid].get("metadata", {}).get("answers", []) or []),
                     relevant=tuple(sorted(grades.items())))
        for qid, grades in judged.items() if qid in queries
    )
    if not questions:
        raise InvalidInput(f"{qrels_file}: no judged queries found")
    return EvalSet(str(qrels_file), "beir", questions, corpus)


def _default_split(folder: Path) -> Path:
    qrels = sorted((folder / "qrels").glob("*.tsv"))
    if not qrels:
        raise InvalidInput(f"{folder}: not a question file or a BEIR folder (no qrels/*.tsv)")
    return next((q for q in qrels if q.stem == "test"), qrels[0])


def _beir_doc(row: dict) -> CorpusText:
    title = " ".join(str(row.get("title") or "").split())
    body = str(row.get("text", "")).replace("\r", " ")
    return CorpusText(str(row["_id"]), title or str(row["_id"]), f"# {title}\n\n{body}\n" if title else f"{body}\n")


def _jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _unique(answers: list) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(a) for a in answers))
