"""CPU twins of ``shaders/lib/sampling.glsl`` and the Gaussian kernels of the passes.

Texel coordinates put texel centres on integers; borders are clamped, as ``CLAMP_TO_EDGE``.
"""

from __future__ import annotations

import functools

import numpy as np

def half_kernels(taps: int, *sigmas: float) -> np.ndarray:
    """Normalised 1-D Gaussian weights of each sigma at offsets 0..taps (a kernel of
    2 taps + 1 summing to 1): float32 (taps + 1, len(sigmas)), the ``kernel`` uniform.

    >>> half_kernels(1, 1.0)[:, 0].astype(float).round(3).tolist()
    [0.452, 0.274]
    """
    offsets = np.arange(taps + 1, dtype=np.float32)[:, None]
    scales = np.array(sigmas, np.float32)
    kernel = np.exp(-0.5 * (offsets / scales) ** 2)
    return (kernel / (2 * kernel.sum(axis=0) - kernel[0])).astype(np.float32)


def paired_taps(taps: int, sigma: float) -> np.ndarray:
    """The ``taps`` Gaussian taps (sigma in texels) each side of a 1-D filter, merged in
    pairs (1 and 2, 3 and 4, ...; a last one alone) as one bilinear read each between them,
    as the real-time "linear sampling" trick does: float32 (ceil(taps / 2), 2) of (offset in
    texels, natural log of the pair's summed weight, the centre weighing 1), the ``pairs``
    uniform. Half the reads, the same spatial spread; a read between two texels takes their
    blend, so a colour tolerance judges the pair together.

    >>> paired_taps(3, 2.0).astype(float).round(3).tolist()
    [[1.407, 0.398], [3.0, -1.125]]
    """
    offsets = np.arange(1, taps + 1, dtype=np.float64)
    weights = np.exp(-0.5 * (offsets / sigma) ** 2)
    pairs = []
    for first in range(0, taps, 2):
        offset, weight = offsets[first:first + 2], weights[first:first + 2]
        pairs.append((float((offset * weight).sum() / weight.sum()), float(np.log(weight.sum()))))
    return np.array(pairs, np.float32).reshape(-1, 2)


def bilinear(values: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``values`` (H, W, C) sampled at texel coordinates (x, y) (arrays of one shape S),
    borders clamped -> (*S, C): the GLSL ``bilinear``."""
    height, width = values.shape[:2]
    x = np.clip(x, 0, width - 1)
    y = np.clip(y, 0, height - 1)
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    left, up = x0.astype(np.int64), y0.astype(np.int64)
    right, down = np.minimum(left + 1, width - 1), np.minimum(up + 1, height - 1)
    top = values[up, left] * (1 - fx) + values[up, right] * fx
    bottom = values[down, left] * (1 - fx) + values[down, right] * fx
    return (top * (1 - fy) + bottom * fy).astype(np.float32)


def rescale(at: np.ndarray, source: int, size: int) -> np.ndarray:
    """Texel coordinate in a texture of ``size`` texels of ``at`` in one of ``source`` texels
    covering the same picture (one axis)."""
    return (at + 0.5) * (size / source) - 0.5


def gradient_direction(tensor: np.ndarray) -> np.ndarray:
    """Unit major eigenvector (H, W, 2) of the structure tensor (E, F, G) in channels 0-2 of
    ``tensor``: the direction across edges; (1, 0) where the tensor is isotropic."""
    e, f, g = tensor[..., 0], tensor[..., 1], tensor[..., 2]
    major = 0.5 * (e + g + np.sqrt((e - g) ** 2 + 4 * f * f))
    v = np.where((e >= g)[..., None], np.stack([major - g, f], -1), np.stack([f, major - e], -1))
    size = np.linalg.norm(v, axis=-1, keepdims=True)
    unit = v / np.maximum(size, 1e-30)
    return np.where(size > 1e-6, unit, np.array([1.0, 0.0], np.float32)).astype(np.float32)


def anisotropy(tensor: np.ndarray) -> np.ndarray:
    """(lambda1 - lambda2) / (lambda1 + lambda2) (H, W) in [0, 1] of the tensor (E, F, G)."""
    e, f, g = tensor[..., 0], tensor[..., 1], tensor[..., 2]
    return np.sqrt((e - g) ** 2 + 4 * f * f) / (e + g + 1e-8)


@functools.lru_cache(maxsize=8)
def grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Texel coordinates (x, y), each float32 (H, W), cached per size (read-only)."""
    y, x = np.mgrid[:height, :width].astype(np.float32)
    x.flags.writeable = y.flags.writeable = False
    return x, y


def orientation(field: np.ndarray, x: np.ndarray, y: np.ndarray, width: int,
                height: int) -> np.ndarray:
    """The orientation texture ``field`` (h, w, 4) at texel coordinates (x, y) of a picture
    of ``width`` x ``height`` texels, nearest texel -> (*S, 4): (unit edge tangent,
    anisotropy, toon steepness), as the GLSL ``orientation``."""
    rows, columns = field.shape[:2]
    qx = np.clip(np.floor(rescale(x, width, columns) + 0.5).astype(np.int64), 0, columns - 1)
    qy = np.clip(np.floor(rescale(y, height, rows) + 0.5).astype(np.int64), 0, rows - 1)
    stored = field[qy, qx]
    tangent = stored[..., :2] * 2 - 1
    tangent = tangent / np.maximum(np.linalg.norm(tangent, axis=-1, keepdims=True), 1e-30)
    return np.concatenate([tangent, stored[..., 2:4]], -1).astype(np.float32)
