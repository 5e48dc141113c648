"""Focus maps on synthetic images: orientation of the map, invariances, dtype/shape/range."""

from __future__ import annotations

import numpy as np
import pytest

from dofkit import FocusEstimator, focus_map
from dofkit.errors import ParameterError
from dofkit.focus.analytic import analytic_focus
from dofkit.focus.paper import paper_focus
from dofkit.synth import defocus
from tests.conftest import textured

METHODS = [analytic_focus, paper_focus]


@pytest.mark.parametrize("method", METHODS)
def test_sharp_half_maps_high(method, half_sharp):
    image, truth = half_sharp
    focus = method(image)
    assert focus.dtype == np.float32 and focus.shape == truth.shape
    assert 0.0 <= focus.min() and focus.max() <= 1.0
    # Judge away from the boundary, where the truth itself is ambiguous.
    assert focus[:, 8:48].mean() > focus[:, 80:120].mean() + 0.3


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("gain", [0.3, 0.6])
def test_brightness_scaling_does_not_flip(method, half_sharp, gain):
    image, _ = half_sharp
    focus = method(image * gain)
    assert focus[:, 8:48].mean() > focus[:, 80:120].mean() + 0.2


def test_analytic_is_calibrated():
    """Unlike per-image scaling (eq. 3), a photo sharp everywhere maps high and the same photo
    blurred everywhere maps low."""
    sharp = textured(96, 128, seed=3)
    assert analytic_focus(sharp).mean() > 0.8
    assert analytic_focus(defocus(sharp, 5.0)).mean() < 0.2
    assert paper_focus(defocus(sharp, 5.0)).mean() > 0.3  # the paper's filter cannot tell


@pytest.mark.parametrize("method", ["analytic", "srcnn"])
def test_a_panoramas_defocused_background_is_not_lost(method):
    """A 3000x240 panorama, sharp in its middle third and disc-blurred (radius 4 px) either
    side: it was worked on at 640x51, where that blur is under a pixel, and mapped sharp all
    over."""
    sharp = textured(240, 3000, seed=5)
    image = defocus(sharp, 4.0)
    image[:, 1000:2000] = sharp[:, 1000:2000]
    focus = focus_map(image, method=method)
    assert focus[:, 1100:1900].mean() > 0.8
    assert focus[:, :900].mean() < 0.2 and focus[:, 2100:].mean() < 0.2


def test_flat_image_is_not_in_focus():
    flat = np.full((40, 50, 3), 0.5, np.float32)
    assert analytic_focus(flat).max() < 0.1
    assert np.isfinite(paper_focus(flat)).all()


@pytest.mark.parametrize("shape", [(1, 1, 3), (3, 700, 3), (900, 5, 3), (701, 1203, 3)])
def test_any_size(shape):
    image = np.random.default_rng(0).random(shape).astype(np.float32)
    focus = analytic_focus(image)
    assert focus.shape == shape[:2] and focus.dtype == np.float32
    assert np.isfinite(focus).all() and 0.0 <= focus.min() and focus.max() <= 1.0


def test_estimator_rejects_bad_input():
    with pytest.raises(ParameterError, match="method must be one of"):
        FocusEstimator("magic")
    with pytest.raises(ParameterError, match="float32"):
        focus_map(np.zeros((4, 4, 3), np.uint8), method="analytic")
    with pytest.raises(ParameterError, match=r"\(H, W, 3\)"):
        focus_map(np.zeros((4, 4), np.float32), method="analytic")


def test_auto_falls_back_to_analytic_with_notice(tmp_path, monkeypatch):
    """Without usable shipped weights, auto maps with the analytic method and says so once."""
    monkeypatch.setattr("dofkit.focus.srcnn.default_weights",
                        lambda: tmp_path / "missing.safetensors")
    notices = []
    estimator = FocusEstimator("auto", notify=notices.append)
    assert estimator.method == "analytic"
    assert len(notices) == 1 and "analytic" in notices[0]


@pytest.mark.parametrize("fill", [255.0, -0.5, float("nan"), float("inf")])
def test_images_outside_the_unit_range_are_refused(fill):
    image = np.full((8, 8, 3), 0.5, np.float32)
    image[2, 3, 1] = fill
    with pytest.raises(ParameterError, match=r"finite and in \[0, 1\]"):
        FocusEstimator("analytic")(image)


@pytest.mark.parametrize("threads", [0, -3, 2.5, "2", True])
def test_threads_must_be_a_positive_whole_number(threads):
    with pytest.raises(ParameterError, match="threads must be"):
        FocusEstimator("analytic", threads=threads)
