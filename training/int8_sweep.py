"""Which of the reader's MatMuls int8 hurts: quantise one fp32 reader ONNX several times, each
time leaving a different set of MatMuls fp32, and score each on SQuAD v1.1 dev over the gold
paragraphs. Why: int8's cost differed between fine-tunes of the same architecture (0.6 to 3.8
F1), and `export_reader.FP32_MATMULS` (the feed-forward output projections) was chosen from
this sweep (MODEL_CARD.md, "Export: the feed-forward output projections stay fp32").

    python training/int8_sweep.py RUN/onnx/model-fp32.onnx --keep none --keep ffn-out --keep ffn-out:0123
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

TRAINING = Path(__file__).resolve().parent
sys.path.insert(0, str(TRAINING))

import eval_reader  # noqa: E402
from export_reader import feed_forward_outputs, quantize_int8, stage  # noqa: E402

ROOT = TRAINING.parent


def kept(spec: str, outputs: dict[str, int]) -> list[str]:
    """`none`; `ffn-out` (every layer's feed-forward output); `ffn-out:013` (layers 0, 1 and 3);
    `head`. `outputs`: the feed-forward output MatMuls with their layer."""
    if spec == "none":
        return []
    if spec == "head":
        return ["/model/qa_outputs/MatMul"]
    name, _, which = spec.partition(":")
    if name != "ffn-out":
        raise SystemExit(f"unknown --keep {spec!r}: none, head, ffn-out or ffn-out:DIGITS")
    return [node for node, layer in outputs.items() if not which or str(layer) in which]


def sweep(fp32: Path, specs: list[str], v1: Path, limit: int, tokenizer: Path) -> list[dict]:
    outputs = feed_forward_outputs(fp32)
    rows = []
    for spec in specs:
        keep = kept(spec, outputs)
        with tempfile.TemporaryDirectory() as work:
            int8 = Path(work) / "int8.onnx"
            quantize_int8(fp32, int8, keep)
            result = eval_reader.run(stage(int8, tokenizer, Path(work) / "model"), v1, None, limit, None)
            rows.append({"keep": spec, "fp32_matmuls": len(keep), "mb": round(int8.stat().st_size / 1e6, 1),
                         "f1": round(result["squad_v1.1_dev"]["f1"], 2)})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("fp32", type=Path, help="a reader exported by export_reader.py (its model-fp32.onnx)")
    p.add_argument("--keep", action="append", default=None, help="MatMuls left fp32, repeatable (default: none, ffn-out)")
    p.add_argument("--v1", type=Path, default=ROOT.parent / "shared/eval/squad-v1.1-dev.json")
    p.add_argument("--limit", type=int, default=300)
    p.add_argument("--tokenizer", type=Path, default=ROOT / "qa/models/reader/tokenizer.json")
    args = p.parse_args(argv)
    sweep(args.fp32, args.keep or ["none", "ffn-out"], args.v1, args.limit, args.tokenizer)


if __name__ == "__main__":
    main()
