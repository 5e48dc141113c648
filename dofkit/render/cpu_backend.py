"""The CPU backend: runs the passes' numpy twins on named buffers, storing each as its GL
texture would (8-bit buffers rounded, half-float ones rounded to float16). sRGB textures
(``srgb`` uploads, ``"srgb"`` targets) hold sRGB-encoded bytes, which the twins decode and
encode themselves, as the GL texture units do."""

from __future__ import annotations

import numpy as np

from . import cpu
from .compose import compose
from .regions import Rect, region_mask

PROGRAMS = {"tensor": cpu.tensor, "smooth": cpu.smooth, "orient": cpu.orient,
            "shrink": cpu.shrink,
            "bilateral": cpu.bilateral, "merge": cpu.merge, "flow_dog": cpu.flow_dog,
            "flow_lines": cpu.flow_lines, "compose": compose}


def stored(values: np.ndarray, dtype: str) -> np.ndarray:
    """``values`` float32 as a texture of ``dtype`` holds them: ``"f1"`` and ``"srgb"`` uint8
    (rounded, as GL's unsigned normalised conversion), ``"f2"`` rounded to float16, ``"f4"``
    as is."""
    if dtype in ("f1", "srgb"):
        scaled = np.clip(values, 0.0, 1.0)  # one float32 copy, scaled in place
        scaled *= np.float32(255)
        scaled += np.float32(0.5)
        return scaled.astype(np.uint8)
    if dtype == "f2":
        return values.astype(np.float16)
    return values.astype(np.float32, copy=False)


def check_fill(fill: tuple[float, ...] | None, dtype: str) -> None:
    """ValueError for a ``fill`` of an ``"srgb"`` target (GL would encode it, a stored value
    would not be: the two backends would differ)."""
    if fill is not None and dtype == "srgb":
        raise ValueError("fill is not supported for srgb targets")


def _as_float(values: np.ndarray) -> np.ndarray:
    """A stored buffer as the float32 (H, W, C) a shader reads (uint8 normalised to [0, 1])."""
    if values.dtype == np.uint8:
        values = values.astype(np.float32)
        values /= np.float32(255)
    values = values.astype(np.float32, copy=False)
    return values[..., None] if values.ndim == 2 else values


class CpuBackend:
    """Runs the passes on named numpy buffers; same interface as :class:`~.gl.GlBackend`."""

    name = "cpu"
    culls = False  # ``regions`` are honoured, but each pass is computed whole anyway
    max_size = None  # no texture limit

    def __init__(self):
        self._buffers: dict[str, np.ndarray] = {}

    def begin(self, shape: tuple[int, int]) -> None:
        """Start a frame of ``shape`` (H, W): the buffers of another size are dropped."""
        lab = self._buffers.get("lab")
        if lab is not None and lab.shape[:2] != tuple(shape):
            self.release()

    def load(self, name: str, values: np.ndarray, *, srgb: bool = False) -> None:
        """Store uint8 or float32 (H, W) or (H, W, C) ``values`` as buffer ``name`` (``srgb``
        changes nothing here: the twins treat sRGB bytes as such)."""
        self._buffers[name] = values

    def run(self, program: str, target: str, sources: dict[str, str], *,
            size: tuple[int, int] | None = None, dtype: str = "f2", components: int = 4,
            regions: list[Rect] | None = None, fill: tuple[float, ...] | None = None,
            **uniforms) -> None:
        """Run ``program`` with sampler -> buffer ``sources`` and ``uniforms`` into ``target``,
        stored as a texture of ``dtype`` with ``components`` channels would be (``size`` is
        implied by the program); ``regions`` and ``fill`` as in :meth:`.GlBackend.run`."""
        check_fill(fill, dtype)
        inputs = {sampler: _as_float(self._buffers[buffer]) for sampler, buffer in sources.items()}
        result = stored(PROGRAMS[program](**inputs, **uniforms)[..., :components], dtype)
        if regions is not None:
            if fill is not None:
                outside = stored(np.broadcast_to(np.float32(fill[:components]), result.shape),
                                 dtype)
            else:  # what the target holds if it is of this kind, else zeros (GL: undefined)
                held = self._buffers.get(target)
                same = held is not None and (held.shape, held.dtype) == (result.shape, result.dtype)
                outside = held if same else np.zeros_like(result)
            result = np.where(region_mask(result.shape[:2], regions)[..., None], result, outside)
        self._buffers[target] = result

    def read(self, name: str) -> np.ndarray:
        """Buffer ``name`` as stored: uint8 or float (H, W, C)."""
        return self._buffers[name]

    @property
    def held(self) -> dict[str, tuple[int, int]]:
        """Buffer name -> (width, height) of the buffers held."""
        return {name: (buffer.shape[1], buffer.shape[0]) for name, buffer in self._buffers.items()}

    def release(self) -> None:
        """Drop the buffers."""
        self._buffers.clear()

    close = release
