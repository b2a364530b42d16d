"""The reader's int8 export (training/export_reader.py): which weights are quantised, and that
`onnx_weights` reads a mixed file back, as a continued fine-tune starts from the shipped model."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "training"))

pytestmark = pytest.mark.slow


def test_int8_keeps_the_feed_forward_outputs_fp32_and_reads_back(tmp_path):
    import onnx
    import torch
    from transformers import BertConfig, BertForQuestionAnswering

    import export_reader
    import onnx_weights

    torch.manual_seed(0)
    config = BertConfig(vocab_size=2048, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
    model = BertForQuestionAnswering(config).eval()
    fp32, int8 = tmp_path / "fp32.onnx", tmp_path / "int8.onnx"
    export_reader.export_onnx(model, fp32, 17)
    export_reader.quantize_int8(fp32, int8)

    ops = {n.name: n.op_type for n in onnx.load(str(int8)).graph.node}
    kept = {name for name, op in ops.items() if op == "MatMul" and export_reader.FP32_MATMULS.search(name)}
    assert kept == {f"/model/bert/encoder/layer.{k}/output/dense/MatMul" for k in range(2)}
    assert sum(op == "MatMulInteger" for op in ops.values()) == 2 * 5 + 1  # q, k, v, attention out, FFN in; the head

    state = onnx_weights.state_dict(int8)
    torch_state = model.state_dict()
    for k in range(2):
        name = f"bert.encoder.layer.{k}.output.dense.weight"
        assert np.array_equal(state[name], torch_state[name].numpy())  # fp32: exact
    quantised = "bert.encoder.layer.0.intermediate.dense.weight"
    assert np.abs(state[quantised] - torch_state[quantised].numpy()).max() < 0.01  # int8: within rounding
