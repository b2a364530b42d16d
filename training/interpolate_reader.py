"""Interpolate a continued fine-tune with the reader it started from (WiSE-FT: Wortsman et al.,
"Robust fine-tuning of zero-shot models", 2022): each weight (1 - alpha) * start + alpha * tuned.
Why: the continued fine-tune on the issue 16 mix (news-like, web, dialogue, review questions)
moved the out-of-domain sets a lot and cost a little on SQuAD, the seed page and the manuals;
averaging the weights of two models fine-tuned from one another tends to keep most of both.

    python training/interpolate_reader.py --start qa/models/reader/model.onnx \\
        --tuned RUN/export --alpha 0.5 --base-model BASE --out RUN/interp-0.5
then `export_reader.py --weights RUN/interp-0.5 ...` as for any trained reader.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

TRAINING = Path(__file__).resolve().parent
sys.path.insert(0, str(TRAINING))

from export_reader import load_trained  # noqa: E402
from train_reader import export_fp16_parts, load_model  # noqa: E402


def interpolate(start: torch.nn.Module, tuned: torch.nn.Module, alpha: float) -> torch.nn.Module:
    """`tuned` with every floating weight moved to (1 - alpha) * start + alpha * tuned."""
    begin = start.state_dict()
    mixed = {k: (1 - alpha) * begin[k] + alpha * v if v.is_floating_point() else v for k, v in tuned.state_dict().items()}
    tuned.load_state_dict(mixed)
    return tuned


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--start", type=Path, required=True, help="the reader's int8 ONNX the fine-tune started from")
    p.add_argument("--tuned", type=Path, required=True, help="the fine-tune's fp16 parts (train_reader.py --export-dir)")
    p.add_argument("--base-model", type=Path, required=True, help="folder with config.json of the architecture")
    p.add_argument("--alpha", type=float, default=0.5, help="share of the fine-tune: 0 = start, 1 = tuned")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    start = load_model(args.base_model, torch.device("cpu"), args.start)
    mixed = interpolate(start, load_trained(args.tuned), args.alpha)
    export_fp16_parts(mixed, args.base_model, args.out, {"interpolated": {"start": str(args.start), "tuned": str(args.tuned),
                                                                        "alpha": args.alpha}})
    print(f"wrote {args.out} (alpha {args.alpha})")


if __name__ == "__main__":
    main()
