"""Fine-tune Verbatim's extractive QA reader (MiniLM-L6 + span head) on SQuAD.

Why this script exists: no SQuAD-trained reader is available offline, so we
train our own from the all-MiniLM-L6-v2 encoder (22M parameters, small enough
to run on a CPU in the product) on SQuAD v1.1 train + SQuAD 2.0 unanswerable
questions, minus the 32 train paragraphs that overlap the dev set.

One command reproduces the shipped model (seed fixed; on an H200 `--time-budget-s 240` cut
3 epochs to 6,818 steps; see MODEL_CARD.md, "Second release"):

    python training/train_reader.py --base-model .carry/base \
        --train .carry/data/train.json.gz --overlap .carry/data/overlap.json \
        --eval-v1 .carry/data/dev-v1.1.json.gz --eval-v2 .carry/data/dev-v2-half.json.gz \
        --output-dir training/runs/reader --export-dir training/runs/reader/export \
        --epochs 3 --distractors 0.5 --unanswerable-repeat 2 --time-budget-s 240

Design choices:
- Windows of 384 tokens with stride 128; unanswerable questions and windows
  that miss the answer point at CLS (SQuAD 2.0 convention), so the reader can
  abstain and the product gets a calibrated "no answer" probability.
- `--distractors` pairs a share of the answerable questions with their article's most
  question-like other paragraph, labelled unanswerable (`squad_utils.HardNegatives`): in the
  product the reader sees such neighbours beside the right passage and must refuse them.
- Batches are grouped by length and padded per batch (dynamic padding): SQuAD
  windows are mostly far shorter than 384 tokens, so this roughly halves the
  compute.
- `--time-budget-s` measures the step time after a few steps and, if the
  planned schedule would not fit, shortens it (the linear decay still ends at
  zero), so a run on a rented GPU always finishes with a coherent model.
- After every epoch the weights are written as fp16 safetensors split into
  <=15 MiB parts (`--export-dir`) with a metrics JSON, so a run cut short
  still leaves a usable model; `--output-dir` holds a full checkpoint
  (optimizer, scheduler, RNG) that `--resume` continues from.
- Runs on CPU too (`--device cpu`, fp32), e.g. for a smoke test with
  `--max-examples 300 --max-steps 5`.
- Beyond SQuAD (issue 16): `--mix FILE` trains on a mix built by `reader_mix.py` (SQuAD replay,
  DoQA, SubjQA, TyDi QA, doc2dial, with their distractors; per-source counts in the metrics)
  instead of `--train`; `--init-from-onnx qa/models/reader/model.onnx` continues from the shipped
  reader's weights (`onnx_weights.py`) instead of the base with a fresh head. `--eval NAME=FILE`
  adds gold-paragraph figures on other SQuAD-format sets (evaluation only). `training/device_run.sh`
  is the whole GPU run.
- A teacher (issue 16): `--base-model` may be any encoder with a QA head in transformers (the
  all-mpnet-base-v2 teacher has no token type ids, so they are passed only to models that take
  them). `--teacher EXPORT_DIR` then distils that trained teacher's span logits into this run
  (`distil.py`: aligned by characters, mixed with the cross-entropy by `--distil-weight`).
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import os
import random
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import torch
from safetensors.torch import load_file, save
from transformers import AutoConfig, AutoModelForQuestionAnswering

sys.path.insert(0, str(Path(__file__).resolve().parent))
import distil  # noqa: E402
import squad_utils as su  # noqa: E402

PART_BYTES = 15 * 1024 * 1024


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base-model", type=Path, required=True, help="folder with config.json, model.safetensors, tokenizer.json")
    data = p.add_mutually_exclusive_group(required=True)
    data.add_argument("--train", type=Path, help="SQuAD 2.0-format training JSON (.json or .json.gz)")
    data.add_argument("--mix", type=Path, help="a training mix written by reader_mix.py (.json.gz)")
    p.add_argument("--mix-sources", default=None, help="with --mix: keep only these sources (comma-separated)")
    p.add_argument("--bare-dialogue", action="store_true", help="with --mix: dialogue turns as written, not rewritten")
    p.add_argument("--init-from-onnx", type=Path, default=None,
                   help="start from this reader ONNX's weights (e.g. qa/models/reader/model.onnx), not the base + a fresh head")
    p.add_argument("--overlap", type=Path, default=None, help="train paragraphs to drop (dev overlap)")
    p.add_argument("--eval-v1", type=Path, default=None, help="SQuAD v1.1 dev for EM/F1 after training")
    p.add_argument("--eval-v2", type=Path, default=None, help="SQuAD 2.0 dev (half) for HasAns/NoAns")
    p.add_argument("--eval", action="append", default=[], metavar="NAME=FILE",
                   help="another SQuAD-format set for gold-paragraph figures after training (repeatable)")
    p.add_argument("--output-dir", type=Path, required=True, help="full checkpoints (for --resume)")
    p.add_argument("--export-dir", type=Path, default=None, help="fp16 weight parts + metrics after each epoch")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--epochs", type=float, default=2.0)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--warmup", type=float, default=0.1, help="fraction of steps with linear warm-up")
    p.add_argument("--max-length", type=int, default=384)
    p.add_argument("--stride", type=int, default=128)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument(
        "--distractors", type=float, default=0.0,
        help="share of answerable questions also paired, as unanswerable, with their article's hardest other paragraph",
    )
    p.add_argument("--unanswerable-repeat", type=int, default=1, help="show each unanswerable question this many times")
    p.add_argument("--max-examples", type=int, default=None, help="use the first N training examples (smoke tests)")
    p.add_argument("--max-eval-examples", type=int, default=None)
    p.add_argument("--max-steps", type=int, default=None, help="stop after N optimizer steps (smoke tests)")
    p.add_argument("--time-budget-s", type=float, default=None, help="shorten the schedule to fit this many seconds of training")
    p.add_argument("--resume", action="store_true", help="continue from --output-dir/checkpoint.pt")
    p.add_argument("--max-empty-windows", type=int, default=None,
                   help="keep at most this many windows without the answer per example (default: all)")
    p.add_argument("--checkpoint-every", type=int, default=0,
                   help="also save a checkpoint every N steps inside an epoch (long CPU runs resume mid-epoch)")
    p.add_argument("--log-every", type=int, default=100)
    p.add_argument("--teacher", type=Path, default=None,
                   help="a reader trained by this script (its --export-dir) whose span logits the model learns too")
    p.add_argument("--distil-weight", type=float, default=0.5, help="share of the loss from the teacher's logits")
    p.add_argument("--distil-temperature", type=float, default=2.0)
    return p.parse_args(argv)


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ----------------------------------------------------------------------- model


def load_model(base: Path, device: torch.device, init_onnx: Path | None = None) -> torch.nn.Module:
    """Encoder weights from `base` (any float dtype) into an fp32 model with a fresh QA head, or,
    with `init_onnx`, every weight (head included) of a trained reader's ONNX file."""
    config = AutoConfig.from_pretrained(base)
    model = AutoModelForQuestionAnswering.from_config(config)
    if init_onnx is not None:
        import onnx_weights

        state = {k: torch.from_numpy(v) for k, v in onnx_weights.state_dict(init_onnx).items()}
        missing, unexpected = model.load_state_dict(state, strict=False)
        if [k for k in missing if "position_ids" not in k] or unexpected:
            raise RuntimeError(f"{init_onnx} does not match: missing={missing} unexpected={unexpected}")
        return model.to(device=device, dtype=torch.float32)
    state = {k: v.float() for k, v in load_file(str(base / "model.safetensors")).items()}
    prefix = model.base_model_prefix + "."
    if not any(k.startswith(prefix) for k in state):
        state = {prefix + k: v for k, v in state.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.startswith("qa_outputs")]
    unexpected = [k for k in unexpected if "position_ids" not in k and "pooler" not in k]
    if missing or unexpected:
        raise RuntimeError(f"weights do not match: missing={missing} unexpected={unexpected}")
    return model.to(device=device, dtype=torch.float32)


def make_optimizer(model: torch.nn.Module, lr: float, wd: float, device: torch.device) -> torch.optim.Optimizer:
    """AdamW; no weight decay on biases and LayerNorm weights (BERT recipe)."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        (no_decay if param.ndim < 2 else decay).append(param)
    groups = [{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, fused=device.type == "cuda")


class LinearSchedule:
    """Linear warm-up then linear decay to 0; `total` may be shortened mid-run."""

    def __init__(self, total: int, warmup_frac: float) -> None:
        self.total = total
        self.warmup_frac = warmup_frac

    def factor(self, step: int) -> float:
        warm = max(1, int(self.total * self.warmup_frac))
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (self.total - step) / max(1, self.total - warm))


# ------------------------------------------------------------------------ data


def length_grouped_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffle, sort within mega-chunks of 50 batches by length, then shuffle batches.

    Keeps batches random across the data but similar in length inside, so
    dynamic padding wastes little compute.
    """
    idx = rng.permutation(len(lengths))
    chunk = batch_size * 50
    batches = []
    for c0 in range(0, len(idx), chunk):
        part = idx[c0 : c0 + chunk]
        part = part[np.argsort(-lengths[part], kind="stable")]
        batches.extend(part[b : b + batch_size] for b in range(0, len(part), batch_size))
    order = rng.permutation(len(batches))
    return [batches[i] for i in order]


def squad_examples(args: argparse.Namespace) -> tuple[list[su.Example], dict]:
    """The SQuAD recipe of the shipped releases: one file, decontaminated, distractors added."""
    exclude = su.load_overlap(args.overlap) if args.overlap else set()
    examples = su.load_examples(args.train, exclude)
    n_all = len(examples)
    if args.max_examples:
        rng = random.Random(args.seed)
        examples = rng.sample(examples, min(args.max_examples, len(examples)))
    n_unanswerable = sum(1 for e in examples if not e.answers)
    distractors = su.HardNegatives(examples).distractors(examples, args.distractors, args.seed) if args.distractors else []
    examples += [e for e in examples if not e.answers] * (args.unanswerable_repeat - 1) + distractors
    return examples, {
        "train_examples_after_decontamination": n_all,
        "train_examples_used": len(examples),
        "unanswerable_used": n_unanswerable,
        "unanswerable_repeat": args.unanswerable_repeat,
        "distractors": len(distractors),
        "excluded_paragraphs": len(exclude),
    }


def mix_examples(args: argparse.Namespace) -> tuple[list[su.Example], dict]:
    """A mix file as built (its distractors and repeats are in it already); `--max-examples`
    samples it for a rehearsal."""
    import reader_mix

    sources = set(args.mix_sources.split(",")) if args.mix_sources else None
    examples, meta = reader_mix.load(args.mix, sources, args.bare_dialogue)
    if args.max_examples:
        examples = random.Random(args.seed).sample(examples, min(args.max_examples, len(examples)))
    return examples, {"mix": meta, "train_examples_used": len(examples)}


def load_training_features(args: argparse.Namespace, tok, device: torch.device) -> tuple[dict[str, torch.Tensor], np.ndarray, dict]:
    examples, stats = mix_examples(args) if args.mix else squad_examples(args)
    t0 = time.time()
    feats = su.build_features(tok, examples, with_labels=True)
    if args.max_empty_windows is not None:
        stats["windows_before_cap"] = len(feats.input_ids)
        feats = su.cap_empty_windows(feats, args.max_empty_windows, args.seed)
    ids, types, mask, lengths = su.pad_features(feats, args.max_length)
    stats["train_windows"] = len(lengths)
    stats["windows_labelled_cls"] = int(sum(1 for s in feats.start_positions if s == 0))
    if args.mix:
        stats["windows_by_source"] = dict(collections.Counter(examples[i].source for i in feats.example_index))
    log(f"tokenised {len(examples)} examples -> {len(lengths)} windows in {time.time() - t0:.1f}s; {stats}")
    tensors = {
        "input_ids": torch.from_numpy(ids).long(),
        "token_type_ids": torch.from_numpy(types).long(),
        "attention_mask": torch.from_numpy(mask).long(),
        "start_positions": torch.tensor(feats.start_positions, dtype=torch.long),
        "end_positions": torch.tensor(feats.end_positions, dtype=torch.long),
    }
    if args.teacher:
        tensors |= teacher_targets(args, examples, feats, device, stats)
    return tensors, lengths, stats


def teacher_targets(args: argparse.Namespace, examples: list[su.Example], feats: su.Features, device: torch.device,
                    stats: dict) -> dict[str, torch.Tensor]:
    """The teacher's start/end logits at each training window's positions (distil.py), computed
    once; the teacher is released before the student trains."""
    t0 = time.time()
    teacher, teacher_tok = distil.load_teacher(args.teacher, device)
    t_feats, start_map, end_map = distil.teacher_features(teacher_tok, examples, feats)
    starts, ends = predict_logits(teacher, t_feats, max(len(i) for i in t_feats.input_ids), device)
    del teacher
    stats["teacher"] = {"dir": str(args.teacher), "coverage": distil.coverage(feats, start_map),
                        "weight": args.distil_weight, "temperature": args.distil_temperature,
                        "seconds": round(time.time() - t0, 1)}
    log(f"teacher logits: {stats['teacher']}")
    pad = args.max_length - start_map.shape[1]
    return {name: torch.nn.functional.pad(torch.from_numpy(distil.aligned_logits(logits, index_map)), (0, pad),
                                          value=distil.NO_TARGET)
            for name, logits, index_map in (("teacher_start", starts, start_map), ("teacher_end", ends, end_map))}


# ------------------------------------------------------------------- training


def autocast(device: torch.device):
    """bf16 autocast on CUDA (H100); plain fp32 on CPU."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


def model_inputs(model, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The encoder's inputs; token type ids only for models that take them (BERT does, MPNet not)."""
    names = ["input_ids", "attention_mask"]
    if getattr(model.config, "type_vocab_size", 0):
        names.append("token_type_ids")
    return {k: batch[k] for k in names}


def train_step(model, batch: dict[str, torch.Tensor], optimizer, device: torch.device, args: argparse.Namespace) -> float:
    with autocast(device):
        out = model(**model_inputs(model, batch))
    start_logits = out.start_logits.float()
    end_logits = out.end_logits.float()
    loss_fn = torch.nn.functional.cross_entropy
    loss = (loss_fn(start_logits, batch["start_positions"]) + loss_fn(end_logits, batch["end_positions"])) / 2
    if "teacher_start" in batch:
        kd = (distil.loss(start_logits, batch["teacher_start"], args.distil_temperature)
              + distil.loss(end_logits, batch["teacher_end"], args.distil_temperature)) / 2
        loss = (1 - args.distil_weight) * loss + args.distil_weight * kd
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    return float(loss.detach())


def slice_batch(data: dict[str, torch.Tensor], idx: np.ndarray, lengths: np.ndarray, device: torch.device) -> dict[str, torch.Tensor]:
    """Gather one batch and cut the padding to its longest window (multiple of 8)."""
    L = int(lengths[idx].max())
    L = min(data["input_ids"].shape[1], (L + 7) // 8 * 8)
    ti = torch.from_numpy(idx).to(data["input_ids"].device)
    batch = {}
    for k, v in data.items():
        x = v.index_select(0, ti)
        batch[k] = (x[:, :L] if x.ndim == 2 else x).to(device, non_blocking=True)
    return batch


def save_checkpoint(path: Path, model, optimizer, sched: LinearSchedule, epoch: int, step: int, epoch_complete: bool = True) -> None:
    """`epoch_complete` False marks a mid-epoch save: a resume re-enters that epoch and skips the
    batches already seen (the batch order is a function of seed and epoch)."""
    path.mkdir(parents=True, exist_ok=True)
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "sched_total": sched.total,
        "epoch": epoch,
        "step": step,
        "epoch_complete": epoch_complete,
        "torch_rng": torch.get_rng_state(),
        "numpy_rng": np.random.get_state(),
    }
    tmp = path / "checkpoint.pt.tmp"
    torch.save(state, tmp)
    tmp.replace(path / "checkpoint.pt")


def export_fp16_parts(model, base: Path, export_dir: Path, metrics: dict) -> None:
    """The reader's weights as a folder of parts (see `write_parts`) with the base's tokenizer,
    so the folder alone can serve as a teacher (`--teacher`)."""
    model.config.architectures = [type(model).__name__]
    write_parts(model, export_dir, metrics)
    shutil.copy(base / "tokenizer.json", export_dir / "tokenizer.json")


def write_parts(model, export_dir: Path, metrics: dict) -> None:
    """fp16 safetensors bytes split into <=15 MiB parts + config + metrics.

    Splitting the serialized bytes (not tensors) keeps the 23 MB embedding
    matrix intact; export_reader.py concatenates the parts again.
    """
    export_dir.mkdir(parents=True, exist_ok=True)
    sd = {k: v.detach().to("cpu", torch.float16).contiguous() for k, v in model.state_dict().items()}
    blob = save(sd, metadata={"format": "pt"})
    for old in export_dir.glob("model.safetensors.part*"):
        old.unlink()
    for i in range(0, len(blob), PART_BYTES):
        (export_dir / f"model.safetensors.part{i // PART_BYTES:02d}").write_bytes(blob[i : i + PART_BYTES])
    (export_dir / "config.json").write_text(model.config.to_json_string())
    (export_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))


# ------------------------------------------------------------------ evaluation


@torch.no_grad()
def predict_logits(model, feats: su.Features, max_length: int, device: torch.device, batch_size: int = 256):
    """Start/end logits for every window (sorted by length for dynamic padding)."""
    model.eval()
    ids, types, mask, lengths = su.pad_features(feats, max_length)
    order = np.argsort(-lengths)
    starts: list[np.ndarray] = [None] * len(lengths)  # type: ignore[list-item]
    ends: list[np.ndarray] = [None] * len(lengths)  # type: ignore[list-item]
    for b in range(0, len(order), batch_size):
        idx = order[b : b + batch_size]
        L = int(lengths[idx].max())
        kw = {
            "input_ids": torch.from_numpy(ids[idx, :L]).long().to(device),
            "token_type_ids": torch.from_numpy(types[idx, :L]).long().to(device),
            "attention_mask": torch.from_numpy(mask[idx, :L]).long().to(device),
        }
        with autocast(device):
            out = model(**model_inputs(model, kw))
        s = out.start_logits.float().masked_fill(kw["attention_mask"] == 0, -1e4).cpu().numpy()
        e = out.end_logits.float().masked_fill(kw["attention_mask"] == 0, -1e4).cpu().numpy()
        for j, f in enumerate(idx):
            starts[f] = s[j, : lengths[f]]
            ends[f] = e[j, : lengths[f]]
    model.train()
    return starts, ends


def distractor_choice(model, tok, args: argparse.Namespace, device: torch.device, ex: list, preds: dict) -> dict:
    """Gold paragraph against the article's hardest other one: how often the reader's margin over
    its no-answer score is larger on the gold, and the F1 of the span it would then give."""
    hn = su.HardNegatives(ex)
    pairs = [(e, ctx) for e in ex if (ctx := hn.pick(e)) is not None]
    other = [su.Example(e.qid, e.question, ctx, [], [], e.title) for e, ctx in pairs]
    feats = su.build_features(tok, other, with_labels=False)
    s, e = predict_logits(model, feats, args.max_length, device)
    wrong = su.decode_predictions(other, feats, s, e)
    chosen, gold = {}, 0
    for e_, _ in pairs:
        g, w = preds[e_.qid], wrong[e_.qid]
        right = g.score - g.null_score >= w.score - w.null_score
        gold += right
        chosen[e_.qid] = g.text if right else w.text
    scores = su.squad_v1_scores([e_ for e_, _ in pairs], chosen)
    return {"pairs": len(pairs), "chose_gold": gold / max(1, len(pairs)), **scores}


def evaluate(model, tok, args: argparse.Namespace, device: torch.device) -> dict:
    """EM/F1 on SQuAD v1.1 dev (gold paragraph) and HasAns/NoAns on the v2.0 dev half."""
    results: dict = {}
    if args.eval_v1:
        ex = su.load_examples(args.eval_v1)[: args.max_eval_examples]
        feats = su.build_features(tok, ex, with_labels=False)
        s, e = predict_logits(model, feats, args.max_length, device)
        preds = su.decode_predictions(ex, feats, s, e)
        results["squad_v1.1_dev"] = su.squad_v1_scores(ex, {q: p.text for q, p in preds.items()})
        results["squad_v1.1_dev_vs_distractor"] = distractor_choice(model, tok, args, device, ex, preds)
    if args.eval_v2:
        ex = su.load_examples(args.eval_v2)[: args.max_eval_examples]
        feats = su.build_features(tok, ex, with_labels=False)
        s, e = predict_logits(model, feats, args.max_length, device)
        preds = su.decode_predictions(ex, feats, s, e)
        res = su.squad_v2_scores(ex, su.v2_texts(preds, 0.0))
        res["null_margin"] = 0.0
        m, f1 = su.best_v2_threshold(ex, preds)
        res["best_null_margin_on_this_set"] = m
        res["best_all_f1_on_this_set"] = f1
        results["squad_v2.0_dev_half"] = res
    for spec in args.eval:
        name, _, path = spec.partition("=")
        results[name] = evaluate_file(model, tok, args, device, Path(path))
    return results


def evaluate_file(model, tok, args: argparse.Namespace, device: torch.device, path: Path) -> dict:
    """Gold-paragraph figures on any SQuAD-format set: v1 EM/F1, or HasAns/NoAns at margin 0
    when it has unanswerable questions, plus F1 answering every question."""
    ex = su.load_examples(path)[: args.max_eval_examples]
    feats = su.build_features(tok, ex, with_labels=False)
    s, e = predict_logits(model, feats, args.max_length, device)
    preds = su.decode_predictions(ex, feats, s, e)
    res = {"answer_all": su.squad_v1_scores([x for x in ex if x.answers], {q: p.text for q, p in preds.items()})}
    if any(not x.answers for x in ex):
        res["margin_0"] = su.squad_v2_scores(ex, su.v2_texts(preds, 0.0))
    return res


# ------------------------------------------------------------------------ main


def fit_budget(budget_s: float, sched: LinearSchedule, step: int, elapsed_s: float, per_step: float,
               steps_per_epoch: int) -> None:
    """Shorten the schedule so training ends within `--time-budget-s`, re-measured every 100
    steps from the last 100: on a shared CPU the step time moves with other work, and a schedule
    fitted once at the start overruns. Never lengthens it. After `--resume` the budget counts from there."""
    fit = int((budget_s - elapsed_s) / per_step) + step
    if fit < sched.total:
        log(f"step time {per_step * 1000:.1f} ms; schedule shortened from {sched.total} to {fit} steps ({fit / steps_per_epoch:.2f} epochs)")
        sched.total = max(fit, step + 1)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    set_seed(args.seed)
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    log(f"args: {vars(args)}; torch {torch.__version__}; device {device}")
    tok = su.load_tokenizer(args.base_model / "tokenizer.json", args.max_length, args.stride)
    data, lengths, data_stats = load_training_features(args, tok, device)
    if device.type == "cuda":
        data = {k: v.to(device) for k, v in data.items()}

    model = load_model(args.base_model, device, args.init_from_onnx)
    optimizer = make_optimizer(model, args.lr, args.weight_decay, device)
    steps_per_epoch = math.ceil(len(lengths) / args.batch_size)
    total = math.ceil(steps_per_epoch * args.epochs)
    if args.max_steps:
        total = min(total, args.max_steps)
    sched = LinearSchedule(total, args.warmup)
    lr_sched = torch.optim.lr_scheduler.LambdaLR(optimizer, sched.factor)
    step, start_epoch = 0, 0
    ckpt = args.output_dir / "checkpoint.pt"
    if args.resume and ckpt.exists():
        state = torch.load(ckpt, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        sched.total, step = state["sched_total"], state["step"]
        start_epoch = state["epoch"] + (1 if state.get("epoch_complete", True) else 0)
        lr_sched = torch.optim.lr_scheduler.LambdaLR(optimizer, sched.factor, last_epoch=step - 1)
        torch.set_rng_state(state["torch_rng"])
        np.random.set_state(state["numpy_rng"])
        log(f"resumed at epoch {start_epoch}, step {step}")

    metrics: dict = {"args": {k: str(v) for k, v in vars(args).items()}, "data": data_stats, "epochs": []}
    model.train()
    t_train = time.time()
    t_calib: float | None = None
    n_epochs = math.ceil(args.epochs)
    for epoch in range(start_epoch, n_epochs):
        rng = np.random.default_rng(args.seed + epoch)  # same batches per epoch on resume
        batches = length_grouped_batches(lengths, args.batch_size, rng)
        skip = step - epoch * steps_per_epoch  # non-zero when resuming a mid-epoch checkpoint
        losses = []
        t_ep = time.time()
        for idx in batches[max(0, skip) :]:
            if step >= sched.total:
                break
            loss = train_step(model, slice_batch(data, idx, lengths, device), optimizer, device, args)
            lr_sched.step()
            step += 1
            losses.append(loss)
            if step % 100 == 20:  # the first 20 steps (warm-up of kernels, allocator) are not timed
                if device.type == "cuda":
                    torch.cuda.synchronize()
                now = time.time()
                if t_calib is not None and args.time_budget_s:
                    fit_budget(args.time_budget_s, sched, step, now - t_train, (now - t_calib) / 100, steps_per_epoch)
                t_calib = now
            if args.checkpoint_every and step % args.checkpoint_every == 0:
                save_checkpoint(args.output_dir, model, optimizer, sched, epoch, step, epoch_complete=False)
            if step % args.log_every == 0:
                log(f"epoch {epoch} step {step}/{sched.total} loss {np.mean(losses[-args.log_every:]):.4f} lr {lr_sched.get_last_lr()[0]:.2e}")
        ep = {"epoch": epoch, "step": step, "mean_loss": float(np.mean(losses)) if losses else None, "seconds": time.time() - t_ep}
        log(f"epoch {epoch} done: {ep}")
        save_checkpoint(args.output_dir, model, optimizer, sched, epoch, step)
        done = step >= sched.total or epoch == n_epochs - 1
        if done:
            ep["eval"] = evaluate(model, tok, args, device)
            log(f"eval: {json.dumps(ep['eval'])}")
        metrics["epochs"].append(ep)
        metrics["train_seconds"] = time.time() - t_train
        metrics["total_steps"] = sched.total
        if args.export_dir:
            export_fp16_parts(model, args.base_model, args.export_dir, metrics)
        if done:
            break
    log(f"finished in {time.time() - t_train:.1f}s")
    return metrics


if __name__ == "__main__":
    main()
