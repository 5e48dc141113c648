"""CPU reference of the last pass, ``shaders/compose.glsl``: quantisation, colour, lines and
the blend with the previous stylised frame."""

from __future__ import annotations

import cv2
import numpy as np

from .cpu import unpack_lab
from .sampling import bilinear, grid, orientation, rescale


def quantise(lightness: np.ndarray, levels: float, sharpness: np.ndarray | float) -> np.ndarray:
    """Soft quantisation of L in [0, 100]: tanh steps of steepness ``sharpness`` between
    plateaus at multiples of 100 / levels (Winnemöller et al. 2006, continuous form)."""
    step = 100.0 / levels
    nearest = (np.floor(lightness / step) + 0.5) * step
    t = (lightness - nearest) / (0.5 * step)
    return nearest + 0.5 * step * np.tanh(sharpness * t) / np.tanh(sharpness)


def _stepped_lightness(lightness, tangent, levels, sharpness, flow_smoothing,
                       flow_taps) -> np.ndarray:
    """Quantised L (H, W) of ``lightness`` (H, W, 1), smoothed along ``tangent`` (H, W, 2)
    with sigma ``flow_smoothing`` px over ``flow_taps`` taps each way where ``sharpness`` > 1
    (softer steps, of slope at most 1.31x, leave no stairs to smooth)."""
    stepped = quantise(lightness[..., 0], levels, sharpness)
    x, y = grid(*lightness.shape[:2])
    total, weights = stepped.copy(), np.ones_like(stepped)
    for i in range(1, flow_taps + 1):
        w = np.float32(np.exp(-0.5 * i * i / (flow_smoothing * flow_smoothing)))
        for side in (-1, 1):
            tap = bilinear(lightness, x + side * i * tangent[..., 0],
                           y + side * i * tangent[..., 1])[..., 0]
            total += w * quantise(tap, levels, sharpness)
            weights += w
    return np.where(sharpness > 1, total / weights, stepped)


def compose(abstracted: np.ndarray, edges: np.ndarray, flow: np.ndarray,
            previous: np.ndarray | None = None, motion: np.ndarray | None = None, *,
            levels: float, toon_sharpness: float, flow_smoothing: float, flow_taps: int,
            saturation: float, desaturate: float, fade: float, edge_sharpness: float,
            edge_strength: float, background_edges: float, line_coherence: float,
            coherence: float, steady_motion: float, lines: int, coherent: int) -> np.ndarray:
    """Abstracted packed (L, a, b, focus) and flow-smoothed DoG (H, W, 4), orientation
    texture (any size), and with ``coherent`` 1 the previous stylised frame (H, W, >= 3,
    sRGB) and ``motion`` (h, w, >= 3): (dx, dy, confidence) -> (H, W, 4): sRGB in [0, 1] and
    1. Lines (left out with ``lines`` 0) and the blend (``coherent`` 0: left out) work in
    linear light, as the GL pass between its sRGB textures; the blend's weight is
    ``coherence`` where the motion is trusted and halves at ``steady_motion`` px of motion."""
    colour, focus = unpack_lab(abstracted), abstracted[..., 3:]
    height, width = focus.shape[:2]
    x, y = grid(height, width)
    local = orientation(flow, x, y, width, height)  # (tangent, anisotropy, steepness)
    if levels > 0:
        sharpness = (toon_sharpness * (0.25 + 0.75 * local[..., 3])
                     * (0.25 + 0.75 * focus[..., 0]))
        colour[..., 0] = _stepped_lightness(100 * abstracted[..., :1], local[..., :2], levels,
                                            sharpness, flow_smoothing, flow_taps)
    colour[..., 1:] *= saturation * ((1 - desaturate) * (1 - focus) + focus)
    fading = fade * (1 - focus)
    colour = colour * (1 - fading) + np.array([100, 0, 0], np.float32) * fading
    rgb = to_linear(np.clip(cv2.cvtColor(colour.astype(np.float32), cv2.COLOR_Lab2RGB), 0, 1))

    if lines:
        dog = edges[..., 0]
        line = np.where(dog >= 0, 1.0, 1.0 + np.tanh(np.clip(edge_sharpness * dog, -10.0, 0.0)))
        opacity = background_edges * (1 - focus[..., 0]) + edge_strength * focus[..., 0]
        if line_coherence > 0:
            t = np.clip((local[..., 2] - 0.5 * line_coherence) / (0.5 * line_coherence), 0, 1)
            opacity = opacity * t * t * (3 - 2 * t)  # GLSL smoothstep
        rgb = rgb * (1 - opacity + line * opacity)[..., None]  # shading in linear light
    if coherent:
        moved = bilinear(motion[..., :3], rescale(x, width, motion.shape[1]),
                         rescale(y, height, motion.shape[0]))
        was_x = np.clip(np.floor(x + moved[..., 0] + 0.5).astype(np.int64), 0, width - 1)
        was_y = np.clip(np.floor(y + moved[..., 1] + 0.5).astype(np.int64), 0, height - 1)
        before = to_linear(previous[..., :3])[was_y, was_x]  # nearest texel
        steady = 1.0 / (1.0 + (moved[..., :2] ** 2).sum(-1, keepdims=True) / steady_motion ** 2)
        weight = coherence * np.clip(moved[..., 2:3], 0.0, 1.0) * steady
        rgb = rgb + (before - rgb) * weight
    return np.dstack([to_srgb(rgb), np.ones(rgb.shape[:2], np.float32)]).astype(np.float32)


def to_linear(srgb: np.ndarray) -> np.ndarray:
    """sRGB values in [0, 1] -> linear RGB (the sRGB decoding curve)."""
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def to_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear RGB in [0, 1] -> sRGB values (the sRGB encoding curve)."""
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, linear * 12.92,
                    1.055 * linear ** (1 / 2.4) - 0.055)
