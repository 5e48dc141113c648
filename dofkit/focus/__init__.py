"""Focus maps: image -> float32 (H, W) in [0, 1], same size as the image, 1 = in focus.

Methods
-------
``paper``     eq. 3 of the paper as read (:mod:`.paper`), numpy/OpenCV only.
``analytic``  our refined analytic map (:mod:`.analytic`), numpy/OpenCV only.
``srcnn``     the trained network shipped in ``pretrained/`` (:mod:`.srcnn`, imports torch).
``auto``      ``srcnn`` when the weights (shipped, or given) load and their manifest
              records that the network beat the analytic map on every validation source
              (``beats_analytic``); else ``analytic`` (with a one-line notice when the
              shipped weights do not load, or when given ones did not beat it).

A :class:`FocusEstimator` holds the heavy state (the network) and is meant to be made once and
called on many images or frames; :func:`focus_map` keeps one per setting for casual use.
"""

from __future__ import annotations

import functools
import json
import numbers
import os
import sys
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import ParameterError, ResourceError
from ..io import check_unit_range
from ..resources import resource_dir
from .analytic import analytic_focus
from .paper import paper_focus

METHODS = ("auto", "analytic", "paper", "srcnn")
DEVICES = ("cpu", "cuda")
#: Most CPU threads the network may be given (torch crashes on absurd counts).
MAX_THREADS = 256

#: Most values an image may hold: OpenCV counts them in a C int (and crashes beyond).
MAX_ELEMENTS = 2**31 - 1

FocusFunction = Callable[[np.ndarray], np.ndarray]


def _warn(message: str) -> None:
    print(f"dofkit: {message}", file=sys.stderr)


class FocusEstimator:
    """A reusable focus-map maker.

    Parameters
    ----------
    method : one of :data:`METHODS`.
    device : ``"cpu"`` or ``"cuda"`` for the network; asking for CUDA where there is none
        raises :class:`ResourceError`, even with ``auto``.
    threads : torch intra-op threads for the network (1 to :data:`MAX_THREADS`), or None
        for torch's default.
    weights : path to other safetensors weights for the network, or None for the shipped ones;
        weights given that do not load raise :class:`ResourceError`, even with ``auto``, and
        with ``auto`` they are used only if their manifest says they beat the analytic map.
    notify : called with a one-line notice when ``auto`` falls back to ``analytic``.
    """

    def __init__(self, method: str = "auto", *, device: str = "cpu", threads: int | None = None,
                 weights: str | None = None, notify: Callable[[str], None] = _warn):
        if method not in METHODS:
            raise ParameterError(f"method must be one of {', '.join(METHODS)}; got {method!r}",
                                 "method")
        if device not in DEVICES:
            raise ParameterError(f"device must be one of {', '.join(DEVICES)}; got {device!r}",
                                 "device")
        check_threads(threads)
        if weights is not None and not isinstance(weights, (str, os.PathLike)):
            raise ParameterError(f"weights must be a path to a .safetensors file (or None); got "
                                 f"{type(weights).__name__}", "weights")
        self.requested = method
        self.method, self._function = self._resolve(method, device, threads, weights, notify)

    @staticmethod
    def _resolve(method, device, threads, weights, notify) -> tuple[str, FocusFunction]:
        if method == "paper":
            return "paper", paper_focus
        if method == "analytic":
            return "analytic", analytic_focus
        if method == "auto" and device == "cpu" and not _network_preferred(weights):
            if weights is not None:
                notify(f"{weights}: its manifest does not say it beats the analytic map on "
                       "every validation source; auto uses the analytic map (method srcnn "
                       "uses the weights anyway)")
            return "analytic", analytic_focus
        try:
            from .srcnn import SrcnnPredictor

            return "srcnn", SrcnnPredictor(weights=weights, device=device, threads=threads)
        except (ResourceError, ImportError) as exc:
            # auto falls back only from the shipped weights on the CPU: weights or a device
            # the user asked for must work.
            if method == "srcnn" or weights is not None or device != "cpu":
                raise ResourceError(f"srcnn unavailable: {exc}") from None
            notify(f"network unavailable ({exc}); using the analytic map")
            return "analytic", analytic_focus

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """Map float32 RGB (H, W, 3) in [0, 1] -> float32 (H, W) in [0, 1], 1 = in focus."""
        check_rgb(image)
        return self._function(image)


def manifest_path(weights: str | os.PathLike) -> Path:
    """The JSON manifest that goes with a weights file (same stem, ``.json``; any path has
    one, "/" too)."""
    return Path(os.path.splitext(weights)[0] + ".json")


def check_threads(threads: int | None) -> None:
    """Raise ParameterError unless ``threads`` is None or a whole number in 1 to
    :data:`MAX_THREADS`."""
    whole = isinstance(threads, numbers.Integral) and not isinstance(threads, bool)
    if threads is not None and (not whole or not 1 <= threads <= MAX_THREADS):
        raise ParameterError(f"threads must be a whole number from 1 to {MAX_THREADS} (or "
                             f"None); got {threads!r}", "threads")


def _network_preferred(weights: str | os.PathLike | None) -> bool:
    """Whether the manifest of ``weights`` (None: the shipped ones) says the network beat the
    analytic map on every validation source (read without importing torch; an unreadable
    manifest, or one whose ``beats_analytic`` is not true or false, says yes, so that loading
    the weights reports the problem)."""
    path = manifest_path(weights) if weights is not None else (
        resource_dir("pretrained") / "focus-net.json")
    try:
        if not path.is_file():  # a FIFO would be read for ever: loading says what is wrong
            return True
        manifest = json.loads(path.read_text())
    except (OSError, ValueError, RecursionError):
        return True
    beats = manifest.get("beats_analytic", False) if isinstance(manifest, dict) else None
    return beats if isinstance(beats, bool) else True


def check_rgb(image: np.ndarray) -> None:
    """Raise ParameterError (naming ``image``) unless it is native float32 (H, W, 3) with
    H, W >= 1, at most :data:`MAX_ELEMENTS` values (OpenCV's limit) and finite values in
    [0, 1] (1e-3 of slack)."""
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        shape = getattr(image, "shape", None)
        raise ParameterError(f"image must be an (H, W, 3) RGB array; got shape {shape}", "image")
    if image.dtype != np.float32:
        shown = ("big-endian float32; use image.astype(np.float32)" if image.dtype.kind == "f"
                 and image.dtype.itemsize == 4 else f"{image.dtype} (use dofkit.read_image, "
                 "or divide uint8 data by 255)")
        raise ParameterError(f"image must be float32 in [0, 1]; got {shown}", "image")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ParameterError("image has no pixels", "image")
    if image.size > MAX_ELEMENTS:
        raise ParameterError(f"image of {image.shape[1]}x{image.shape[0]} px is too large: at "
                             f"most {MAX_ELEMENTS // 3:,} pixels", "image")
    check_unit_range(image, "image", " (divide 8-bit data by 255)")


@functools.lru_cache(maxsize=4)
def _estimator(method: str) -> FocusEstimator:
    return FocusEstimator(method)


def focus_map(image: np.ndarray, method: str = "auto") -> np.ndarray:
    """Focus map of float32 RGB (H, W, 3) in [0, 1] -> float32 (H, W) in [0, 1], 1 = in focus.

    >>> import numpy as np, dofkit
    >>> flat = np.full((8, 8, 3), 0.5, np.float32)
    >>> dofkit.focus_map(flat, method="paper").shape
    (8, 8)
    """
    if not isinstance(method, str):  # the cache needs a hashable key
        raise ParameterError(f"method must be one of {', '.join(METHODS)}; got {method!r}",
                             "method")
    return _estimator(method)(image)
