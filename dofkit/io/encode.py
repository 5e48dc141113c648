"""Encoding and writing images: float in [0, 1] -> 8/16-bit file, format from the suffix,
written atomically (:mod:`.atomic`) and never over an input."""

from __future__ import annotations

import numbers
import os
import sys
from pathlib import Path

import cv2
import numpy as np

from ..errors import ClosedPipeError, ImageError, OutputError, ParameterError
from .atomic import os_reason, write_bytes_atomic
from .decode import STDIO

WRITE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}
_ALPHA_SUFFIXES = {".png", ".tif", ".tiff", ".webp"}
SIXTEEN_BIT_SUFFIXES = {".png", ".tif", ".tiff"}


def check_unit_range(values: np.ndarray, name: str, advice: str = "") -> None:
    """ParameterError naming ``name`` unless the values of the non-empty array ``values`` are
    finite and in [0, 1] (1e-3 of slack for rounding); ``advice`` ends the message."""
    low, high = float(values.min()), float(values.max())
    if not (low >= -1e-3 and high <= 1.0 + 1e-3):  # also false for NaN
        what = name if name == "values" else f"{name} values"
        raise ParameterError(f"{what} must be finite and in [0, 1]; got [{low:g}, "
                             f"{high:g}]{advice}", name)


def to_uint(values: np.ndarray, depth: int = 8) -> np.ndarray:
    """Float samples in [0, 1] -> uint8 (depth 8) or uint16 (depth 16), rounded and clipped."""
    if depth not in (8, 16):
        raise ParameterError(f"depth must be 8 or 16, got {depth}", "depth")
    top = 255 if depth == 8 else 65535
    dtype = np.uint8 if depth == 8 else np.uint16
    return (np.clip(values, 0.0, 1.0) * top + 0.5).astype(dtype)


def check_samples(values: np.ndarray, alpha: np.ndarray | None = None) -> None:
    """ParameterError naming ``values`` or ``alpha`` unless ``values`` is a non-empty float
    (or bool) array, grey (H, W) or RGB (H, W, 3), in [0, 1], and ``alpha`` None or such an
    (H, W) array."""
    for name, array, shapes in (("values", values, "grey (H, W) or RGB (H, W, 3)"),
                                ("alpha", alpha, "(H, W) of the values")):
        if array is None:
            continue
        if not isinstance(array, np.ndarray) or not (np.issubdtype(array.dtype, np.floating)
                                                     or array.dtype == bool):
            kind = array.dtype if isinstance(array, np.ndarray) else type(array).__name__
            raise ParameterError(f"{name} must be a float array in [0, 1] (8-bit samples: "
                                 f"divide by 255); got {kind}", name)
        if name == "alpha":
            ndims, wanted = (2,), values.shape[:2]
        else:
            ndims, wanted = (2, 3), array.shape[:2] + ((3,) if array.ndim == 3 else ())
        if array.ndim not in ndims or array.shape != wanted or not array.size:
            raise ParameterError(f"{name} must be {shapes}; got shape {array.shape}", name)
        check_unit_range(array, name)


def check_suffix(suffix: str) -> str:
    """``suffix`` (e.g. ``.PNG``) in lower case; ParameterError unless dofkit writes it."""
    suffix = suffix.lower()
    if suffix not in WRITE_SUFFIXES:
        raise ParameterError(f"cannot write '{suffix or '(no suffix)'}' files; use one of "
                             + ", ".join(sorted(WRITE_SUFFIXES)), "suffix")
    return suffix


def encode_image(values: np.ndarray, suffix: str, *, depth: int = 8,
                 alpha: np.ndarray | None = None, quality: int = 95) -> bytes:
    """Encode float RGB (H, W, 3) or grey (H, W) in [0, 1] to bytes of the format of ``suffix``.

    ``depth`` 16 is kept only for PNG and TIFF (others fall back to 8). ``alpha`` (H, W) is
    written where the format holds it (PNG, TIFF, WebP). ``quality`` (0-100) applies to JPEG
    and WebP. Anything else (integer samples, four channels, values outside [0, 1]) is
    refused with a ParameterError naming the argument, never written changed.
    """
    check_samples(values, alpha)
    if isinstance(quality, bool) or not isinstance(quality, numbers.Integral) \
            or not 0 <= quality <= 100:
        raise ParameterError(f"quality must be a whole number from 0 to 100; got {quality!r}",
                             "quality")
    suffix = check_suffix(suffix)
    if suffix not in SIXTEEN_BIT_SUFFIXES:
        depth = 8
    samples = values
    if samples.ndim == 3:
        samples = samples[:, :, ::-1]
        if alpha is not None and suffix in _ALPHA_SUFFIXES:
            samples = np.dstack([samples, alpha])
    params: list[int] = []
    if suffix in (".jpg", ".jpeg"):
        params = [cv2.IMWRITE_JPEG_QUALITY, quality]
    elif suffix == ".webp":
        params = [cv2.IMWRITE_WEBP_QUALITY, quality]
    ok, encoded = cv2.imencode(suffix, to_uint(samples, depth), params)
    if not ok:
        raise ImageError(f"could not encode image as {suffix}")
    return encoded.tobytes()


def check_output_path(target: str | os.PathLike, *, inputs=(), overwrite: bool = False) -> None:
    """Refuse an output that is a folder, or (unless ``overwrite``) one of ``inputs``."""
    target = Path(target)
    try:
        is_dir, exists = target.is_dir(), target.exists()
    except OSError as exc:  # e.g. a name too long for the file system
        raise OutputError(f"{target}: cannot write ({os_reason(exc)})") from None
    if is_dir:
        raise OutputError(f"{target}: is a directory")
    if overwrite or not exists:
        return
    for source in inputs:
        if source is not None and str(source) != STDIO and _same(source, target):
            raise OutputError(f"{target}: refusing to overwrite an input file (pass "
                              "--overwrite)")


def _same(source, target: Path) -> bool:
    try:
        return os.path.samefile(source, target)
    except OSError:
        return False


def write_image(path: str | os.PathLike, values: np.ndarray, *, depth: int = 8,
                alpha: np.ndarray | None = None, inputs=(), overwrite: bool = False,
                fmt: str = ".png") -> None:
    """Write float RGB (H, W, 3) or grey (H, W) in [0, 1] to ``path`` atomically.

    The format comes from the suffix (``fmt`` when ``path`` is ``-``, i.e. stdout). The folder
    is made when missing; a crash never leaves half a file or a temporary one. Refuses to
    replace any of ``inputs`` unless ``overwrite``; OS errors become :class:`OutputError`.
    """
    name = str(path)
    if name == STDIO:
        write_stdout(encode_image(values, fmt, depth=depth, alpha=alpha))
        return
    target = Path(path)
    check_output_path(target, inputs=inputs, overwrite=overwrite)
    try:
        data = encode_image(values, target.suffix, depth=depth, alpha=alpha)
    except ParameterError as exc:
        raise ParameterError(f"{target}: {exc}", "path") from None
    write_bytes_atomic(target, data)


def write_stdout(data: bytes) -> None:
    """Write ``data`` to stdout and flush it. An OS error (a full disk, a closed stream)
    becomes an OutputError naming stdout; a reader gone away, a :class:`ClosedPipeError`."""
    if sys.stdout is None:  # closed by the caller (``>&-``)
        raise OutputError("stdout: cannot write (stdout is closed)")
    try:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except BrokenPipeError as exc:
        raise ClosedPipeError(f"stdout: cannot write ({os_reason(exc)})") from None
    except OSError as exc:
        raise OutputError(f"stdout: cannot write ({os_reason(exc)})") from None
