"""Shared fixtures: small synthetic photos with a known in-focus region."""

from __future__ import annotations

import numpy as np
import pytest

from dofkit.synth import defocus


def textured(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A sharp random texture, float32 RGB (H, W, 3) in [0, 1], rich in fine detail."""
    rng = np.random.default_rng(seed)
    blocks = rng.random((height // 4 + 1, width // 4 + 1, 3)).astype(np.float32)
    texture = np.kron(blocks, np.ones((4, 4, 1), np.float32))[:height, :width]
    noise = rng.random((height, width, 3)).astype(np.float32)
    return np.clip(0.6 * texture + 0.4 * noise, 0.0, 1.0)


@pytest.fixture
def half_sharp() -> tuple[np.ndarray, np.ndarray]:
    """(image, truth): 96x128 texture whose left half is sharp and right half disc-blurred
    (radius 5 px); truth is bool (H, W), True on the sharp left half."""
    image = textured(96, 128)
    blurred = defocus(image, 5.0)
    result = image.copy()
    result[:, 64:] = blurred[:, 64:]
    truth = np.zeros((96, 128), bool)
    truth[:, :64] = True
    return result, truth
