"""The shipped reader's weights read back out of its int8 ONNX file (training/onnx_weights.py), the
starting point of a continued fine-tune: every Linear and embedding under its PyTorch name and
shape, and, loaded into PyTorch, the same answers as the ONNX model the product runs."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "training"))

import onnx_weights  # noqa: E402

MODEL = ROOT / "qa/models/reader/model.onnx"


@pytest.fixture(scope="module")
def state() -> dict[str, np.ndarray]:
    return onnx_weights.state_dict(MODEL)


def test_every_weight_has_its_pytorch_name_and_shape(state):
    assert len(state) == 103  # 6 layers x 16 + 5 embedding tensors + the 2 of the QA head
    assert state["bert.embeddings.word_embeddings.weight"].shape == (30522, 384)
    assert state["bert.encoder.layer.5.intermediate.dense.weight"].shape == (1536, 384)  # (out, in), as nn.Linear
    assert state["bert.encoder.layer.5.output.dense.weight"].shape == (384, 1536)
    assert state["qa_outputs.weight"].shape == (2, 384) and state["qa_outputs.bias"].shape == (2,)
    assert all(v.dtype == np.float32 and np.isfinite(v).all() for v in state.values())


def test_module_path_from_the_node_output():
    out = "/model/bert/encoder/layer.0/attention/self/query/MatMul_output_0_output_quantized"
    assert onnx_weights._module(out) == "bert.encoder.layer.0.attention.self.query"


@pytest.mark.slow
def test_pytorch_with_these_weights_answers_as_the_onnx_reader(state):
    import onnxruntime as ort
    import torch
    from tokenizers import Tokenizer
    from transformers import BertConfig, BertForQuestionAnswering

    config = BertConfig(vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536)
    model = BertForQuestionAnswering(config)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
    model.eval()
    tok = Tokenizer.from_file(str(MODEL.parent / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    session = ort.InferenceSession(str(MODEL), providers=["CPUExecutionProvider"])
    pairs = [("Who founded Acme Bakery?", "Acme Bakery was founded by Jane Doe in Lyon in 1998."),
             ("When did the Normans conquer England?", "The Normans conquered England in 1066 under William."),
             ("Where is the Eiffel Tower?", "The Eiffel Tower stands in Paris, on the Champ de Mars.")]
    for question, context in pairs:
        enc = tok.encode(question, context)
        feed = {"input_ids": np.array([enc.ids]), "attention_mask": np.array([enc.attention_mask]),
                "token_type_ids": np.array([enc.type_ids])}
        start, end = session.run(["start_logits", "end_logits"], feed)
        with torch.no_grad():
            out = model(**{k: torch.from_numpy(v) for k, v in feed.items()})
        assert out.start_logits.argmax() == start.argmax() and out.end_logits.argmax() == end.argmax()
        assert np.corrcoef(out.start_logits.numpy()[0], start[0])[0, 1] > 0.98
