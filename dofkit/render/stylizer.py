"""The stylisation pipeline, written once for both backends, and the reusable Stylizer."""

from __future__ import annotations

import math
import sys
from typing import Callable

import cv2
import numpy as np

from ..errors import ImageError, ParameterError, ResourceError
from ..focus import check_rgb
from .cpu import CpuBackend, half_kernels
from .styles import DEFAULT_STYLE, EDGE_RATIO, resolve

BACKENDS = ("auto", "gl", "cpu")
#: Sigma in px of the blur of the structure tensor that steers the lines.
TENSOR_SIGMA = 2.0


def _warn(message: str) -> None:
    print(f"dofkit: {message}", file=sys.stderr)


def open_backend(name: str, notify: Callable[[str], None] = _warn):
    """A backend by name: ``gl``, ``cpu``, or ``auto`` (GL, else CPU with a notice)."""
    if name not in BACKENDS:
        raise ParameterError(f"backend must be one of {', '.join(BACKENDS)}; got {name!r}")
    if name == "cpu":
        return CpuBackend()
    from .gl import GlBackend

    try:
        return GlBackend()
    except ResourceError as exc:
        if name == "gl":
            raise ResourceError(f"{exc}; install Mesa (libegl1, libgl1) or use the cpu "
                                "backend") from None
        notify(f"{exc}; rendering on the CPU (slower)")
        return CpuBackend()


def render(backend, image: np.ndarray, focus: np.ndarray, params: dict) -> np.ndarray:
    """Run the passes on ``backend``: image float32 (H, W, 3) and focus (H, W), both in
    [0, 1] -> stylised float32 (H, W, 3) in [0, 1]. The map is feathered first (a Gaussian
    blur on the CPU, shared by both backends: 2 ms at 1080p)."""
    if params["feather"] > 0:
        focus = cv2.GaussianBlur(focus, (0, 0), params["feather"], borderType=cv2.BORDER_REPLICATE)
    backend.load("image", image)
    backend.load("focus", focus)
    backend.run("lab", "lab", {"image": "image", "focus": "focus"})
    smoothing = dict(taps=math.ceil(2 * max(params["radius"], params["subject_radius"])),
                     radius_background=params["radius"], radius_subject=params["subject_radius"],
                     range_sigma=params["range_sigma"])
    abstracted = "lab"
    for round_ in range(params["iterations"] if smoothing["taps"] else 0):
        first, second = ((1, 0), (0, 1))[::1 if round_ % 2 == 0 else -1]  # no axis bias
        backend.run("bilateral", "across", {"source": abstracted}, direction=first, **smoothing)
        backend.run("bilateral", "smooth", {"source": "across"}, direction=second, **smoothing)
        abstracted = "smooth"
    edges = abstracted  # unused by compose when no line is drawn
    if params["edge_strength"] > 0 or params["background_edges"] > 0:
        edges = "edges"
        draw_lines(backend, abstracted, edges, params["edge_sigma"], params["flow_sigma"])
    backend.run("compose", "styled", {"abstracted": abstracted, "edges": edges},
                **{name: float(params[name]) for name in COMPOSE_UNIFORMS})
    return np.ascontiguousarray(np.clip(backend.read("styled")[..., :3], 0.0, 1.0))


def draw_lines(backend, source: str, target: str, edge_sigma: float, flow_sigma: float) -> None:
    """Flow-guided DoG of the lightness of buffer ``source`` into ``target``: structure tensor,
    its Gaussian blur, the two DoG blurs across edges, their smoothing along the edge flow."""
    backend.run("tensor", "across", {"source": source})
    tensor_taps = math.ceil(2 * TENSOR_SIGMA)
    tensor_blur = dict(taps=tensor_taps, kernel=half_kernels(tensor_taps, TENSOR_SIGMA))
    backend.run("smooth", "tensor", {"source": "across"}, direction=(1, 0), **tensor_blur)
    backend.run("smooth", "flow", {"source": "tensor"}, direction=(0, 1), **tensor_blur)
    dog_taps = math.ceil(2.5 * EDGE_RATIO * edge_sigma)
    backend.run("flow_dog", "across", {"source": source, "flow": "flow"}, taps=dog_taps,
                kernel=half_kernels(dog_taps, edge_sigma, EDGE_RATIO * edge_sigma))
    line_taps = math.ceil(2 * flow_sigma)
    backend.run("flow_lines", target, {"source": "across"}, taps=line_taps,
                kernel=half_kernels(line_taps, max(flow_sigma, 1e-3)))


COMPOSE_UNIFORMS = ("levels", "toon_sharpness", "saturation", "desaturate", "fade", "edge_tau",
                    "edge_threshold", "edge_sharpness", "edge_strength", "background_edges")


def check_focus(focus: np.ndarray, image: np.ndarray) -> None:
    """Raise ParameterError unless ``focus`` is float32 (H, W) matching ``image``."""
    if not isinstance(focus, np.ndarray) or focus.shape != image.shape[:2]:
        raise ParameterError(f"focus must be an (H, W) array matching the image "
                             f"{image.shape[:2]}; got shape {getattr(focus, 'shape', None)}")
    if focus.dtype != np.float32:
        raise ParameterError(f"focus must be float32 in [0, 1]; got {focus.dtype}")


class Stylizer:
    """Focus-weighted NPR stylisation, made once and called per image or video frame.

    Parameters
    ----------
    style : a preset name from :data:`~dofkit.render.STYLES`.
    backend : ``"gl"`` (EGL context, ResourceError if none), ``"cpu"`` (numpy/OpenCV
        reference), or ``"auto"`` (GL, else CPU with a one-line notice).
    **params : any preset parameter by name (see :data:`~dofkit.render.PARAMETERS`).

    Call with image float32 (H, W, 3) and focus float32 (H, W), both in [0, 1], 1 = in
    focus; returns float32 (H, W, 3) in [0, 1]. An image wider or taller than the GL texture
    limit is rendered on the CPU under ``auto`` and refused with ImageError under ``gl``.
    """

    def __init__(self, style: str = DEFAULT_STYLE, backend: str = "auto", *,
                 notify: Callable[[str], None] = _warn, **params):
        self.configure(style, **params)
        self.requested = backend
        self._notify = notify
        self._backend = open_backend(backend, notify)
        self._cpu = self._backend if isinstance(self._backend, CpuBackend) else None

    def configure(self, style: str = DEFAULT_STYLE, **params) -> None:
        """Switch to preset ``style`` with ``params`` overriding it (validated; cheap)."""
        self.params = resolve(style, **params)
        self.style = style

    @property
    def backend(self) -> str:
        """The backend in use: ``"gl"`` or ``"cpu"``."""
        return self._backend.name

    def __call__(self, image: np.ndarray, focus: np.ndarray) -> np.ndarray:
        check_rgb(image)
        check_focus(focus, image)
        backend = self._backend
        limit = backend.max_size
        if limit is not None and max(image.shape[:2]) > limit:
            if self.requested == "gl":
                raise ImageError(f"image {image.shape[1]}x{image.shape[0]} exceeds the GL "
                                 f"texture limit {limit} px per side; use --backend cpu")
            self._notify(f"image exceeds the GL texture limit {limit} px; rendering on the CPU")
            self._cpu = self._cpu or CpuBackend()
            backend = self._cpu
        try:
            return render(backend, image, focus, self.params)
        finally:
            if backend is self._cpu:
                backend.release()

    def release(self) -> None:
        """Free the image-sized buffers; the context and programs stay for the next call."""
        self._backend.release()

    def close(self) -> None:
        """Free everything, the GL context included."""
        self._backend.close()

    def __enter__(self) -> "Stylizer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
