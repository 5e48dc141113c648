"""Metrics on hand-computed cases, and the protocol reproduced on the shipped baseline maps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dofkit.evaluate import evaluate, find_cases, mean_scores
from dofkit.metrics import f05, f_beta, fmax, mae, score

DBD = Path(__file__).resolve().parents[2] / "shared" / "data" / "dbd-real"


def test_mae_by_hand():
    focus = np.array([[1.0, 0.5], [0.0, 0.25]])
    truth = np.array([[True, True], [False, True]])
    assert mae(focus, truth) == pytest.approx((0 + 0.5 + 0 + 0.75) / 4)


def test_f_beta_by_hand():
    predicted = np.array([True, True, False, False])
    actual = np.array([True, False, True, False])
    # precision 1/2, recall 1/2 -> F = 1.3 * 0.25 / (0.3 * 0.5 + 0.5) = 0.5
    assert f_beta(predicted, actual) == pytest.approx(0.5)
    assert f_beta(np.zeros(4, bool), actual) == 0.0


def test_f05_counts_the_blurred_region():
    truth = np.array([[True, True, False, False]])
    focus = np.array([[0.9, 0.4, 0.1, 0.6]])
    # blurred predicted = focus < 0.5 -> [F, T, T, F]; blurred actual = [F, F, T, T]
    # precision 1/2, recall 1/2 -> 0.5
    assert f05(focus, truth) == pytest.approx(0.5)


def test_fmax_best_threshold():
    truth = np.array([[True, True, False, False]])
    assert fmax(np.array([[0.8, 0.7, 0.3, 0.2]]), truth) == pytest.approx(1.0)
    assert fmax(np.zeros((1, 4)), truth) == pytest.approx(1.3 * 0.5 / (0.3 * 0.5 + 1.0))


def test_score_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="differs"):
        score(np.zeros((2, 2)), np.zeros((2, 3), bool))


@pytest.mark.skipif(not DBD.is_dir(), reason="shared dbd-real data not present")
@pytest.mark.parametrize("maps, expected", [
    ("maps-paper", {"mae": 0.244, "f05": 0.807, "fmax": 0.796}),
    ("maps-lbp", {"mae": 0.210, "f05": 0.807, "fmax": 0.836}),
])
def test_reproduces_published_baselines(maps, expected):
    """The figures of evaluation.md, from the baseline maps shipped with the data (±0.01)."""
    rows = [scores for _, scores in evaluate(find_cases(DBD / "img", DBD / "gt", DBD / maps))]
    assert len(rows) == 9
    means = mean_scores(rows)
    for name, value in expected.items():
        assert means[name] == pytest.approx(value, abs=0.005)
