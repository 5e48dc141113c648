"""CPU reference of every GLSL pass (numpy/OpenCV), and the CPU backend that runs them.

Each function mirrors the program of the same name in ``shaders/``: same inputs (by sampler
name), same uniforms (keyword arguments), same float32 output with 4 channels (an RGBA
texture's worth). Borders are replicated, as ``clamp`` on texel coordinates does in GLSL.
"""

from __future__ import annotations

import cv2
import numpy as np

Direction = tuple[int, int]  # (1, 0) along rows (x), (0, 1) along columns (y), as in GLSL


def lab(image: np.ndarray, focus: np.ndarray) -> np.ndarray:
    """sRGB (H, W, 3) in [0, 1] and focus (H, W) -> (H, W, 4): L in [0, 100], a, b, focus."""
    colour = cv2.cvtColor(np.clip(image, 0.0, 1.0), cv2.COLOR_RGB2Lab)
    return np.dstack([colour, np.clip(focus, 0.0, 1.0)]).astype(np.float32)


def _shifted(values: np.ndarray, direction: Direction, taps: int):
    """Yield (offset, values shifted by offset along ``direction``) for offsets -taps..taps,
    with the border replicated."""
    axis = 1 if direction == (1, 0) else 0
    pad = [(0, 0)] * values.ndim
    pad[axis] = (taps, taps)
    padded = np.pad(values, pad, mode="edge")
    size = values.shape[axis]
    for offset in range(-taps, taps + 1):
        yield offset, np.take(padded, range(taps + offset, taps + offset + size), axis=axis)


def bilateral(source: np.ndarray, *, direction: Direction, taps: int, radius_background: float,
              radius_subject: float, range_sigma: float) -> np.ndarray:
    """One axis of the focus-weighted bilateral filter on (L, a, b, focus) (H, W, 4)."""
    colour, focus = source[..., :3], source[..., 3]
    sigma = np.maximum(radius_background * (1 - focus) + radius_subject * focus, 1e-3)
    spatial = (-0.5 / (sigma * sigma)).astype(np.float32)
    range_ = np.float32(-0.5 / (range_sigma * range_sigma))
    reach = np.minimum(taps, np.ceil(2 * sigma))
    total = np.zeros_like(colour)
    weights = np.zeros_like(focus)
    for offset, sample in _shifted(colour, direction, taps):
        difference = sample - colour
        w = np.exp(offset * offset * spatial + np.einsum("ijk,ijk->ij", difference, difference)
                   * range_) * (abs(offset) <= reach)
        total += w[..., None] * sample
        weights += w
    return np.dstack([total / weights[..., None], focus]).astype(np.float32)


#: Most taps each side of a blur_pair kernel (the size of the shader's ``kernel`` array - 1).
MAX_TAPS = 40


def dog_kernel(sigma: float, ratio: float) -> np.ndarray:
    """Normalised 1-D Gaussian weights of sigma and sigma * ratio at offsets 0..MAX_TAPS,
    float32 (MAX_TAPS + 1, 2), zero beyond 3 sigma * ratio; the ``kernel`` of blur_pair."""
    taps = dog_taps(sigma, ratio)
    offsets = np.arange(MAX_TAPS + 1, dtype=np.float32)[:, None]
    scales = np.array([sigma, sigma * ratio], np.float32)
    kernel = np.exp(-0.5 * (offsets / scales) ** 2) * (offsets <= taps)
    return (kernel / (2 * kernel.sum(axis=0) - kernel[0])).astype(np.float32)


def dog_taps(sigma: float, ratio: float) -> int:
    """Taps each side of the wider DoG blur: 3 sigma * ratio."""
    taps = int(np.ceil(3 * sigma * ratio))
    if taps > MAX_TAPS:
        raise ValueError(f"DoG of sigma {sigma} needs {taps} taps; at most {MAX_TAPS}")
    return taps


def blur_pair(source: np.ndarray, *, direction: Direction, taps: int, kernel: np.ndarray,
              paired: bool) -> np.ndarray:
    """One axis of the two DoG blurs (``kernel`` from :func:`dog_kernel`) -> (H, W, 4):
    (b1, b2, 0, 1). Blurs channel 0 twice, or with ``paired`` channels 0 and 1 respectively."""
    inputs = (source[..., 0], source[..., 1]) if paired else (source[..., 0], source[..., 0])
    unit = np.ones(1, np.float32)
    out = []
    for values, half in zip(inputs, np.asarray(kernel, np.float32).T):
        full = np.concatenate([half[taps:0:-1], half[:taps + 1]])
        kx, ky = (full, unit) if direction == (1, 0) else (unit, full)
        out.append(cv2.sepFilter2D(np.ascontiguousarray(values), cv2.CV_32F, kx, ky,
                                   borderType=cv2.BORDER_REPLICATE))
    ones = np.ones_like(out[0])
    return np.dstack([out[0], out[1], 0 * ones, ones]).astype(np.float32)


def quantise(lightness: np.ndarray, levels: float, toon_sharpness: float) -> np.ndarray:
    """Soft quantisation of L in [0, 100] to plateaus at multiples of 100 / levels."""
    step = 100.0 / levels
    nearest = (np.floor(lightness / step) + 0.5) * step
    t = (lightness - nearest) / (0.5 * step)
    return nearest + 0.5 * step * np.tanh(toon_sharpness * t) / np.tanh(toon_sharpness)


def compose(abstracted: np.ndarray, edges: np.ndarray, *, levels: float, toon_sharpness: float,
            saturation: float, desaturate: float, fade: float, edge_tau: float,
            edge_threshold: float, edge_sharpness: float, edge_strength: float,
            background_edges: float) -> np.ndarray:
    """Abstracted (L, a, b, focus) and DoG pair -> (H, W, 4): sRGB in [0, 1] and 1."""
    colour, focus = abstracted[..., :3].copy(), abstracted[..., 3:]
    if levels > 0:
        colour[..., 0] = quantise(colour[..., 0], levels, toon_sharpness)
    colour[..., 1:] *= saturation * ((1 - desaturate) * (1 - focus) + focus)
    fading = fade * (1 - focus)
    colour = colour * (1 - fading) + np.array([100, 0, 0], np.float32) * fading
    rgb = np.clip(cv2.cvtColor(colour.astype(np.float32), cv2.COLOR_Lab2RGB), 0.0, 1.0)

    dog = (edges[..., 0] - edge_tau * edges[..., 1]) / 100.0 - edge_threshold
    line = np.where(dog >= 0, 1.0, 1.0 + np.tanh(np.clip(edge_sharpness * dog, -10.0, 0.0)))
    opacity = background_edges * (1 - focus[..., 0]) + edge_strength * focus[..., 0]
    shade = 1 - opacity + line * opacity
    return np.dstack([rgb * shade[..., None], np.ones_like(shade)]).astype(np.float32)


PROGRAMS = {"lab": lab, "bilateral": bilateral, "blur_pair": blur_pair, "compose": compose}


class CpuBackend:
    """Runs the passes on named numpy buffers; same interface as :class:`~.gl.GlBackend`."""

    name = "cpu"
    max_size = None  # no texture limit

    def __init__(self):
        self._buffers: dict[str, np.ndarray] = {}

    def load(self, name: str, values: np.ndarray) -> None:
        """Store float32 (H, W) or (H, W, C) ``values`` as buffer ``name``."""
        self._buffers[name] = values

    def run(self, program: str, target: str, sources: dict[str, str], **uniforms) -> None:
        """Run ``program`` with sampler -> buffer ``sources`` and ``uniforms`` into ``target``."""
        inputs = {sampler: self._buffers[buffer] for sampler, buffer in sources.items()}
        self._buffers[target] = PROGRAMS[program](**inputs, **uniforms)

    def read(self, name: str) -> np.ndarray:
        """Buffer ``name`` as float32 (H, W, C)."""
        return self._buffers[name]

    def release(self) -> None:
        """Drop the buffers."""
        self._buffers.clear()

    close = release
