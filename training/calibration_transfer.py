"""Does the reader's calibration transfer? Fit it on the calibration files, score sets it never
saw, and compare the shipped model with two alternatives over the same evidence.

Why: issue 16 asks for an abstention score that means the same out of domain (answer >= 90 % of
the answerable questions while refusing >= 60 % of ClapNQ's unanswerable ones). Whether that
needs a better calibration model or a better reader is measurable without shipping anything:
if a richer model does not rank answerable above unanswerable questions better (ROC AUC of the
top span's score) on sets outside the fit, the calibration is not what limits abstention.

Variants, each fit on the same rows (`fit_calibrator.collect`, cached per reader):
- `shipped`: the logistic regression `fit_calibrator.py` ships (`qa/read/calibrate.FEATURES`);
- `agreement`: the same plus the log of the probability mass of the question's other candidate
  spans that share at least half their words with this one (answers repeated across passages);
- `trees`: gradient-boosted trees over the shipped features (non-linear, same evidence).

Per set: AUC, and the share of answerable questions answered, F1 and refusals at the default
threshold and at the threshold that refuses 60 % of `--reference`'s unanswerable questions (a
diagnostic read off an evaluation set, never a shipped threshold).

    .venv/bin/python training/calibration_transfer.py \\
        --fit ../shared/eval/squad-v2.0-dev-half.json HELD/doqa-held-out.json HELD/subjqa-held-out.json \\
        --limit 1500 --report training/runs/calibration \\
        --ood ../shared/eval/ood/nq-mrqa-dev.json ../shared/eval/ood/hotpotqa-mrqa-dev.json \\
              ../shared/eval/ood/clapnq-dev.json ../shared/eval/ood/doqa-cooking-dev.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Callable

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fit_calibrator as fc  # noqa: E402

from qa.config import Settings  # noqa: E402
from qa.eval.metrics import normalize_answer  # noqa: E402
from qa.read.calibrate import FEATURES  # noqa: E402

REFUSE = 0.60  # the refusal floor on the reference set's unanswerable questions


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fit", type=Path, nargs="+", required=True, help="SQuAD 2.0 files the calibration is fit on")
    p.add_argument("--limit", type=int, default=1500, help="questions sampled from each --fit file")
    p.add_argument("--ood", type=Path, nargs="+", required=True, help="SQuAD-format sets scored, never fit on")
    p.add_argument("--reference", default="clapnq-dev", help="the --ood set whose refusals fix the second threshold")
    p.add_argument("--report", type=Path, default=fc.ROOT / "training/runs/calibration", help="examples cache")
    p.add_argument("--out", type=Path, default=None, help="also write the figures as JSON here")
    return p.parse_args(argv)


def agreement(row: dict) -> list[float]:
    """Per span: log of the probability mass of the other spans sharing >= half its words."""
    words = [set(normalize_answer(s["text"]).split()) for s in row["spans"]]
    p_span = [1.0 / (1.0 + math.exp(-s["features"][FEATURES.index("span")])) for s in row["spans"]]
    out = []
    for i, mine in enumerate(words):
        mass = sum(p for j, (other, p) in enumerate(zip(words, p_span))
                   if j != i and mine and other and len(mine & other) >= 0.5 * len(mine | other))
        out.append(math.log(mass + 1e-3))
    return out


def design(rows: list[dict], extra: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`fit_calibrator.design`, optionally with the agreement feature appended."""
    x, y, q = fc.design(rows)
    if extra:
        x = np.column_stack([x, [a for row in rows for a in agreement(row)]])
    return x, y, q


def at(best: tuple[np.ndarray, np.ndarray, np.ndarray], threshold: float) -> dict:
    """Answered % of the answerable, refused % of the unanswerable, and F1 (SQuAD 2.0 style), from
    `fit_calibrator.top_spans`."""
    score, f1, has = best
    answered = score >= threshold
    figures = {"answered": round(100 * float(answered[has].mean()), 1),
               "f1": round(100 * float(np.where(has, np.where(answered, f1, 0.0), ~answered).mean()), 1)}
    if (~has).any():
        figures["refused"] = round(100 * float((~answered[~has]).mean()), 1)
    return figures


def variants() -> dict[str, tuple[bool, Callable]]:
    """Name -> (agreement feature?, fit(x, y) returning a scorer)."""
    def logistic(x, y):
        model = fc.fit(x, y, 1.0)
        return lambda z: model.predict_proba(z)[:, 1]

    def trees(x, y):
        model = HistGradientBoostingRegressor(max_iter=200, learning_rate=0.05, max_leaf_nodes=15, random_state=0).fit(x, y)
        return model.predict

    return {"shipped": (False, logistic), "agreement": (True, logistic), "trees": (False, trees)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    k = Settings().retrieve_k
    fit_rows = [row for path in args.fit for row in fc.collect(path, args.report, k, args.limit)]
    ood = {path.stem: fc.collect(path, args.report, k) for path in args.ood}
    if args.reference not in ood:
        sys.exit(f"--reference {args.reference!r} is not one of the --ood sets ({', '.join(ood)})")
    default = Settings().abstain_threshold
    figures = {}
    for name, (extra, fit) in variants().items():
        scorer = fit(*design(fit_rows, extra)[:2])
        best = {}
        for domain, rows in ood.items():
            x, _, q = design(rows, extra)
            best[domain] = fc.top_spans(rows, scorer(x), q)
        ref_score, _, ref_has = best[args.reference]
        refuse_at = float(np.quantile(ref_score[~ref_has], REFUSE))
        figures[name] = {"threshold_refusing_60": round(refuse_at, 3), "sets": {
            d: {"auc": round(float(roc_auc_score(b[2], b[0])), 3) if 0 < b[2].mean() < 1 else None,
                f"at_{default}": at(b, default), "at_refusing_60": at(b, refuse_at)} for d, b in best.items()}}
        print(f"{name}: threshold refusing {REFUSE:.0%} of {args.reference}'s unanswerable = {refuse_at:.3f}")
        for domain, f in figures[name]["sets"].items():
            print(f"  {domain:24} AUC {f['auc'] if f['auc'] is not None else '-':>5}  at {default}: {f[f'at_{default}']}  "
                  f"at {refuse_at:.3f}: {f['at_refusing_60']}")
    if args.out:
        args.out.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
