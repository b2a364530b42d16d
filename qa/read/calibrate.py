"""The reader's evidence for a span, turned into one number that means the same for every
question: the expected F1 of giving that span as the answer.

The span model's own probabilities are per window: it is as sure of a span in a passage about
something else as in the right one, and "no answer" competes only inside one window. Retrieval
knows which passages are on topic, the question's words say what kind of answer fits, and the
other passages say whether any of them holds an answer at all. A logistic regression over those
pieces, fit by `training/fit_calibrator.py` on SQuAD 2.0 questions (half unanswerable), weighs
them; its weights ship beside the model (`calibration.json`) so the score and the abstention
threshold tuned on it move together when the model changes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FEATURES = ("span_vs_null", "span", "coverage", "type_prior", "rank_prior", "dense", "best_null", "margin")
_EPS = 1e-6


def logit(p: float) -> float:
    p = min(max(p, _EPS), 1.0 - _EPS)
    return math.log(p / (1.0 - p))


@dataclass(frozen=True)
class Evidence:
    """What is known about one candidate span, each piece from one stage."""

    p_span: float  # the model's probability of the span (overlapping variants summed)
    p_null: float  # the model's "no answer" probability in the span's window
    coverage: float  # share of the question's idf mass found in the passage and its headings
    type_prior: float  # fit of the span's kind to the question's ("how many" wants a number)
    rank: int  # the passage's fused retrieval rank, 0 first
    dense: float  # cosine similarity of question and passage
    best_null: float  # the lowest "no answer" probability over all windows read
    runner_up: float  # the best p_span among the question's other candidate spans

    def vector(self) -> list[float]:
        """The features, in `FEATURES` order; odds on a log scale so a linear model can add them."""
        return [
            logit(self.p_span / (self.p_span + self.p_null)) if self.p_span + self.p_null > 0 else logit(0.0),
            logit(self.p_span),
            self.coverage,
            math.log(max(self.type_prior, _EPS)),
            1.0 / (1.0 + 0.1 * self.rank),
            self.dense,
            logit(self.best_null),
            logit(self.p_span) - logit(self.runner_up),
        ]


@dataclass(frozen=True)
class Calibrator:
    """Logistic weights over `Evidence.vector()`; `fit` records how they were obtained."""

    weights: tuple[float, ...]
    bias: float
    fit: dict

    @classmethod
    def load(cls, path: Path) -> "Calibrator":
        data = json.loads(path.read_text())
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"{path}: fit on features {data['features']}, this code computes {list(FEATURES)}; refit it")
        return cls(tuple(float(w) for w in data["weights"]), float(data["bias"]), data.get("fit", {}))

    def save(self, path: Path) -> None:
        body = {"features": list(FEATURES), "weights": list(self.weights), "bias": self.bias, "fit": self.fit}
        path.write_text(json.dumps(body, indent=2) + "\n")

    def probability(self, evidence: Evidence) -> float:
        z = self.bias + float(np.dot(self.weights, evidence.vector()))
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))
