"""CPU reference of every GLSL pass of abstraction and lines (numpy/OpenCV).

Each function mirrors the program of the same name in ``shaders/``: same inputs (by sampler
name, float32 (H, W, C) arrays), same uniforms (keyword arguments), same float32 output with
4 channels (an RGBA texture's worth). Borders are clamped, as in GLSL.
"""

from __future__ import annotations

import cv2
import numpy as np

from .sampling import anisotropy, bilinear, gradient_direction, grid, orientation, rescale

Direction = tuple[int, int]  # (1, 0) along rows (x), (0, 1) along columns (y), as in GLSL
#: Gain of the 3x3 Sobel derivative (a ramp of slope 1 gives 8) and the tensor's 1/100 scale:
#: lightness gradient in L units / px = GRADIENT_GAIN * sqrt(E + G).
GRADIENT_GAIN = 100 / 8


def pack_lab(colour: np.ndarray) -> np.ndarray:
    """CIELab (..., 3), L in [0, 100] -> the [0, 1] values 8-bit textures store:
    (L * 255 / 100, a + 128, b + 128) / 255, as OpenCV's 8-bit Lab."""
    return np.concatenate([colour[..., :1] / 100, (colour[..., 1:3] + 128) / 255], -1)


def unpack_lab(stored: np.ndarray) -> np.ndarray:
    """Inverse of :func:`pack_lab` (channels 0-2 of ``stored``)."""
    return np.concatenate([stored[..., :1] * 100, stored[..., 1:3] * 255 - 128], -1)


def tensor(source: np.ndarray, *, unit: float) -> np.ndarray:
    """Structure tensor of channel 0 (packed L) times ``unit`` (3x3 Sobel) -> (H, W, 4):
    (gx², gx gy, gy², 1)."""
    lightness = np.ascontiguousarray(source[..., 0]) * np.float32(unit)
    gx = cv2.Sobel(lightness, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REPLICATE)
    gy = cv2.Sobel(lightness, cv2.CV_32F, 0, 1, ksize=3, borderType=cv2.BORDER_REPLICATE)
    return np.dstack([gx * gx, gx * gy, gy * gy, np.ones_like(gx)])


def smooth(source: np.ndarray, *, direction: Direction, taps: int,
           kernel: np.ndarray) -> np.ndarray:
    """One axis of a Gaussian blur (``kernel`` from :func:`~.sampling.half_kernels`, one
    sigma) of all four channels of (H, W, 4)."""
    half = np.ravel(kernel)
    full = np.concatenate([half[taps:0:-1], half[:taps + 1]]).astype(np.float32)
    unit = np.ones(1, np.float32)
    kx, ky = (full, unit) if direction == (1, 0) else (unit, full)
    return cv2.sepFilter2D(np.ascontiguousarray(source), cv2.CV_32F, kx, ky,
                           borderType=cv2.BORDER_REPLICATE)


def orient(source: np.ndarray, *, toon_gradient: float) -> np.ndarray:
    """Smoothed tensor (H, W, 4) -> the 8-bit orientation texture's values (H, W, 4): edge
    tangent packed to [0, 1], anisotropy, toon steepness (gradient / ``toon_gradient``,
    clamped to 1)."""
    across = gradient_direction(source)
    across = np.where(across[..., :1] < 0, -across, across)  # one sign for t and -t
    gradient = GRADIENT_GAIN * np.sqrt(source[..., 0] + source[..., 2])
    return np.dstack([-across[..., 1] * 0.5 + 0.5, across[..., 0] * 0.5 + 0.5,
                      anisotropy(source), np.clip(gradient / toon_gradient, 0.0, 1.0)])


def shrink(source: np.ndarray, *, scale: int) -> np.ndarray:
    """Mean of each ``scale`` x ``scale`` block (H, W, C) -> (ceil(H / s), ceil(W / s), C);
    blocks past the border repeat its last row/column."""
    height, width = source.shape[:2]
    rows, columns = -(-height // scale) * scale, -(-width // scale) * scale
    padded = np.pad(source, ((0, rows - height), (0, columns - width), (0, 0)), mode="edge")
    blocks = padded.reshape(rows // scale, scale, columns // scale, scale, -1)
    return blocks.mean(axis=(1, 3), dtype=np.float32)


def bilateral(source: np.ndarray, flow: np.ndarray, *, axis: int, taps: int, pairs: np.ndarray,
              range_sigma: float, focus_range: tuple[float, float]) -> np.ndarray:
    """One pass of the orientation-aligned bilateral filter on packed (L, a, b, focus)
    (h, w, 4): a 1-D bilateral across (axis 0) or along (axis 1) the edges of the orientation
    texture ``flow`` (any size), ``taps`` bilinear taps each side at the offsets and with the
    spatial weights of ``pairs`` (:func:`~.sampling.paired_taps`). Texels whose focus lies
    outside ``focus_range`` are copied."""
    height, width = source.shape[:2]
    x, y = grid(height, width)
    along = orientation(flow, x, y, width, height)[..., :2]
    step = along if axis == 1 else np.stack([along[..., 1], -along[..., 0]], -1)
    colour = unpack_lab(source[..., :3])
    range_ = -0.5 / (range_sigma * range_sigma)
    total, weights = colour.copy(), np.ones((height, width, 1), np.float32)
    for offset, log_weight in pairs[:taps]:
        for side in (-1, 1):
            tap = unpack_lab(bilinear(source[..., :3], x + side * offset * step[..., 0],
                                      y + side * offset * step[..., 1]))
            difference = tap - colour
            w = np.exp(log_weight + (difference * difference).sum(-1, keepdims=True)
                       * range_)
            total += w * tap
            weights += w
    focus = source[..., 3:]
    filtered = np.concatenate([pack_lab(total / weights), focus], -1)
    keep = (focus < focus_range[0]) | (focus > focus_range[1])
    return np.where(keep, source, filtered).astype(np.float32)


def merge(subject: np.ndarray, background: np.ndarray, *, range_sigma: float,
          upsample_sigma: float) -> np.ndarray:
    """Full-resolution subject (H, W, 4) over the ``background`` (h, w, 4) upsampled by joint
    bilateral upsampling (Kopf et al. 2007): the 3x3 texels around the nearest one, weighted
    by an isotropic Gaussian (sigma ``upsample_sigma`` texels) of their distance to the
    pixel's position times the Gaussian of their Lab distance to the subject pixel (plus a
    floor of 1e-3), mixed by the subject's focus (channel 3) -> (H, W, 4). Pixels in full
    focus are the subject."""
    height, width = subject.shape[:2]
    rows, columns = background.shape[:2]
    x, y = grid(height, width)
    at_x = np.clip(rescale(x, width, columns), 0, columns - 1)
    at_y = np.clip(rescale(y, height, rows), 0, rows - 1)
    near_x, near_y = np.floor(at_x + 0.5).astype(np.int64), np.floor(at_y + 0.5).astype(np.int64)
    guide = unpack_lab(subject[..., :3])
    colours = unpack_lab(background[..., :3])
    total, weights = np.zeros_like(guide), np.zeros_like(guide[..., :1])
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            qx, qy = np.clip(near_x + dx, 0, columns - 1), np.clip(near_y + dy, 0, rows - 1)
            texel = colours[qy, qx]
            spread = ((near_x + dx - at_x) ** 2 + (near_y + dy - at_y) ** 2)[..., None]
            distance = ((texel - guide) ** 2).sum(-1, keepdims=True)
            w = (np.exp(-0.5 * spread / upsample_sigma ** 2)
                 * (np.exp(-0.5 * distance / (range_sigma * range_sigma)) + 1e-3))
            total += w * texel
            weights += w
    far, focus = total / weights, subject[..., 3:]
    merged = np.concatenate([pack_lab(far + (guide - far) * focus), focus], -1)
    return np.where(focus >= 1.0, subject, merged)


def flow_dog(source: np.ndarray, flow: np.ndarray, *, taps: int, kernel: np.ndarray,
             opacity: tuple[float, float], edge_tau: float, edge_threshold: float,
             line_coherence: float) -> np.ndarray:
    """XDoG input (blur1 - tau blur2) / 100 - epsilon of the two Gaussian blurs of L
    (packed Lab ``source``) taken across the edges of the orientation texture ``flow`` ->
    (H, W, 4): (DoG, 0, 0, 1); exactly 1 where no line can show: line opacity (``opacity``
    at focus 0 and 1, mixed by channel 3) 0, or anisotropy at most half ``line_coherence``."""
    height, width = source.shape[:2]
    x, y = grid(height, width)
    along = orientation(flow, x, y, width, height)
    across = np.stack([along[..., 1], -along[..., 0]], -1)
    lightness = source[..., :1]
    total = kernel[0] * lightness
    for i in range(1, taps + 1):
        total = total + kernel[i] * (
            bilinear(lightness, x + i * across[..., 0], y + i * across[..., 1])
            + bilinear(lightness, x - i * across[..., 0], y - i * across[..., 1]))
    dog = total[..., 0] - edge_tau * total[..., 1] - edge_threshold
    focus = source[..., 3]
    drawn = ((opacity[0] + (opacity[1] - opacity[0]) * focus > 0)
             & (along[..., 2] > 0.5 * line_coherence))
    return _channel(np.where(drawn, dog, 1.0))


def _channel(values: np.ndarray) -> np.ndarray:
    """(H, W) -> (H, W, 4): (values, 0, 0, 1), a one-channel result as an RGBA texel."""
    zeros = np.zeros_like(values)
    return np.dstack([values, zeros, zeros, zeros + 1]).astype(np.float32)


def flow_lines(source: np.ndarray, flow: np.ndarray, *, taps: int, kernel: np.ndarray,
               step_length: float) -> np.ndarray:
    """Smooth the DoG (channel 0) along the tangents of the orientation texture ``flow``,
    following them in steps of ``step_length`` px both ways, reading the nearest texel -> (H, W, 4):
    (DoG, 0, 0, 1). Texels whose DoG is exactly 1 (skipped by :func:`flow_dog`) are copied."""
    height, width = source.shape[:2]
    weights = np.ravel(kernel)
    dog = source[..., :1]
    x0, y0 = grid(height, width)
    tangent = orientation(flow, x0, y0, width, height)[..., :2]
    total = weights[0] * dog
    for side in (-1, 1):
        x, y = x0.copy(), y0.copy()
        step = side * step_length * tangent
        for i in range(1, taps + 1):
            x, y = x + step[..., 0], y + step[..., 1]
            near_x = np.clip(np.floor(x + 0.5).astype(np.int64), 0, width - 1)
            near_y = np.clip(np.floor(y + 0.5).astype(np.int64), 0, height - 1)
            total = total + weights[i] * dog[near_y, near_x]
            following = orientation(flow, x, y, width, height)[..., :2]
            flip = (following * step).sum(-1) < 0
            step = np.where(flip[..., None], -step_length, step_length) * following
    return _channel(np.where(dog == 1.0, dog, total)[..., 0])
