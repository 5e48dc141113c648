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


#: Most taps each side of a kernel (the size of the shaders' ``kernel`` arrays - 1).
MAX_TAPS = 40


def half_kernels(taps: int, *sigmas: float) -> np.ndarray:
    """Normalised 1-D Gaussian weights of each sigma at offsets 0..MAX_TAPS, zero beyond
    ``taps``: float32 (MAX_TAPS + 1, len(sigmas)), the ``kernel`` uniform of the passes."""
    if taps > MAX_TAPS:
        raise ValueError(f"a kernel of {taps} taps is too long; at most {MAX_TAPS}")
    offsets = np.arange(MAX_TAPS + 1, dtype=np.float32)[:, None]
    scales = np.array(sigmas, np.float32)
    kernel = np.exp(-0.5 * (offsets / scales) ** 2) * (offsets <= taps)
    return (kernel / (2 * kernel.sum(axis=0) - kernel[0])).astype(np.float32)


def _full(half: np.ndarray, taps: int) -> np.ndarray:
    return np.concatenate([half[taps:0:-1], half[:taps + 1]]).astype(np.float32)


def tensor(source: np.ndarray) -> np.ndarray:
    """Structure tensor of channel 0 (3x3 Sobel) -> (H, W, 4): (gx², gx gy, gy², 1)."""
    lightness = np.ascontiguousarray(source[..., 0])
    gx = cv2.Sobel(lightness, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REPLICATE)
    gy = cv2.Sobel(lightness, cv2.CV_32F, 0, 1, ksize=3, borderType=cv2.BORDER_REPLICATE)
    return np.dstack([gx * gx, gx * gy, gy * gy, np.ones_like(gx)])


def smooth(source: np.ndarray, *, direction: Direction, taps: int,
           kernel: np.ndarray) -> np.ndarray:
    """One axis of a Gaussian blur (``kernel`` from :func:`half_kernels`, one sigma) of all
    four channels of (H, W, 4)."""
    full, unit = _full(np.ravel(kernel), taps), np.ones(1, np.float32)
    kx, ky = (full, unit) if direction == (1, 0) else (unit, full)
    return cv2.sepFilter2D(np.ascontiguousarray(source), cv2.CV_32F, kx, ky,
                           borderType=cv2.BORDER_REPLICATE)


def bilinear(values: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``values`` (H, W, C) sampled at texel coordinates (x, y), borders clamped: the GLSL
    ``bilinear`` of shaders/lib/sample.glsl."""
    height, width = values.shape[:2]
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    left, up = x0.astype(np.int64), y0.astype(np.int64)
    xs = np.clip(left, 0, width - 1), np.clip(left + 1, 0, width - 1)
    ys = np.clip(up, 0, height - 1), np.clip(up + 1, 0, height - 1)
    top = values[ys[0], xs[0]] * (1 - fx) + values[ys[0], xs[1]] * fx
    bottom = values[ys[1], xs[0]] * (1 - fx) + values[ys[1], xs[1]] * fx
    return top * (1 - fy) + bottom * fy


def gradient_direction(flow: np.ndarray) -> np.ndarray:
    """Unit major eigenvector (H, W, 2) of the tensor (E, F, G) in ``flow``; (1, 0) where the
    tensor is isotropic."""
    e, f, g = flow[..., 0], flow[..., 1], flow[..., 2]
    major = 0.5 * (e + g + np.sqrt((e - g) ** 2 + 4 * f * f))
    v = np.where((e >= g)[..., None], np.dstack([major - g, f]), np.dstack([f, major - e]))
    size = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.where(size > 1e-3, v / np.maximum(size, 1e-30), np.array([1.0, 0.0], np.float32))


def _grid(shape) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[:shape[0], :shape[1]].astype(np.float32)
    return x, y


def flow_dog(source: np.ndarray, flow: np.ndarray, *, taps: int,
             kernel: np.ndarray) -> np.ndarray:
    """The DoG blurs of channel 0 across edges (along the gradient of the smoothed tensor
    ``flow``) -> (H, W, 4): (blur1, blur2, tangent x, tangent y)."""
    across = gradient_direction(flow).astype(np.float32)
    x, y = _grid(source.shape)
    lightness = source[..., :1]
    total = np.zeros(source.shape[:2] + (2,), np.float32)
    for i in range(-taps, taps + 1):
        sample = bilinear(lightness, x + i * across[..., 0], y + i * across[..., 1])
        total += kernel[abs(i)] * sample
    return np.dstack([total, -across[..., 1], across[..., 0]]).astype(np.float32)


def flow_lines(source: np.ndarray, *, taps: int, kernel: np.ndarray) -> np.ndarray:
    """Smooth the DoG blurs (channels 0, 1) along the tangent flow (channels 2, 3), following
    it step by step both ways -> (H, W, 4): (blur1, blur2, 0, 1)."""
    height, width = source.shape[:2]
    weights = np.ravel(kernel)
    blurs, tangents = source[..., :2], source[..., 2:4]
    x0, y0 = _grid(source.shape)
    total = weights[0] * blurs
    for side in (-1, 1):
        x, y = x0.copy(), y0.copy()
        step = side * tangents
        for i in range(1, taps + 1):
            x, y = x + step[..., 0], y + step[..., 1]
            total = total + weights[i] * bilinear(blurs, x, y)
            near_x = np.clip(np.floor(x + 0.5).astype(np.int64), 0, width - 1)
            near_y = np.clip(np.floor(y + 0.5).astype(np.int64), 0, height - 1)
            tangent = tangents[near_y, near_x]
            flip = np.einsum("ijk,ijk->ij", tangent, step) < 0
            step = np.where(flip[..., None], -tangent, tangent)
    ones = np.ones((height, width, 1), np.float32)
    return np.dstack([total, 0 * ones, ones]).astype(np.float32)


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


PROGRAMS = {"lab": lab, "bilateral": bilateral, "tensor": tensor, "smooth": smooth,
            "flow_dog": flow_dog, "flow_lines": flow_lines, "compose": compose}


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
