"""Fine-tune the retrieval bi-encoder (all-MiniLM-L6-v2) on SQuAD train questions.

Why: the packaged encoder ranks the right paragraph first for ~80% of SQuAD dev questions when
fused with BM25; most misses are a neighbouring paragraph of the same article. In-batch negatives
almost never contain such a neighbour, so each question also gets its article's hardest other
paragraph (`squad_utils.HardNegatives`) as an explicit negative. The loss is the
sentence-transformers MultipleNegativesRankingLoss (cross-entropy over scaled cosines), written
out here so the GPU machine needs only torch + transformers. Pooling is the model's own (mean
over tokens, then L2), so the result drops into the product's encoder unchanged.

    python training/train_encoder.py --base-model .carry/base \
        --train .carry/data/train.json.gz --overlap .carry/data/overlap.json \
        --eval-v1 .carry/data/dev-v1.1.json.gz --export-dir training/runs/encoder-gpu

Unanswerable questions are skipped: their paragraph is not an answer to them. Another paragraph
of the same text within a batch is masked, not counted as a negative (SQuAD has ~5 questions per
paragraph). `--eval-v1` reports dense recall@k / MRR@10 of base and tuned weights over the dev
paragraphs (evaluation only, never used for choices during the run).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer
from transformers import AutoConfig, AutoModel

sys.path.insert(0, str(Path(__file__).resolve().parent))
import squad_utils as su  # noqa: E402
from train_reader import LinearSchedule, autocast, log, make_optimizer, set_seed, write_parts  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base-model", type=Path, required=True, help="folder with config.json, model.safetensors, tokenizer.json")
    p.add_argument("--train", type=Path, required=True)
    p.add_argument("--overlap", type=Path, default=None)
    p.add_argument("--eval-v1", type=Path, default=None, help="SQuAD v1.1 dev: dense retrieval over its paragraphs")
    p.add_argument("--export-dir", type=Path, required=True, help="fp16 weight parts + metrics")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-5)
    p.add_argument("--scale", type=float, default=20.0, help="cosine scale in the softmax (MNRL default)")
    p.add_argument("--max-question-tokens", type=int, default=64)
    p.add_argument("--max-passage-tokens", type=int, default=256, help="the product's MAX_TOKENS")
    p.add_argument("--titles", action="store_true", help="embed paragraphs as 'Title: text', as the product does")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--max-examples", type=int, default=None, help="smoke tests")
    p.add_argument("--max-steps", type=int, default=None, help="smoke tests")
    p.add_argument("--log-every", type=int, default=100)
    return p.parse_args(argv)


class Embedder:
    """Tokenise with dynamic padding, run the model, mean-pool and normalise (the product's pooling)."""

    def __init__(self, model, tokenizer_file: Path, device: torch.device) -> None:
        self.model, self.device = model, device
        self.tok = Tokenizer.from_file(str(tokenizer_file))
        self.tok.no_padding()

    def __call__(self, texts: list[str], max_tokens: int) -> torch.Tensor:
        self.tok.enable_truncation(max_length=max_tokens)
        encs = self.tok.encode_batch(texts)
        width = max(len(e.ids) for e in encs)
        ids = torch.zeros((len(encs), width), dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, e in enumerate(encs):
            ids[i, : len(e.ids)] = torch.tensor(e.ids)
            mask[i, : len(e.ids)] = 1
        ids, mask = ids.to(self.device), mask.to(self.device)
        with autocast(self.device):
            hidden = self.model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
        m = mask.unsqueeze(-1).float()
        pooled = (hidden.float() * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1)


def load_model(base: Path, device: torch.device) -> torch.nn.Module:
    config = AutoConfig.from_pretrained(base)
    model = AutoModel.from_config(config)
    state = {k: v.float() for k, v in load_file(str(base / "model.safetensors")).items() if "position_ids" not in k}
    model.load_state_dict(state, strict=True)
    return model.to(device=device, dtype=torch.float32)


def triples(args: argparse.Namespace) -> list[tuple[str, str, str | None]]:
    """(question, its paragraph, the article's hardest other paragraph or None)."""
    exclude = su.load_overlap(args.overlap) if args.overlap else set()
    examples = [e for e in su.load_examples(args.train, exclude) if e.answers]
    if args.max_examples:
        examples = [examples[i] for i in np.random.default_rng(args.seed).permutation(len(examples))[: args.max_examples]]
    hn = su.HardNegatives(examples)
    out = []
    for e in examples:
        neg = hn.pick(e)
        out.append((e.question, shown(e.context, e.title, args), None if neg is None else shown(neg, e.title, args)))
    return out


def shown(context: str, title: str, args: argparse.Namespace) -> str:
    """The paragraph as the product embeds it: under its article's title (`Passage.searchable`)."""
    return f"{' '.join(title.replace('_', ' ').split())}: {context}" if args.titles else context


def loss_on(embed: Embedder, batch: list[tuple[str, str, str | None]], args: argparse.Namespace) -> torch.Tensor:
    """Cross-entropy of each question over every paragraph in the batch (positives + hard negatives)."""
    questions = [q for q, _, _ in batch]
    paragraphs = [p for _, p, _ in batch] + [n for _, _, n in batch if n is not None]
    q = embed(questions, args.max_question_tokens)
    p = embed(paragraphs, args.max_passage_tokens)
    scores = args.scale * q @ p.T
    # Another question's copy of my own paragraph is not a negative.
    same = torch.tensor([[a == b for b in paragraphs] for _, a, _ in batch], device=scores.device)
    same.fill_diagonal_(False)
    scores = scores.masked_fill(same, float("-inf"))
    return torch.nn.functional.cross_entropy(scores, torch.arange(len(batch), device=scores.device))


@torch.no_grad()
def dense_retrieval(embed: Embedder, path: Path, args: argparse.Namespace) -> dict:
    """Recall@1/5/10/20 and MRR@10 of questions against all dev paragraphs (cosine only)."""
    embed.model.eval()
    ex = su.load_examples(path)
    paras = sorted({shown(e.context, e.title, args) for e in ex})
    pid = {p: i for i, p in enumerate(paras)}
    P = torch.cat([embed(paras[i : i + 256], args.max_passage_tokens) for i in range(0, len(paras), 256)])
    Q = torch.cat([embed([e.question for e in ex[i : i + 512]], args.max_question_tokens) for i in range(0, len(ex), 512)])
    gold = torch.tensor([pid[shown(e.context, e.title, args)] for e in ex], device=P.device)
    rank = ((Q @ P.T) > (Q * P[gold]).sum(1, keepdim=True)).sum(1).cpu().numpy()  # 0 = first
    embed.model.train()
    out = {f"recall@{k}": float((rank < k).mean()) for k in (1, 5, 10, 20)}
    out["mrr@10"] = float(np.where(rank < 10, 1.0 / (rank + 1), 0.0).mean())
    out["questions"], out["paragraphs"] = len(ex), len(paras)
    return out


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    set_seed(args.seed)
    device = torch.device(args.device)
    log(f"args: {vars(args)}; torch {torch.__version__}; device {device}")
    t0 = time.time()
    data = triples(args)
    log(f"{len(data)} triples ({sum(n is not None for _, _, n in data)} with a hard negative) in {time.time() - t0:.1f}s")
    model = load_model(args.base_model, device)
    embed = Embedder(model, args.base_model / "tokenizer.json", device)
    metrics: dict = {"args": {k: str(v) for k, v in vars(args).items()}, "triples": len(data)}
    if args.eval_v1:
        metrics["dev_dense_base"] = dense_retrieval(embed, args.eval_v1, args)
        log(f"base: {metrics['dev_dense_base']}")
    optimizer = make_optimizer(model, args.lr, 0.01, device)
    steps_per_epoch = len(data) // args.batch_size
    total = math.ceil(steps_per_epoch * args.epochs)
    if args.max_steps:
        total = min(total, args.max_steps)
    sched = LinearSchedule(total, 0.1)
    lr_sched = torch.optim.lr_scheduler.LambdaLR(optimizer, sched.factor)
    rng = np.random.default_rng(args.seed)
    model.train()
    t_train, step, losses = time.time(), 0, []
    while step < total:
        order = rng.permutation(len(data))
        for b in range(steps_per_epoch):
            if step >= total:
                break
            loss = loss_on(embed, [data[i] for i in order[b * args.batch_size : (b + 1) * args.batch_size]], args)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            lr_sched.step()
            step += 1
            losses.append(float(loss.detach()))
            if step % args.log_every == 0:
                log(f"step {step}/{total} loss {np.mean(losses[-args.log_every:]):.4f}")
    metrics.update(steps=step, train_seconds=time.time() - t_train, mean_loss_last_100=float(np.mean(losses[-100:])))
    if args.eval_v1:
        metrics["dev_dense_tuned"] = dense_retrieval(embed, args.eval_v1, args)
        log(f"tuned: {metrics['dev_dense_tuned']}")
    write_parts(model, args.export_dir, metrics)
    log(f"finished in {time.time() - t0:.1f}s")
    return metrics


if __name__ == "__main__":
    main()
