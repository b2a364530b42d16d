"""training/fit_calibrator.py over several domains: the held-out curve of each file's questions
alone, computed from the same held-out scores as the pooled curve."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "training"))

import fit_calibrator as fc  # noqa: E402


def rows_and_scores():
    """Domain a: one right answer (0.9) and one unanswerable (0.2); domain b: a wrong answer (0.8)
    and an unanswerable one (0.7). Two candidate spans per question, the top one first."""
    rows = [
        {"domain": "a", "answers": ["1066"], "spans": [{"text": "1066"}, {"text": "England"}]},
        {"domain": "b", "answers": ["Paris"], "spans": [{"text": "Lyon"}, {"text": "France"}]},
        {"domain": "a", "answers": [], "spans": [{"text": "William"}, {"text": "Normans"}]},
        {"domain": "b", "answers": [], "spans": [{"text": "oven"}, {"text": "bread"}]},
    ]
    scores = np.array([0.9, 0.1, 0.8, 0.1, 0.2, 0.1, 0.7, 0.1])
    q = np.repeat(np.arange(4), 2)
    return rows, scores, q


def point(points, threshold):
    return next(p for p in points if p["threshold"] == threshold)


def test_each_domain_gets_its_own_curve():
    rows, scores, q = rows_and_scores()
    curves = fc.per_domain(rows, scores, q)
    assert set(curves) == {"a", "b"}
    assert point(curves["a"], 0.5) == {"threshold": 0.5, "has_f1": 100.0, "noans_acc": 100.0, "f1": 100.0}
    assert point(curves["b"], 0.5) == {"threshold": 0.5, "has_f1": 0.0, "noans_acc": 0.0, "f1": 0.0}
    assert point(curves["b"], 0.75)["noans_acc"] == 100.0 and point(curves["b"], 0.75)["has_f1"] == 0.0
    pooled = point(fc.curve(rows, scores, q), 0.5)
    assert pooled["f1"] == 50.0 and pooled["noans_acc"] == 50.0


def test_default_threshold_point():
    rows, scores, q = rows_and_scores()
    assert fc._at(fc.curve(rows, scores, q), 0.15)["threshold"] == 0.15
