"""Synthetic shallow depth of field: blur with a lens-like disc PSF in linear light.

Used to make training composites (:mod:`dofkit.train`) and the bundled samples.
"""

from __future__ import annotations

import cv2
import numpy as np


def srgb_to_linear(image: np.ndarray) -> np.ndarray:
    """sRGB-encoded values in [0, 1] -> linear light, same shape, float32."""
    image = np.clip(image, 0.0, 1.0)
    return np.where(image <= 0.04045, image / 12.92,
                    ((image + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(image: np.ndarray) -> np.ndarray:
    """Linear light in [0, 1] -> sRGB-encoded values, same shape, float32."""
    image = np.clip(image, 0.0, 1.0)
    return np.where(image <= 0.0031308, image * 12.92,
                    1.055 * image ** (1 / 2.4) - 0.055).astype(np.float32)


def disc_kernel(radius: float) -> np.ndarray:
    """Normalised disc PSF of ``radius`` pixels (anti-aliased edge), float32 (2r+1, 2r+1)."""
    size = int(np.ceil(radius))
    y, x = np.mgrid[-size:size + 1, -size:size + 1].astype(np.float32)
    kernel = np.clip(radius + 0.5 - np.hypot(x, y), 0.0, 1.0)
    return (kernel / kernel.sum()).astype(np.float32)


def defocus(image: np.ndarray, radius: float) -> np.ndarray:
    """Image (H, W, 3) sRGB in [0, 1] blurred by a disc of ``radius`` px in linear light."""
    if radius <= 0.25:
        return image.astype(np.float32)
    linear = srgb_to_linear(image)
    blurred = cv2.filter2D(linear, -1, disc_kernel(radius), borderType=cv2.BORDER_REFLECT)
    return linear_to_srgb(blurred)


def composite(image: np.ndarray, mask: np.ndarray, radius: float,
              edge_softness: float = 1.5) -> np.ndarray:
    """Keep the ``mask`` region (float (H, W) in [0, 1], 1 = subject) sharp and defocus the
    rest by ``radius`` px, with a soft, lens-like boundary: the subject's matte is feathered by
    ``edge_softness`` px and the blurred background bleeds slightly under it."""
    sharp_weight = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), max(edge_softness, 0.1))
    background = defocus(image, radius)
    weight = sharp_weight[:, :, None]
    return (weight * image + (1.0 - weight) * background).astype(np.float32)
