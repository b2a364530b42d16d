"""The score calibration (qa/read/calibrate.py): features, the shipped weights, and their file."""

from __future__ import annotations

import json

import pytest

from qa.read.calibrate import FEATURES, Calibrator, Evidence
from qa.read.neural import CALIBRATION
from qa.read.span_model import DEFAULT_MODEL_DIR

SURE = Evidence(p_span=0.9, p_null=0.01, coverage=1.0, type_prior=1.0, rank=0, dense=0.7, best_null=0.01, runner_up=0.05)


def _with(**change) -> Evidence:
    return Evidence(**{**SURE.__dict__, **change})


@pytest.fixture(scope="module")
def shipped() -> Calibrator:
    return Calibrator.load(DEFAULT_MODEL_DIR / CALIBRATION)


def test_vector_has_one_value_per_feature() -> None:
    assert len(SURE.vector()) == len(FEATURES)
    assert all(v == v for v in _with(p_span=0.0, p_null=0.0, runner_up=0.0, type_prior=0.0).vector())  # no NaN


def test_shipped_weights_score_in_unit_interval_and_follow_the_evidence(shipped: Calibrator) -> None:
    sure = shipped.probability(SURE)
    assert 0.0 < sure < 1.0
    # Each piece of evidence, made worse alone, lowers the score.
    for worse in (_with(p_null=0.9), _with(coverage=0.1), _with(rank=5), _with(p_span=0.2, runner_up=0.6)):
        assert shipped.probability(worse) < sure


def test_shipped_fit_is_recorded(shipped: Calibrator) -> None:
    assert shipped.fit["questions"] > 1000 and "held_out_2fold_by_article" in shipped.fit


def test_weights_for_other_features_are_refused(tmp_path) -> None:
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps({"features": ["span"], "weights": [1.0], "bias": 0.0}))
    with pytest.raises(ValueError, match="refit"):
        Calibrator.load(path)


def test_save_and_load_round_trip(tmp_path) -> None:
    calibrator = Calibrator(tuple(float(i) for i in range(len(FEATURES))), -1.5, {"file": "x"})
    calibrator.save(tmp_path / "c.json")
    assert Calibrator.load(tmp_path / "c.json") == calibrator
