"""Rebuild a transformers checkpoint of Verbatim's reader from its fp32 ONNX file, so a peer that
only loads transformers models (Haystack's ExtractiveReader) runs the very same weights.

Why: the training checkpoint (training/runs/reader-gpu) is not kept on this machine; the fp32
export (training/runs/onnx/fp32/model.onnx) holds every weight. The TorchScript exporter keeps
parameter names for biases, LayerNorms and embeddings, and stores each Linear weight transposed
under `onnx::MatMul_N`, consumed by a node named after the module (`/model/bert/.../query/MatMul`).
The shipped int8 file cannot be used: its MatMul weights are quantised. The result is checked
against onnxruntime on real inputs before use.

    .venv/bin/python benchmarks/reader_to_hf.py
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FP32 = ROOT / "training" / "runs" / "onnx" / "fp32" / "model.onnx"
TOKENIZER = ROOT / "qa" / "models" / "reader" / "tokenizer.json"
TARGET = ROOT / "benchmarks" / "out" / "reader-hf"


def state_dict(onnx_path: Path) -> dict[str, np.ndarray]:
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(onnx_path))
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    state = {k.removeprefix("model."): v for k, v in inits.items() if not k.startswith("onnx::")}
    for node in model.graph.node:
        weight = next((i for i in node.input if i.startswith("onnx::MatMul")), None)
        if node.op_type == "MatMul" and weight in inits:
            module = node.name.removeprefix("/model/").removesuffix("/MatMul").replace("/", ".")
            state[f"{module}.weight"] = inits[weight].T.copy()
    return state


def convert(onnx_path: Path = FP32, target: Path = TARGET) -> Path:
    import torch
    from transformers import BertConfig, BertForQuestionAnswering

    from qa.embed.base import PACKAGED_MODELS

    base = PACKAGED_MODELS["all-MiniLM-L6-v2"][0]()
    config = BertConfig.from_pretrained(str(base), architectures=["BertForQuestionAnswering"], num_labels=2)
    model = BertForQuestionAnswering(config).eval()
    tensors = {k: torch.from_numpy(v) for k, v in state_dict(onnx_path).items()}
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    missing = [m for m in missing if not m.endswith("position_ids")]
    if missing or unexpected:
        raise SystemExit(f"weights do not map: missing {missing[:5]}, unexpected {unexpected[:5]}")
    target.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(target))
    shutil.copy(TOKENIZER, target / "tokenizer.json")
    for name in ("tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
        shutil.copy(base / name, target / name)
    check(model, onnx_path)
    return target


def check(model, onnx_path: Path) -> float:
    """Max |logit| difference against onnxruntime on a real question and paragraph."""
    import onnxruntime as ort
    import torch
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(TOKENIZER))
    enc = tok.encode("Which NFL team represented the AFC at Super Bowl 50?",
                     "The American Football Conference (AFC) champion Denver Broncos defeated the Carolina Panthers.")
    feed = {"input_ids": np.array([enc.ids]), "attention_mask": np.array([enc.attention_mask]),
            "token_type_ids": np.array([enc.type_ids])}
    start, _ = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"]).run(None, feed)
    with torch.no_grad():
        out = model(**{k: torch.from_numpy(v) for k, v in feed.items()})
    diff = float(np.abs(out.start_logits.numpy() - start).max())
    if diff > 1e-3:
        raise SystemExit(f"converted reader disagrees with the ONNX file (max logit diff {diff})")
    print(json.dumps({"reader_hf": str(target_rel(TARGET)), "max_logit_diff": diff}))
    return diff


def target_rel(path: Path) -> Path:
    return path.relative_to(ROOT)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if not FP32.is_file():
        raise SystemExit(f"{FP32} is missing: only the fp32 export can be turned back into a transformers model")
    convert()
