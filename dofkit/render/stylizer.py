"""The reusable Stylizer: a backend (GL context and programs, or the CPU twin) made once and
called per image or video frame."""

from __future__ import annotations

import numbers
import sys
import threading
from typing import Callable

import numpy as np

from ..errors import ImageError, ParameterError, ResourceError
from ..focus import check_rgb
from ..io import check_unit_range
from .cpu_backend import CpuBackend
from .pipeline import Prepared, draw, prepare
from .styles import DEFAULT_STYLE, resolve

BACKENDS = ("auto", "gl", "cpu")


def _warn(message: str) -> None:
    print(f"dofkit: {message}", file=sys.stderr)


def check_backend(name: str) -> None:
    """ParameterError naming ``backend`` unless ``name`` is one of :data:`BACKENDS`."""
    if name not in BACKENDS:
        raise ParameterError(f"backend must be one of {', '.join(BACKENDS)}; got {name!r}",
                             "backend")


def open_backend(name: str, notify: Callable[[str], None] = _warn):
    """A backend by name: ``gl``, ``cpu``, or ``auto`` (GL, else CPU with a notice)."""
    check_backend(name)
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


def check_focus(focus: np.ndarray, image: np.ndarray) -> None:
    """Raise ParameterError unless ``focus`` is float32 (H, W) matching ``image``, with
    finite values in [0, 1]."""
    if not isinstance(focus, np.ndarray) or focus.shape != image.shape[:2]:
        raise ParameterError(f"focus must be an (H, W) array matching the image "
                             f"{image.shape[:2]}; got shape {getattr(focus, 'shape', None)}",
                             "focus")
    if focus.dtype != np.float32:
        raise ParameterError(f"focus must be float32 in [0, 1]; got {focus.dtype} (use "
                             "focus.astype(np.float32))", "focus")
    check_unit_range(focus, "focus")


def check_motion(previous, motion, coherence: float, shape: tuple[int, int]) -> None:
    """Raise ParameterError unless ``coherence`` is a number in [0, 1) and, when it is > 0
    and a previous frame is given, ``previous`` is (H, W, 3) for an image of ``shape`` (H, W),
    uint8 or float (its values are not scanned: it is checked per video frame, and the frame
    is clipped to [0, 1] where it is read), and ``motion`` is a non-empty float (h, w, 3) of
    finite values."""
    if isinstance(coherence, bool) or not isinstance(coherence, numbers.Real) \
            or not 0.0 <= coherence < 1.0:
        raise ParameterError(f"coherence must be in [0, 1) (a number); got {coherence!r}",
                             "coherence")
    if coherence == 0 or previous is None:
        return
    if getattr(previous, "shape", None) != (*shape, 3) or previous.dtype.kind not in "uf":
        raise ParameterError(f"previous must be the last stylised frame {(*shape, 3)}, uint8 "
                             f"or float in [0, 1]; got {getattr(previous, 'dtype', None)} of "
                             f"shape {getattr(previous, 'shape', None)}", "previous")
    if (not isinstance(motion, np.ndarray) or motion.ndim != 3 or motion.shape[2] != 3
            or motion.size == 0 or motion.dtype.kind not in "iuf"):
        raise ParameterError(f"motion must be an (h, w, 3) array of numbers, not empty (dx, "
                             f"dy, confidence); got shape {getattr(motion, 'shape', None)}",
                             "motion")
    if not np.isfinite(motion).all():
        raise ParameterError("motion values must be finite", "motion")


class Stylizer:
    """Focus-weighted NPR stylisation, made once and called per image or video frame.

    Parameters
    ----------
    style : a preset name from :data:`~dofkit.render.STYLES`.
    backend : ``"gl"`` (EGL context, ResourceError if none), ``"cpu"`` (numpy/OpenCV
        reference), or ``"auto"`` (GL, else CPU with a one-line notice).
    **params : any preset parameter by name (see :data:`~dofkit.render.PARAMETERS`).

    Call with image float32 (H, W, 3) and focus float32 (H, W), both in [0, 1], 1 = in
    focus; returns float32 (H, W, 3) in [0, 1] (8-bit steps). For video, also pass the
    previous stylised frame, ``motion`` float32 (h, w, 3) on a grid covering the frame
    ((dx, dy) in px to where each point was in the previous frame, confidence in [0, 1]) and
    ``coherence`` in [0, 1): the previous frame, moved, is blended in with weight
    ``coherence * confidence``, less where the motion is fast (see
    :class:`dofkit.video.CoherentStylizer`). An image wider
    or taller than the GL texture limit is rendered on the CPU under ``auto`` and refused with
    ImageError under ``gl``. Calls from several threads are taken one at a time (one context
    and one set of textures).
    """

    def __init__(self, style: str = DEFAULT_STYLE, backend: str = "auto", *,
                 notify: Callable[[str], None] = _warn, **params):
        self.configure(style, **params)
        self.requested = backend
        self._notify = notify
        self._backend = open_backend(backend, notify)
        self._cpu = self._backend if isinstance(self._backend, CpuBackend) else None
        self._closed = False
        self._lock = threading.RLock()  # held by draw, release and close

    def configure(self, style: str = DEFAULT_STYLE, **params) -> None:
        """Switch to preset ``style`` with ``params`` overriding it (validated; cheap)."""
        self.params = resolve(style, **params)
        self.style = style

    @property
    def backend(self) -> str:
        """The backend in use: ``"gl"`` or ``"cpu"``."""
        return self._backend.name

    def __call__(self, image: np.ndarray, focus: np.ndarray, *,
                 previous: np.ndarray | None = None, motion: np.ndarray | None = None,
                 coherence: float = 0.0) -> np.ndarray:
        return self.draw(self.prepare(image, focus), previous=previous, motion=motion,
                         coherence=coherence)

    def prepare(self, image: np.ndarray, focus: np.ndarray) -> Prepared:
        """The CPU half of a call, checks included: it needs no GL context, so a video can
        make it on another thread a frame ahead. Then :meth:`draw`. It keeps the style's
        parameters as they are now."""
        check_rgb(image)
        check_focus(focus, image)
        return prepare(image, focus, self.params)

    def draw(self, prepared: Prepared, *, previous: np.ndarray | None = None,
             motion: np.ndarray | None = None, coherence: float = 0.0) -> np.ndarray:
        """The passes, from what :meth:`prepare` made (with the parameters it kept) -> float32
        (H, W, 3) in [0, 1]; ``previous``, ``motion`` and ``coherence`` as for a call."""
        if not isinstance(prepared, Prepared):
            raise ParameterError(f"prepared must be what Stylizer.prepare returns; got "
                                 f"{type(prepared).__name__}", "prepared")
        check_motion(previous, motion, coherence, prepared.shape)
        with self._lock:
            return self._draw(prepared, previous, motion, coherence)

    def _draw(self, prepared: Prepared, previous, motion, coherence: float) -> np.ndarray:
        height, width = prepared.shape
        if self._closed:  # closed earlier: open the backend again
            self._backend = open_backend(self.requested, self._notify)
            self._cpu = self._backend if isinstance(self._backend, CpuBackend) else None
            self._closed = False
        backend = self._backend
        limit = backend.max_size
        if limit is not None and max(height, width) > limit:
            if self.requested == "gl":
                raise ImageError(f"image {width}x{height} exceeds the GL texture limit {limit} "
                                 "px per side; use the cpu backend")
            self._notify(f"image exceeds the GL texture limit {limit} px; rendering on the CPU")
            self._backend.release()  # the GL textures of an earlier size are not reused
            self._cpu = self._cpu or CpuBackend()
            backend = self._cpu
        try:
            styled = draw(backend, prepared, previous=previous, motion=motion,
                          coherence=coherence)
        finally:
            if backend is self._cpu:
                backend.release()
        return np.multiply(styled, np.float32(1 / 255), dtype=np.float32)

    @property
    def held(self) -> dict[str, tuple[int, int]]:
        """The image-sized buffers kept between calls: name -> (width, height). GL textures
        (and their framebuffers) are kept for the size of the last call only, reused while
        the size repeats (video frames) and freed when a call of another size begins; the
        CPU backend keeps none. :meth:`release` frees them."""
        return {} if self._closed else dict(self._backend.held)

    def release(self) -> None:
        """Free the image-sized buffers; the context and programs stay for the next call."""
        with self._lock:
            if not self._closed:
                self._backend.release()

    def close(self) -> None:
        """Free everything, the GL context included (a later call opens the backend
        again)."""
        with self._lock:
            if not self._closed:
                self._backend.close()
                if self._cpu is not None and self._cpu is not self._backend:
                    self._cpu.close()
                self._closed = True

    def __enter__(self) -> "Stylizer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
