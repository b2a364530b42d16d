"""The shipped reader's weights, read back out of its int8 ONNX file, to continue training from.

Why: the second release's fp16 training weights were never kept (MODEL_CARD.md: they were
git-ignored on a machine that is gone); only `qa/models/reader/model.onnx` ships. It holds every
weight, quantised per output channel (MatMul) or per tensor (the embedding tables), plus the
fp32 biases and LayerNorms under their PyTorch names. Dequantising, `(q - zero_point) * scale`,
gives the model the product runs, up to int8 rounding (which the model card measured as costing
nothing: int8 F1 80.71 vs fp32 80.58). A continued fine-tune starts there instead of from the
MiniLM base with a fresh head.

A MatMul weight is named by its node's output (`/model/bert/encoder/layer.0/attention/self/query/
MatMul_output_0...`) rather than by the initializer (`onnx::MatMul_724`), so the mapping follows the
module path the exporter wrote, not the order of the initializers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

_PREFIX = "model."  # export_reader.QAWrapper holds the model as `self.model`


def state_dict(path: Path) -> dict[str, np.ndarray]:
    """fp32 PyTorch state dict (BertForQuestionAnswering names) of an int8 or fp32 reader ONNX."""
    graph = onnx.load(str(path)).graph
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    out: dict[str, np.ndarray] = {}
    for name, value in init.items():
        if name.startswith(_PREFIX) and not name.endswith(("_quantized", "_scale", "_zero_point")):
            out[name[len(_PREFIX):]] = value.astype(np.float32)  # biases, LayerNorms, fp32 weights
        elif name.startswith(_PREFIX) and name.endswith(".weight_quantized"):
            base = name[: -len("_quantized")]  # an embedding table, quantised per tensor
            out[base[len(_PREFIX):]] = _dequantize(value, init[base + "_scale"], init[base + "_zero_point"])
    for node in graph.node:  # attention's MatMuls multiply activations: no initializer, skipped
        if node.op_type in ("MatMulInteger", "MatMul") and node.input[1] in init:
            out[_module(node.output[0]) + ".weight"] = _matmul_weight(node, init)
    return out


def _matmul_weight(node, init: dict[str, np.ndarray]) -> np.ndarray:
    """The Linear weight (out, in) behind a MatMul over an initializer [in, out]."""
    b = node.input[1]
    if node.op_type == "MatMul":
        return np.ascontiguousarray(init[b].T, dtype=np.float32)
    stem = b[: -len("_quantized")]
    return np.ascontiguousarray(_dequantize(init[b], init[stem + "_scale"], init[stem + "_zero_point"]).T)


def _dequantize(q: np.ndarray, scale: np.ndarray, zero_point: np.ndarray) -> np.ndarray:
    """Per tensor (scalar scale) or per output column (scale of the last axis' length)."""
    return ((q.astype(np.float32) - zero_point.astype(np.float32)) * scale.astype(np.float32)).astype(np.float32)


def _module(output: str) -> str:
    """'/model/bert/encoder/layer.0/attention/self/query/MatMul_output_0_output_quantized' ->
    'bert.encoder.layer.0.attention.self.query'."""
    path = output.split("/MatMul")[0].strip("/").split("/")
    if path[0] == _PREFIX.rstrip("."):
        path = path[1:]
    return ".".join(path)
