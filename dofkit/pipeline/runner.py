"""The per-input pipeline: read -> focus map -> consumer -> atomic writes -> status record.

Made once per process (it holds the focus network and, after the first stylised image, the GL
context) and called for each input by every front end.
"""

from __future__ import annotations

import os
import string
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import DofkitError, InputInterrupted, OutputError, ParameterError
from ..focus import FocusEstimator, check_rgb
from ..io import Picture, check_unit_range, open_image, read_focus_map, write_image
from ..io.decode import pixel_limit
from ..io.formats import reason
from .result import Result


def _warn(message: str) -> None:
    print(f"dofkit: {message}", file=sys.stderr)


class Pipeline:
    """One consumer (see :mod:`.consumers`) fed by one focus-map source.

    Parameters
    ----------
    consumer : a MapStep, StylizeStep, RoiStep or DetectStep (any callable
        ``(Picture, focus) -> Result``).
    method, device, threads, weights : the focus map (see :class:`dofkit.FocusEstimator`);
        the network is loaded here, once. ``method=None``: maps are always given (``focus``,
        ``map_path``), never computed, and the others are unused.
    max_pixels : the pixel limit for inputs (default ``DOFKIT_MAX_PIXELS`` or 100 MP).

    In memory: :meth:`run` (image -> Result). On files: :meth:`process` (path -> written
    outputs and a status record).
    """

    def __init__(self, consumer, *, method: str | None = "auto", device: str = "cpu",
                 threads: int | None = None, weights: str | None = None,
                 max_pixels: int | None = None, notify: Callable[[str], None] = _warn):
        if not callable(consumer):
            raise ParameterError(f"consumer must be a MapStep, StylizeStep, RoiStep or "
                                 f"DetectStep (a callable); got {consumer!r}", "consumer")
        self.consumer = consumer
        self.max_pixels = pixel_limit(max_pixels)
        self.estimator = None if method is None else FocusEstimator(
            method, device=device, threads=threads, weights=weights, notify=notify)

    def run(self, image: Picture | np.ndarray, focus: np.ndarray | None = None) -> Result:
        """The consumer's result for a decoded image: a :class:`dofkit.io.Picture` or float32
        RGB (H, W, 3) in [0, 1]. ``focus`` float32 (H, W) in [0, 1] is used when given, else
        computed. Nothing is written."""
        picture = image if isinstance(image, Picture) else Picture(image, None, 8, "image")
        if focus is None and self.estimator is None:
            raise ParameterError("focus is needed: this pipeline computes no maps "
                                 "(method=None)", "focus")
        if focus is None:
            focus = self.estimator(picture.rgb)
        else:
            check_rgb(picture.rgb)
            focus = check_given_focus(focus, picture.rgb.shape[:2])
        return self.consumer(picture, focus)

    def process(self, source: str, targets: dict[str, str], *, map_path: str | None = None,
                inputs: tuple = (), overwrite: bool = False) -> dict:
        """Read ``source``, map it (or read ``map_path``), run the consumer and write each
        picture whose role has a target (``targets["crop"]`` is a pattern with ``{index}``).

        Never raises for a bad input or output: returns the status record ``{"input",
        "outputs", "ok", "error", "seconds"}`` plus ``"result"`` (the consumer's record)
        when there is one. ``inputs`` are files the writes must never replace unless
        ``overwrite``. An interrupt after some outputs were written is raised as
        :class:`~dofkit.errors.InputInterrupted` carrying the record of those (failed).
        """
        roles = getattr(self.consumer, "roles", ())
        if not isinstance(targets, dict) or not all(
                role in roles and isinstance(path, str) for role, path in targets.items()):
            raise ParameterError(f"targets must map roles of this consumer ({', '.join(roles)})"
                                 f" to paths; got {targets!r}", "targets")
        if isinstance(source, os.PathLike):  # the status record stays JSON
            source = os.fspath(source)
        began = time.perf_counter()
        written: list[str] = []
        status = {"input": source, "outputs": written, "ok": True, "error": None}
        try:
            if "crop" in targets:
                check_crop_pattern(targets["crop"])
            picture = open_image(source, max_pixels=self.max_pixels)
            focus = (read_focus_map(map_path, picture.size, max_pixels=self.max_pixels)
                     if map_path is not None else None)
            result = self.run(picture, focus)
            guard = (source, *inputs) if map_path is None else (source, map_path, *inputs)
            for role, rendered in result.images.items():
                target = target_for(targets, role)
                if target is None:
                    continue
                write_image(target, rendered.values, depth=rendered.depth,
                            alpha=rendered.alpha, inputs=guard, overwrite=overwrite)
                written.append(target)
            if result.record is not None:
                status["result"] = result.record
        except DofkitError as exc:
            status.update(ok=False, error=named(str(exc), source))
        except MemoryError:
            status.update(ok=False, error=f"{source}: not enough memory to process it (the "
                                          "image is too large for what this process may use)")
        except Exception as exc:  # a bug must not end a batch; report it on one line
            status.update(ok=False, error=f"{source}: internal error ({type(exc).__name__}: "
                                          f"{reason(exc)})")
        except KeyboardInterrupt:
            if not written:
                raise
            status.update(ok=False, error=f"{source}: interrupted after writing "
                                          f"{', '.join(written)}",
                          seconds=round(time.perf_counter() - began, 4))
            raise InputInterrupted(status) from None
        status["seconds"] = round(time.perf_counter() - began, 4)
        return status

    def close(self) -> None:
        """Free the consumer's heavy state (the GL context: a pipeline dropped without
        ``close`` keeps it until the process ends)."""
        close = getattr(self.consumer, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def check_given_focus(focus, shape: tuple[int, int]) -> np.ndarray:
    """``focus`` as native float32; ParameterError naming ``focus`` unless it is a float
    (H, W) map of ``shape`` with finite values in [0, 1]."""
    if (not isinstance(focus, np.ndarray) or focus.shape != tuple(shape)
            or focus.dtype.kind != "f"):
        raise ParameterError(f"focus must be a float (H, W) = {tuple(shape)} map; got "
                             f"{getattr(focus, 'dtype', type(focus).__name__)} of shape "
                             f"{getattr(focus, 'shape', None)}", "focus")
    check_unit_range(focus, "focus")
    return np.asarray(focus, np.float32)


def check_crop_pattern(pattern: str) -> None:
    """OutputError unless the crop path ``pattern`` holds ``{index}`` once and no other field
    (so each crop gets its own name, and the collision check can tell its crops)."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None]
        pattern.format(index=0)
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        fields, problem = None, f" ({type(exc).__name__}: {exc})"
    else:
        problem = ""
    if fields != ["index"]:
        raise OutputError(f"{pattern}: a crop path must hold {{index}} once and no other field "
                          f"(e.g. 'crops/photo-roi{{index}}.png'){problem}")


def target_for(targets: dict[str, str], role: str) -> str | None:
    """The path of output ``role``: ``targets[role]``, or for ``crop<i>`` the ``"crop"``
    pattern filled with ``index=i``."""
    if role in targets:
        return targets[role]
    if role.startswith("crop") and "crop" in targets:
        return targets["crop"].format(index=int(role[4:]))
    return None


def named(message: str, source: str) -> str:
    """``message`` prefixed with the input's name unless it already names a file."""
    first = message.split(":", 1)[0]
    return message if first and (first == source or Path(first).suffix) else f"{source}: {message}"
