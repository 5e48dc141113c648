"""The fill from edges: a flat region takes the answer of the edges that share its colour, not
of a region of another colour; shapes, range and degenerate sizes."""

from __future__ import annotations

import numpy as np

from dofkit.focus.fill import LOGIT_CLIP, fill_from_edges


def _two_regions() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 120x200 photo: a flat red object (40x30 px) on a flat green ground; the logits say
    "sharp" (+8) on the object's outline, which holds the edge evidence, and "blurred" (-8)
    elsewhere (inside the object too, as a net may guess in a textureless region)."""
    work = np.zeros((120, 200, 3), np.float32)
    work[:] = (0.2, 0.7, 0.3)
    work[20:60, 20:50] = (0.8, 0.2, 0.2)
    outline = np.zeros((120, 200), bool)
    outline[20:60, 20:50] = True
    outline[23:57, 23:47] = False
    logits = np.where(outline, 8.0, -8.0).astype(np.float32)
    return work, logits, outline.astype(np.float32) * 0.9


def test_a_flat_region_takes_the_answer_of_its_edges():
    work, logits, strength = _two_regions()
    filled = fill_from_edges(work, logits, strength)
    inside = filled[26:54, 26:44]
    assert (logits[26:54, 26:44] == -8.0).all() and inside.min() > 0.0  # now called sharp


def test_regions_of_another_colour_keep_their_answer():
    work, logits, strength = _two_regions()
    filled = fill_from_edges(work, logits, strength)
    assert filled[:, 110:].max() < -7.0 and filled[:10].max() < -7.0


def test_without_evidence_the_answer_is_kept():
    work, logits, _ = _two_regions()
    flat = np.full(logits.shape, -3.0, np.float32)
    filled = fill_from_edges(work, flat, np.zeros_like(flat))
    np.testing.assert_allclose(filled, flat, atol=1e-3)


def test_shapes_range_and_tiny_images():
    rng = np.random.default_rng(0)
    for shape in [(1, 1), (1, 7), (33, 2), (64, 48)]:
        work = rng.random((*shape, 3)).astype(np.float32)
        logits = rng.normal(0, 40, shape).astype(np.float32)
        filled = fill_from_edges(work, logits, rng.random(shape).astype(np.float32))
        assert filled.shape == shape and filled.dtype == np.float32
        assert np.isfinite(filled).all() and np.abs(filled).max() <= LOGIT_CLIP
