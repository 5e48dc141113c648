"""Image input and output: one internal form, atomic writes, clear refusals.

Inside dofkit an image is float32 RGB, shape (H, W, 3), values in [0, 1]. :class:`Picture` adds
what is needed to write a result back like its source: the alpha channel and the bit depth.
BGR exists only here, where OpenCV encodes and decodes.

Reading probes the header with Pillow first (format, size, EXIF orientation) so that empty,
foreign or absurdly large files are refused before any pixel is decoded. 16-bit PNG and TIFF
are decoded by OpenCV (Pillow drops 16-bit colour); everything else by Pillow, which raises on
truncated data instead of padding it with grey.
"""

from __future__ import annotations

import io as _io
import os
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from .errors import ImageError, ImageTooLargeError, ParameterError

#: Default largest image accepted, in pixels (about 100 MP). Override per call or with
#: the environment variable ``DOFKIT_MAX_PIXELS``.
DEFAULT_MAX_PIXELS = 100_000_000
STDIO = "-"

WRITE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}
_ALPHA_SUFFIXES = {".png", ".tif", ".tiff", ".webp"}
SIXTEEN_BIT_SUFFIXES = {".png", ".tif", ".tiff"}

Image.MAX_IMAGE_PIXELS = None  # dofkit applies its own limit, with a clearer message


@dataclass(frozen=True)
class Picture:
    """A decoded image.

    Attributes
    ----------
    rgb : float32 array (H, W, 3) in [0, 1], orientation already applied.
    alpha : float32 array (H, W) in [0, 1], or None when the source had none.
    bit_depth : 8 or 16, the depth of the source samples.
    name : the path as given, for messages.
    """

    rgb: np.ndarray
    alpha: np.ndarray | None
    bit_depth: int
    name: str

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.rgb.shape[1], self.rgb.shape[0]


def max_pixels_default() -> int:
    """The pixel limit in force: ``DOFKIT_MAX_PIXELS`` if set, else :data:`DEFAULT_MAX_PIXELS`."""
    value = os.environ.get("DOFKIT_MAX_PIXELS")
    if value is None:
        return DEFAULT_MAX_PIXELS
    try:
        return int(value)
    except ValueError:
        raise ParameterError(f"DOFKIT_MAX_PIXELS must be a whole number, got {value!r}") from None


def read_bytes(path: str | os.PathLike) -> bytes:
    """The whole content of ``path`` (``-`` = stdin); missing, folder or empty -> ImageError."""
    name = str(path)
    if name == STDIO:
        data = sys.stdin.buffer.read()
    else:
        p = Path(path)
        if not p.exists():
            raise ImageError(f"{name}: no such file")
        if p.is_dir():
            raise ImageError(f"{name}: is a directory, not an image")
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise ImageError(f"{name}: cannot read ({exc.strerror or exc})") from None
    if not data:
        raise ImageError(f"{name}: empty file (0 bytes)")
    return data


def open_image(path: str | os.PathLike, *, max_pixels: int | None = None) -> Picture:
    """Read an image file (or ``-`` for stdin) into a :class:`Picture`.

    Accepts JPEG, PNG (8/16-bit, grey, grey+alpha, RGB, RGBA, palette), TIFF, BMP and WebP, and
    honours the EXIF orientation. Raises :class:`ImageError` naming the file for a missing path,
    a folder, an empty, truncated, corrupt or non-image file, and for an image with more than
    ``max_pixels`` pixels (checked from the header, before decoding).
    """
    name = str(path)
    return decode_image(read_bytes(path), name, max_pixels=max_pixels)


def read_image(path: str | os.PathLike, *, max_pixels: int | None = None) -> np.ndarray:
    """Read an image as float32 RGB (H, W, 3) in [0, 1]; see :func:`open_image`."""
    return open_image(path, max_pixels=max_pixels).rgb


def decode_image(data: bytes, name: str, *, max_pixels: int | None = None) -> Picture:
    """Decode encoded image bytes into a :class:`Picture`; ``name`` is used in messages."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow's warnings become our one-line errors
        return _decode(data, name, max_pixels)


def _decode(data: bytes, name: str, max_pixels: int | None) -> Picture:
    limit = max_pixels_default() if max_pixels is None else max_pixels
    try:
        probe = Image.open(_io.BytesIO(data))
    except (OSError, ValueError, SyntaxError) as exc:
        if _has_image_signature(data):
            raise ImageError(f"{name}: truncated or corrupt image ({_reason(exc)})") from None
        raise ImageError(f"{name}: not an image (unrecognised format)") from None
    width, height = probe.size
    if width <= 0 or height <= 0:
        raise ImageError(f"{name}: image has no pixels ({width}x{height})")
    if width * height > limit:
        raise ImageTooLargeError(
            f"{name}: image too large ({width}x{height} = {width * height:,} pixels, "
            f"limit {limit:,}; raise it with --max-pixels or DOFKIT_MAX_PIXELS)"
        )
    try:
        orientation = probe.getexif().get(0x0112, 1)
        if _is_sixteen_bit(probe, data):
            pixels, depth = _decode_with_opencv(data), 16
        else:
            pixels, depth = _decode_with_pillow(probe), 8
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageError(f"{name}: truncated or corrupt image ({_reason(exc)})") from None
    pixels = _apply_orientation(pixels, orientation)
    rgb, alpha = _split_channels(pixels, depth)
    return Picture(rgb=rgb, alpha=alpha, bit_depth=depth, name=name)


_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"BM", b"GIF8")


def _has_image_signature(data: bytes) -> bool:
    """True when ``data`` starts like one of the formats dofkit reads (WebP: RIFF....WEBP)."""
    return data.startswith(_SIGNATURES) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def _reason(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _is_sixteen_bit(probe: Image.Image, data: bytes) -> bool:
    if probe.format == "PNG":
        return len(data) > 24 and data[24] == 16  # IHDR bit depth
    if probe.format == "TIFF":
        bits = probe.tag_v2.get(258, (8,))
        return max(bits if isinstance(bits, tuple) else (bits,)) == 16
    return False


def _decode_with_opencv(data: bytes) -> np.ndarray:
    buffer = np.frombuffer(data, np.uint8)
    pixels = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    if pixels is None:
        raise OSError("OpenCV could not decode it")
    if pixels.ndim == 3 and pixels.shape[2] == 3:
        return pixels[:, :, ::-1]
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        return pixels[:, :, [2, 1, 0, 3]]
    return pixels


def _decode_with_pillow(probe: Image.Image) -> np.ndarray:
    probe.load()
    has_alpha = probe.mode in ("RGBA", "LA", "PA") or "transparency" in probe.info
    image = probe.convert("RGBA" if has_alpha else "RGB")
    return np.asarray(image)


def _apply_orientation(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8) to an (H, W[, C]) array."""
    transpose = {2: (False, 0, True), 3: (False, 2, False), 4: (False, 2, True),
                 5: (True, 0, False), 6: (False, 3, False), 7: (True, 2, False),
                 8: (False, 1, False)}
    if orientation not in transpose:
        return pixels
    swap, quarter_turns, mirror = transpose[orientation]
    if swap:
        pixels = np.swapaxes(pixels, 0, 1)
    pixels = np.rot90(pixels, quarter_turns)
    if mirror:
        pixels = pixels[:, ::-1]
    return np.ascontiguousarray(pixels)


def _split_channels(pixels: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray | None]:
    scale = 65535.0 if depth == 16 else 255.0
    values = pixels.astype(np.float32) / scale
    if values.ndim == 2:
        values = values[:, :, None]
    channels = values.shape[2]
    alpha = None
    if channels in (2, 4):
        alpha = np.ascontiguousarray(values[:, :, -1])
        values = values[:, :, :-1]
    if values.shape[2] == 1:
        values = np.repeat(values, 3, axis=2)
    return np.ascontiguousarray(values), alpha


def to_uint(values: np.ndarray, depth: int = 8) -> np.ndarray:
    """Float samples in [0, 1] -> uint8 (depth 8) or uint16 (depth 16), rounded and clipped."""
    if depth not in (8, 16):
        raise ParameterError(f"depth must be 8 or 16, got {depth}")
    top = 255 if depth == 8 else 65535
    dtype = np.uint8 if depth == 8 else np.uint16
    return (np.clip(values, 0.0, 1.0) * top + 0.5).astype(dtype)


def encode_image(values: np.ndarray, suffix: str, *, depth: int = 8,
                 alpha: np.ndarray | None = None, quality: int = 95) -> bytes:
    """Encode float RGB (H, W, 3) or grey (H, W) in [0, 1] to bytes of the format of ``suffix``.

    ``depth`` 16 is kept only for PNG and TIFF (others fall back to 8). ``alpha`` (H, W) is
    written where the format holds it (PNG, TIFF, WebP). ``quality`` applies to JPEG and WebP.
    """
    suffix = suffix.lower()
    if suffix not in WRITE_SUFFIXES:
        raise ParameterError(
            f"cannot write '{suffix or '(no suffix)'}' files; use one of "
            + ", ".join(sorted(WRITE_SUFFIXES))
        )
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


def write_image(path: str | os.PathLike, values: np.ndarray, *, depth: int = 8,
                alpha: np.ndarray | None = None, inputs: tuple[str | os.PathLike, ...] = (),
                overwrite: bool = False, fmt: str = ".png") -> None:
    """Write float RGB (H, W, 3) or grey (H, W) in [0, 1] to ``path`` atomically.

    The format comes from the suffix (``fmt`` when ``path`` is ``-``, i.e. stdout). The bytes go
    to a temporary file in the target folder which is then renamed over the target, so a crash
    never leaves half a file. Refuses to replace any of ``inputs`` unless ``overwrite``.
    """
    name = str(path)
    if name == STDIO:
        sys.stdout.buffer.write(encode_image(values, fmt, depth=depth, alpha=alpha))
        sys.stdout.buffer.flush()
        return
    target = Path(path)
    check_output_path(target, inputs=inputs, overwrite=overwrite)
    try:
        data = encode_image(values, target.suffix, depth=depth, alpha=alpha)
    except ParameterError as exc:
        raise ParameterError(f"{target}: {exc}") from None
    write_bytes_atomic(target, data)


def check_output_path(target: Path, *, inputs: tuple[str | os.PathLike, ...] = (),
                      overwrite: bool = False) -> None:
    """Refuse an output that is a folder, or one of ``inputs`` unless ``overwrite``."""
    if target.is_dir():
        raise ImageError(f"{target}: is a directory")
    if overwrite or not target.exists():
        return
    for source in inputs:
        if str(source) != STDIO and Path(source).exists() and os.path.samefile(source, target):
            raise ImageError(f"{target}: refusing to overwrite an input file (pass --overwrite)")


def write_bytes_atomic(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` via a temporary file in the same folder and a rename."""
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise ImageError(f"{target}: folder {folder} does not exist")
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o666 & ~_current_umask())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_focus_map(path: str | os.PathLike, size: tuple[int, int] | None = None) -> np.ndarray:
    """Read a focus map saved as an image (white = in focus, 8- or 16-bit; colour is reduced to
    its luminance) -> float32 (H, W) in [0, 1]. With ``size`` = (width, height), a map of
    another size is refused."""
    picture = open_image(path)
    if size is not None and picture.size != tuple(size):
        raise ImageError(
            f"{path}: map is {picture.size[0]}x{picture.size[1]} but the image is "
            f"{size[0]}x{size[1]}"
        )
    weights = np.array([0.2126, 0.7152, 0.0722], np.float32)
    return np.ascontiguousarray(picture.rgb @ weights, dtype=np.float32)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
