"""Shared SQuAD helpers for the reader's training and evaluation scripts.

Kept free of torch and onnxruntime so that both `train_reader.py` (GPU/CPU,
torch) and `eval_reader.py` (CPU, onnxruntime) use the *same* data loading,
windowing, answer decoding and official metric. Everything here is numpy +
`tokenizers` only.

The metric functions reproduce the official SQuAD v1.1 / v2.0 evaluation
scripts (lower-case, strip punctuation, drop articles a/an/the, collapse
whitespace; EM and token-F1, max over the gold answers).
"""

from __future__ import annotations

import collections
import gzip
import json
import random
import re
import string
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

MAX_QUESTION_TOKENS = 64


# --------------------------------------------------------------------------- data


@dataclass
class Example:
    """One question over one paragraph; `answers` empty means unanswerable."""

    qid: str
    question: str
    context: str
    answers: list[str]
    answer_starts: list[int]
    title: str = ""
    source: str = ""  # which training set it came from (reader_mix.py), for per-source counts
    turn: str = ""  # the dialogue turn as written, when `question` is its rewrite (reader_mix.py)


def load_json(path: Path) -> dict:
    """Read a SQuAD JSON file, gzipped or not (the GPU run carries .gz copies)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def load_examples(path: Path, exclude: set[tuple[str, int]] | None = None) -> list[Example]:
    """Flatten a SQuAD v1.1/v2.0 file into Examples.

    `exclude` holds (title, paragraph_index) pairs to drop: the 32 train
    paragraphs that overlap the dev set (decontamination).
    """
    exclude = exclude or set()
    out: list[Example] = []
    for article in load_json(path)["data"]:
        title = article.get("title", "")
        for p_idx, para in enumerate(article["paragraphs"]):
            if (title, p_idx) in exclude:
                continue
            ctx = para["context"]
            for qa in para["qas"]:
                answers = [] if qa.get("is_impossible") else qa["answers"]
                out.append(
                    Example(
                        qid=qa["id"],
                        question=qa["question"],
                        context=ctx,
                        answers=[a["text"] for a in answers],
                        answer_starts=[a["answer_start"] for a in answers],
                        title=title,
                    )
                )
    return out


class HardNegatives:
    """The same article's paragraph that looks most like the question's own, yet lacks its answer.

    Why: in the product the reader sees several retrieved passages, mostly from one document, and
    its largest loss is a neighbouring paragraph with a plausible span beating the right one. A
    question paired with such a paragraph, labelled unanswerable, teaches the reader to refuse it;
    the same pairs give the bi-encoder negatives that in-batch sampling almost never finds.
    Scored by the IDF of the question's words found in the paragraph (a BM25 without length terms).
    """

    def __init__(self, examples: list[Example]) -> None:
        self._contexts: dict[str, list[str]] = collections.defaultdict(list)
        self._words: dict[str, set[str]] = {}
        for ex in examples:
            if ex.context not in self._words:
                self._words[ex.context] = _words(ex.context)
                self._contexts[ex.title].append(ex.context)
        df = collections.Counter(w for ws in self._words.values() for w in ws)
        n = len(self._words)
        self._idf = {w: float(np.log(1 + n / c)) for w, c in df.items()}

    def pick(self, ex: Example) -> str | None:
        """The hardest negative paragraph for an answerable example, or None if its article has none."""
        question = _words(ex.question)
        answers = [a.lower() for a in ex.answers]
        best, best_score = None, 0.0
        for ctx in self._contexts.get(ex.title, []):
            if ctx == ex.context or any(a in ctx.lower() for a in answers):
                continue
            words = self._words[ctx]
            score = sum(self._idf.get(w, 0.0) for w in question if w in words)
            if score > best_score:
                best, best_score = ctx, score
        return best

    def distractors(self, examples: list[Example], fraction: float, seed: int) -> list[Example]:
        """Unanswerable copies of a random `fraction` of the answerable examples, over their hard negative."""
        rng = np.random.default_rng(seed)
        out = []
        for ex in examples:
            if not ex.answers or rng.random() >= fraction:
                continue
            ctx = self.pick(ex)
            if ctx is not None:
                out.append(Example(f"{ex.qid}-distractor", ex.question, ctx, [], [], ex.title))
        return out


_STOPWORDS = frozenset(
    "a an the of in on at to for from by with and or is are was were be been do does did what which who "
    "whom whose when where why how that this these those it its as than not".split()
)


def _words(text: str) -> set[str]:
    """Not `qa.text.tokenize`: the shipped reader's distractors were chosen with these words
    (their own stopwords, `\\w+` tokens), and the training command must keep choosing the same."""
    return {w for w in re.findall(r"\w+", text.lower()) if w not in _STOPWORDS}


def load_overlap(path: Path) -> set[tuple[str, int]]:
    """(title, paragraph_index) pairs listed in squad-v1.1-train.dev-overlap.json."""
    with open(path, encoding="utf-8") as fh:
        return {(r["title"], int(r["paragraph_index"])) for r in json.load(fh)}


# --------------------------------------------------------------------- windowing


def load_tokenizer(path: Path, max_length: int, stride: int) -> Tokenizer:
    """The fast tokenizer set up for question/context windows.

    The shipped tokenizer.json carries the sentence-transformers padding and
    truncation (128); we replace them: no padding (the batcher pads), and
    `only_second` truncation with overflow so long contexts become several
    windows overlapping by `stride` tokens.
    """
    tok = Tokenizer.from_file(str(path))
    tok.no_padding()
    tok.enable_truncation(max_length=max_length, stride=stride, strategy="only_second")
    return tok


def clip_question(tok: Tokenizer, question: str, max_tokens: int = MAX_QUESTION_TOKENS) -> str:
    """Cut very long questions so a context window always has room left."""
    question = question.strip()
    enc = tok.encode(question, add_special_tokens=False)
    if len(enc.ids) <= max_tokens:
        return question
    return question[: enc.offsets[max_tokens - 1][1]]


@dataclass
class Features:
    """Token windows for a list of examples (ragged, unpadded).

    `offsets[i][j]` is the char span of token j in its example's context, or
    None for question/special tokens. `example_index[i]` maps a window back.
    """

    input_ids: list[list[int]] = field(default_factory=list)
    type_ids: list[list[int]] = field(default_factory=list)
    offsets: list[list[tuple[int, int] | None]] = field(default_factory=list)
    example_index: list[int] = field(default_factory=list)
    start_positions: list[int] = field(default_factory=list)
    end_positions: list[int] = field(default_factory=list)


def _label_window(offsets: list[tuple[int, int] | None], ans_start: int, ans_end: int) -> tuple[int, int]:
    """Token start/end of the answer in a window, or (0, 0) = CLS if it is not fully inside."""
    ctx_tokens = [j for j, o in enumerate(offsets) if o is not None]
    if not ctx_tokens:
        return 0, 0
    first, last = ctx_tokens[0], ctx_tokens[-1]
    if offsets[first][0] > ans_start or offsets[last][1] < ans_end:
        return 0, 0
    s = first
    while s <= last and offsets[s][1] <= ans_start:
        s += 1
    e = last
    while e >= first and offsets[e][0] >= ans_end:
        e -= 1
    if s > e:
        return 0, 0
    return s, e


def build_features(tok: Tokenizer, examples: list[Example], with_labels: bool, batch_size: int = 2000) -> Features:
    """Tokenise examples into overlapping windows (the standard HF QA recipe).

    Labels follow SQuAD 2.0: unanswerable questions, and windows that do not
    contain the whole (first) gold answer, point at CLS (index 0).
    """
    feats = Features()
    for b0 in range(0, len(examples), batch_size):
        batch = examples[b0 : b0 + batch_size]
        pairs = [(clip_question(tok, ex.question), ex.context) for ex in batch]
        encs = tok.encode_batch(pairs)
        for k, enc in enumerate(encs):
            ex = batch[k]
            for w in [enc, *enc.overflowing]:
                seq = w.sequence_ids
                offs = [o if s == 1 else None for o, s in zip(w.offsets, seq)]
                feats.input_ids.append(w.ids)
                feats.type_ids.append(w.type_ids)
                feats.offsets.append(offs)
                feats.example_index.append(b0 + k)
                if with_labels:
                    if ex.answers:
                        a0 = ex.answer_starts[0]
                        s, e = _label_window(offs, a0, a0 + len(ex.answers[0]))
                    else:
                        s, e = 0, 0
                    feats.start_positions.append(s)
                    feats.end_positions.append(e)
    return feats


def cap_empty_windows(feats: Features, keep: int, seed: int) -> Features:
    """At most `keep` windows labelled CLS per example, chosen at random; every window holding
    the answer stays. A long document (doc2dial's help pages run to 15 windows of 256 tokens)
    otherwise fills the mix with "not in this window" labels (67 % of all windows in the issue 16
    mix), while the product's reader sees retrieved passages of ~180 words, where the hard
    distractors already teach when to abstain."""
    rng = random.Random(seed)
    empty: dict[int, list[int]] = {}
    for i, (ex, s) in enumerate(zip(feats.example_index, feats.start_positions)):
        if s == 0:
            empty.setdefault(ex, []).append(i)
    dropped = {i for rows in empty.values() if len(rows) > keep for i in rng.sample(rows, len(rows) - keep)}
    kept = [i for i in range(len(feats.input_ids)) if i not in dropped]
    return Features(*([getattr(feats, f)[i] for i in kept] for f in
                      ("input_ids", "type_ids", "offsets", "example_index", "start_positions", "end_positions")))


def pad_features(feats: Features, max_length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Dense int32 arrays (ids, type ids, mask) padded to max_length, plus lengths."""
    n = len(feats.input_ids)
    ids = np.zeros((n, max_length), dtype=np.int32)
    types = np.zeros((n, max_length), dtype=np.int32)
    lengths = np.zeros(n, dtype=np.int32)
    for i, (a, t) in enumerate(zip(feats.input_ids, feats.type_ids)):
        ids[i, : len(a)] = a
        types[i, : len(t)] = t
        lengths[i] = len(a)
    mask = (np.arange(max_length)[None, :] < lengths[:, None]).astype(np.int32)
    return ids, types, mask, lengths


# ------------------------------------------------------------------- decoding


@dataclass
class Prediction:
    text: str
    score: float  # best span start+end logit
    null_score: float  # min over windows of CLS start+end logit


def decode_predictions(
    examples: list[Example],
    feats: Features,
    start_logits: list[np.ndarray],
    end_logits: list[np.ndarray],
    n_best: int = 20,
    max_answer_tokens: int = 30,
) -> dict[str, Prediction]:
    """Best non-null span per example over all its windows (standard HF post-processing)."""
    by_example: dict[int, list[int]] = collections.defaultdict(list)
    for i, e in enumerate(feats.example_index):
        by_example[e].append(i)
    preds: dict[str, Prediction] = {}
    for e_idx, ex in enumerate(examples):
        best_text, best_score, null = "", -np.inf, np.inf
        for f in by_example.get(e_idx, []):
            sl, el, offs = start_logits[f], end_logits[f], feats.offsets[f]
            null = min(null, float(sl[0] + el[0]))
            starts = np.argsort(sl)[::-1][:n_best]
            ends = np.argsort(el)[::-1][:n_best]
            for s in starts:
                if s >= len(offs) or offs[s] is None:
                    continue
                for en in ends:
                    if en >= len(offs) or offs[en] is None or en < s or en - s + 1 > max_answer_tokens:
                        continue
                    score = float(sl[s] + el[en])
                    if score > best_score:
                        best_score = score
                        best_text = ex.context[offs[s][0] : offs[en][1]]
        preds[ex.qid] = Prediction(best_text, best_score, null)
    return preds


# --------------------------------------------------------------------- metric


def normalize_answer(s: str) -> str:
    """Official SQuAD normalisation."""

    def remove_articles(text: str) -> str:
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text: str) -> str:
        return " ".join(text.split())

    def remove_punc(text: str) -> str:
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def f1_score(prediction: str, ground_truth: str) -> float:
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(ground_truth).split()
    if not pred_tokens or not gold_tokens:  # v2.0 rule: both empty -> 1, else 0
        return float(pred_tokens == gold_tokens)
    common = collections.Counter(pred_tokens) & collections.Counter(gold_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision = num_same / len(pred_tokens)
    recall = num_same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, ground_truth: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(ground_truth))


def score_example(prediction: str, golds: list[str]) -> tuple[float, float]:
    """(EM, F1) against all gold answers; unanswerable gold = [""]."""
    golds = golds or [""]
    return max(exact_match(prediction, g) for g in golds), max(f1_score(prediction, g) for g in golds)


def squad_v1_scores(examples: list[Example], texts: dict[str, str]) -> dict[str, float]:
    """EM/F1 (percent) of predicted answer texts on answerable examples."""
    em = f1 = 0.0
    for ex in examples:
        e, f = score_example(texts.get(ex.qid, ""), ex.answers)
        em += e
        f1 += f
    n = max(len(examples), 1)
    return {"exact_match": 100 * em / n, "f1": 100 * f1 / n, "total": len(examples)}


def squad_v2_scores(examples: list[Example], texts: dict[str, str]) -> dict[str, float]:
    """Overall, HasAns and NoAns EM/F1 (percent), as the official v2.0 script; "" = abstain."""
    rows = {"all": [], "HasAns": [], "NoAns": []}
    for ex in examples:
        e, f = score_example(texts.get(ex.qid, ""), ex.answers)
        rows["all"].append((e, f))
        rows["HasAns" if ex.answers else "NoAns"].append((e, f))
    out: dict[str, float] = {}
    for k, v in rows.items():
        n = max(len(v), 1)
        out[f"{k}_exact"] = 100 * sum(x[0] for x in v) / n
        out[f"{k}_f1"] = 100 * sum(x[1] for x in v) / n
        out[f"{k}_total"] = len(v)
    return out


def v2_texts(preds: dict[str, Prediction], null_margin: float = 0.0) -> dict[str, str]:
    """Abstain ("") when the null score beats the best span score by more than -margin."""
    return {q: (p.text if p.score > p.null_score + null_margin else "") for q, p in preds.items()}


def best_v2_threshold(examples: list[Example], preds: dict[str, Prediction]) -> tuple[float, float]:
    """Null-margin maximising v2 F1 (reported separately: tuned on the eval set itself)."""
    best = (0.0, -1.0)
    for m in np.arange(-6.0, 6.01, 0.5):
        f1 = squad_v2_scores(examples, v2_texts(preds, float(m)))["all_f1"]
        if f1 > best[1]:
            best = (float(m), f1)
    return best
