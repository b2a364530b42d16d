"""A teacher reader's span logits, aligned to the student's windows, and the distillation loss
(issue 16: a stronger teacher distilled into the MiniLM-L6 reader the product ships).

Why alignment by characters: the teacher (all-mpnet-base-v2 with a QA head) and the student
(MiniLM-L6) have different special tokens (`<s> q </s></s> c </s>` against `[CLS] q [SEP] c
[SEP]`) and may split words differently, so token positions do not correspond. Each student
window is a character span of its context; the teacher reads the same question with exactly that
span, and its logit for the token starting (ending) at a character becomes the student's target
at the student token starting (ending) there. Position 0 (CLS / `<s>`, the no-answer position of
both) maps to 0. Student positions with no teacher token (question tokens, separators, padding, a
word the two tokenizers split differently) get -1e4: no probability in the teacher's distribution.

The teacher reads every window once, before the student's training starts, so the student run
needs no teacher in memory afterwards.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

import squad_utils as su

NO_TARGET = -1e4


def teacher_features(tok, examples: list[su.Example], feats: su.Features) -> tuple[su.Features, np.ndarray, np.ndarray]:
    """The teacher's window for each student window, and, per student position, the teacher
    position whose token starts (`start_map`) or ends (`end_map`) at the same character (-1: none).
    `tok` must not truncate below the student's window length (the teacher's adds 1-2 tokens)."""
    width = max(len(ids) for ids in feats.input_ids)
    start_map = np.full((len(feats.input_ids), width), -1, dtype=np.int64)
    end_map = np.full_like(start_map, -1)
    pairs, spans = [], []
    for offsets, e in zip(feats.offsets, feats.example_index):
        chars = [o for o in offsets if o is not None]
        a, b = (chars[0][0], chars[-1][1]) if chars else (0, 0)
        ex = examples[e]
        pairs.append((su.clip_question(tok, ex.question), ex.context[a:b]))
        spans.append(a)
    out = su.Features()
    for i, enc in enumerate(tok.encode_batch(pairs)):
        if enc.overflowing:
            raise ValueError(f"teacher window {i} overflows the teacher's max_length; raise it")
        out.input_ids.append(enc.ids)
        out.type_ids.append(enc.type_ids)
        out.offsets.append([(s + spans[i], t + spans[i]) if q == 1 else None for (s, t), q in zip(enc.offsets, enc.sequence_ids)])
        out.example_index.append(feats.example_index[i])
        starts = {o[0]: j for j, o in enumerate(out.offsets[i]) if o is not None}
        ends = {o[1]: j for j, o in enumerate(out.offsets[i]) if o is not None}
        start_map[i, 0] = end_map[i, 0] = 0
        for j, o in enumerate(feats.offsets[i]):
            if o is not None:
                start_map[i, j] = starts.get(o[0], -1)
                end_map[i, j] = ends.get(o[1], -1)
    return out, start_map, end_map


def aligned_logits(teacher_logits: list[np.ndarray], index_map: np.ndarray) -> np.ndarray:
    """Teacher logits gathered at the student's positions (float16; NO_TARGET where unmapped)."""
    out = np.full(index_map.shape, NO_TARGET, dtype=np.float32)
    for i, logits in enumerate(teacher_logits):
        ok = index_map[i] >= 0
        out[i, ok] = logits[index_map[i, ok]]
    return out.astype(np.float16)


def coverage(feats: su.Features, start_map: np.ndarray) -> float:
    """Share of the student's context tokens that have a teacher target (logged: a low value
    means the tokenizers disagree and the distillation signal is thin)."""
    total = mapped = 0
    for i, offsets in enumerate(feats.offsets):
        idx = [j for j, o in enumerate(offsets) if o is not None]
        total += len(idx)
        mapped += int((start_map[i, idx] >= 0).sum())
    return mapped / max(1, total)


def loss(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """KL(teacher || student) over positions at `temperature`, times T^2 so its gradient keeps
    the scale of the cross-entropy it is mixed with (Hinton et al.). The student's padding
    positions sit in its softmax as they do in the cross-entropy; the teacher gives them none."""
    t = torch.log_softmax(teacher.float() / temperature, dim=-1)
    s = torch.log_softmax(student.float() / temperature, dim=-1)
    return torch.nn.functional.kl_div(s, t, log_target=True, reduction="batchmean") * temperature**2


def load_teacher(export_dir: Path, device: torch.device):
    """A reader trained by train_reader.py (its fp16 parts, config.json and tokenizer.json)."""
    import export_reader

    model = export_reader.load_trained(export_dir).to(device)
    return model, su.load_tokenizer(export_dir / "tokenizer.json", 512, 128)
