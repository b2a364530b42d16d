"""Extractive span reader: finds answer spans in given contexts with an ONNX model.

Runs on CPU with onnxruntime and `tokenizers` only (no torch), so the service
stays light. The model is Verbatim's own MiniLM-L6 reader fine-tuned on SQuAD
(see training/MODEL_CARD.md); it outputs start/end logits per token, with the
CLS token (index 0) standing for "no answer in this window".

Every span is returned as exact character offsets into the caller's context
string, so citations can quote `contexts[i][start:end]` verbatim.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Encoding, Tokenizer

DEFAULT_MODEL_DIR = Path(__file__).parent.parent / "models" / "reader"  # qa/models/reader
MAX_QUESTION_TOKENS = 64
_TOP_K = 20  # start/end positions examined per window


@dataclass(frozen=True)
class SpanCandidate:
    context_index: int  # which of the given contexts
    start: int  # char offset into that context string
    end: int  # exclusive; contexts[i][start:end] is the span text
    score: float  # p_start[s] * p_end[e], softmax over all tokens of the window incl. CLS
    null_score: float  # p_start[CLS] * p_end[CLS] for the window the span came from


def _softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max()
    e = np.exp(x)
    return e / e.sum()


class SpanModel:
    """Loads the ONNX reader and its tokenizer once; `predict` is thread-safe."""

    def __init__(self, model_dir: Path = DEFAULT_MODEL_DIR, max_length: int = 384, stride: int = 128, threads: int | None = None) -> None:
        model_dir = Path(model_dir)
        self.max_length = max_length
        self.stride = stride
        self._tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tok.no_padding()
        self._tok.enable_truncation(max_length=max_length, stride=stride, strategy="only_second")
        self._qtok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._qtok.no_padding()
        self._qtok.no_truncation()
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
        # Threads left spinning after the last window would take the cores from what follows (the
        # answer's citations, the HTTP reply, the next question's embedding).
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(model_dir / "model.onnx"), sess_options=opts, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}

    # ----------------------------------------------------------------- helpers

    def _clip_question(self, question: str) -> str:
        """Keep at most 64 question tokens so every window has room for context."""
        question = question.strip()
        enc = self._qtok.encode(question, add_special_tokens=False)
        if len(enc.ids) <= MAX_QUESTION_TOKENS:
            return question
        return question[: enc.offsets[MAX_QUESTION_TOKENS - 1][1]]

    def _windows(self, question: str, contexts: list[str]) -> list[tuple[int, Encoding]]:
        """(context index, window) for every window of every non-blank context."""
        keep = [i for i, c in enumerate(contexts) if c.strip()]
        if not keep:
            return []
        encs = self._tok.encode_batch([(question, contexts[i]) for i in keep])
        out: list[tuple[int, Encoding]] = []
        for i, enc in zip(keep, encs):
            out.extend((i, w) for w in [enc, *enc.overflowing])
        return out

    def _run(self, windows: list[Encoding]) -> tuple[np.ndarray, np.ndarray]:
        """One ONNX call per window, logits gathered into (windows, longest) arrays.

        Why not one padded batch: retrieved passages differ in length, so padding was ~40% of
        the tokens the model ran over (measured: 1.6x slower on 8 SQuAD passages); and the int8
        model quantises activations with one scale per call, so in a batch a window's logits
        depended on the other passages beside it. Alone, each window reads as in evaluation."""
        n, L = len(windows), max(len(w.ids) for w in windows)
        start = np.full((n, L), -1e4, dtype=np.float32)
        end = np.full((n, L), -1e4, dtype=np.float32)
        for k, w in enumerate(windows):
            m = len(w.ids)
            feed = {
                "input_ids": np.asarray([w.ids], dtype=np.int64),
                "attention_mask": np.ones((1, m), dtype=np.int64),
                "token_type_ids": np.asarray([w.type_ids], dtype=np.int64),
            }
            s, e = self._session.run(["start_logits", "end_logits"], {k2: v for k2, v in feed.items() if k2 in self._inputs})
            start[k, :m], end[k, :m] = s[0], e[0]
        return start, end

    @staticmethod
    def _trim(context: str, start: int, end: int) -> tuple[int, int]:
        while start < end and context[start].isspace():
            start += 1
        while end > start and context[end - 1].isspace():
            end -= 1
        return start, end

    def _window_spans(self, w: Encoding, start_logits: np.ndarray, end_logits: np.ndarray, max_answer_tokens: int):
        """Yield (score, null, char_start, char_end) for valid spans of one window."""
        m = len(w.ids)
        ps, pe = _softmax(start_logits[:m]), _softmax(end_logits[:m])
        null = float(ps[0] * pe[0])
        seq = w.sequence_ids
        is_ctx = np.array([s == 1 for s in seq])
        starts = [int(s) for s in np.argsort(-ps)[:_TOP_K] if is_ctx[s]]
        ends = [int(e) for e in np.argsort(-pe)[:_TOP_K] if is_ctx[e]]
        offs = w.offsets
        for s in starts:
            for e in ends:
                if e < s or e - s + 1 > max_answer_tokens:
                    continue
                yield float(ps[s] * pe[e]), null, offs[s][0], offs[e][1]

    # -------------------------------------------------------------------- API

    def predict(self, question: str, contexts: list[str], top_n: int = 3, max_answer_tokens: int = 30) -> list[SpanCandidate]:
        """Batch all windows of all contexts into one ONNX call (dynamic padding),
        return the best candidates per context (up to top_n each), sorted by score desc."""
        if not contexts or not question.strip():
            return []
        windows = self._windows(self._clip_question(question), contexts)
        if not windows:
            return []
        start, end = self._run([w for _, w in windows])
        best: dict[int, dict[tuple[int, int], SpanCandidate]] = {}
        for k, (ci, w) in enumerate(windows):
            for score, null, cs, ce in self._window_spans(w, start[k], end[k], max_answer_tokens):
                cs, ce = self._trim(contexts[ci], cs, ce)
                if cs >= ce:
                    continue
                per_ctx = best.setdefault(ci, {})
                old = per_ctx.get((cs, ce))
                if old is None or score > old.score:
                    per_ctx[(cs, ce)] = SpanCandidate(ci, cs, ce, score, null)
        out: list[SpanCandidate] = []
        for per_ctx in best.values():
            out.extend(sorted(per_ctx.values(), key=lambda c: -c.score)[:top_n])
        return sorted(out, key=lambda c: (-c.score, c.context_index, c.start))
