"""The decode front door: bytes -> :class:`Picture`, or one ImageError naming the file.

Order of checks, each before any large allocation: size of the file against the pixel limit,
the format (JPEG, PNG, TIFF, BMP, WebP only; see :mod:`.formats`), the header's pixel count,
the presence of all the pixel data (:mod:`.integrity`), then the decode. Any exception a
decoder raises on a hostile file becomes an ImageError; nothing else escapes.

Decoders: 16-bit PNG and 16-bit, 32-bit or float TIFF by OpenCV (Pillow drops 16-bit colour),
the rest by Pillow, always from the bytes (never given a file name, which Pillow would read
instead). 16-bit CMYK TIFF is read by Pillow at 8-bit precision (to RGB as 8-bit CMYK is). EXIF
orientation is applied here for JPEG, PNG and WebP; TIFF decoders already apply their
orientation tag. Refused rather than guessed at: animated PNG and WebP, TIFFs of several
pages, 16-bit or float TIFFs stored one colour plane after another (OpenCV misreads them).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, TiffImagePlugin

from ..errors import ImageError, ImageTooLargeError, ParameterError
from .formats import open_header, reason, tag_values, tiff_pictures, webp_canvas
from .inputs import STDIO, read_input
from .integrity import check_complete

#: Default largest image accepted, in pixels (about 100 MP). Override per call or with
#: the environment variable ``DOFKIT_MAX_PIXELS``.
DEFAULT_MAX_PIXELS = 100_000_000
#: Largest plausible file per pixel allowed (uncompressed 16-bit RGBA is 8 bytes) plus slack.
_BYTES_PER_PIXEL = 8
_SLACK_BYTES = 16 << 20
#: Largest difference between the channels of a pixel of a grey map stored as RGB (lossy WebP
#: moves them a level apart); a map whose channels differ more is in colour.
_GREY_TOLERANCE = 8 / 255
#: Rows compared at a time by that test.
_CHECK_ROWS = 256
#: TIFF compressions OpenCV's reader decodes: none, LZW, JPEG, Deflate, PackBits, old
#: Deflate (its libtiff is built without LZMA, Zstandard and WebP).
_OPENCV_TIFF_CODECS = (1, 5, 7, 8, 32773, 32946)
_PILLOW_MODES = {"1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK",
                 "YCbCr"}


@dataclass(frozen=True)
class Picture:
    """A decoded image.

    Attributes
    ----------
    rgb : float32 array (H, W, 3) in [0, 1], orientation already applied.
    alpha : float32 array (H, W) in [0, 1], or None when the source had none.
    bit_depth : 8 or 16, the depth to write results in (float sources count as 16).
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


def pixel_limit(max_pixels: int | None) -> int:
    """The pixel limit of a call: ``max_pixels`` (a whole number >= 1; ParameterError naming
    it otherwise) or, when None, :func:`max_pixels_default`."""
    if max_pixels is None:
        return max_pixels_default()
    if type(max_pixels) is not int or max_pixels < 1:
        raise ParameterError(f"max_pixels must be a whole number >= 1 or None; got "
                             f"{max_pixels!r}", "max_pixels")
    return max_pixels


def max_pixels_default() -> int:
    """The pixel limit in force: ``DOFKIT_MAX_PIXELS`` if set, else :data:`DEFAULT_MAX_PIXELS`."""
    value = os.environ.get("DOFKIT_MAX_PIXELS")
    if value is None:
        return DEFAULT_MAX_PIXELS
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if limit < 1:
        raise ParameterError(f"DOFKIT_MAX_PIXELS must be a whole number of at least 1, got "
                             f"{value!r}", "max_pixels")
    return limit


def read_bytes(path: str | os.PathLike, *, max_bytes: int | None = None) -> bytes:
    """The whole content of ``path`` (``-`` = stdin); missing, a folder, not a regular file
    (a named pipe, a device), empty, unreadable or larger than ``max_bytes`` -> ImageError
    naming it (an endless stdin is refused)."""
    return read_input(path, max_bytes, error=ImageError, too_large=(
        ImageTooLargeError, " for the pixel limit; raise it with --max-pixels or DOFKIT_MAX_PIXELS"))


def open_image(path: str | os.PathLike, *, max_pixels: int | None = None) -> Picture:
    """Read an image file (or ``-`` for stdin) into a :class:`Picture`.

    Accepts JPEG, PNG (1-16 bit, grey, grey+alpha, RGB, RGBA, palette), TIFF (8/16/32-bit,
    32/64-bit float in [0, 1]), BMP and WebP, and honours the EXIF orientation. Raises
    :class:`ImageError` naming the file for a missing path, a folder, an empty, truncated,
    corrupt or foreign file, and for an image with more than ``max_pixels`` pixels (default
    :func:`max_pixels_default`; checked from the header, before decoding).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ParameterError(f"path must be a file path or '-' (stdin); got {path!r}", "path")
    limit = pixel_limit(max_pixels)
    data = read_bytes(path, max_bytes=limit * _BYTES_PER_PIXEL + _SLACK_BYTES)
    return decode_image(data, str(path), max_pixels=limit)


def read_image(path: str | os.PathLike, *, max_pixels: int | None = None) -> np.ndarray:
    """Read an image as float32 RGB (H, W, 3) in [0, 1]; see :func:`open_image`."""
    return open_image(path, max_pixels=max_pixels).rgb


def decode_image(data: bytes, name: str = "image", *, max_pixels: int | None = None) -> Picture:
    """Decode encoded image bytes into a :class:`Picture`; ``name`` is used in messages.
    Every failure of the file is an :class:`ImageError` (see :func:`open_image`); a NameError
    or ImportError, which no file can cause, is dofkit's own and passes."""
    if not data:
        raise ImageError(f"{name}: empty file (0 bytes)")
    limit = pixel_limit(max_pixels)
    try:
        return _decode(data, name, limit)
    except (ImageError, NameError, ImportError):
        raise
    except MemoryError:
        raise ImageError(f"{name}: not enough memory to decode it") from None
    except Image.DecompressionBombError as exc:  # Pillow's own bound (WebP, 8-bit TIFF) is
        # met only under a pixel limit raised past it
        raise ImageTooLargeError(f"{name}: image too large for its decoder ({reason(exc)})"
                                 ) from None
    except Exception as exc:  # a decoder's failure on a hostile file, whatever its type
        raise ImageError(f"{name}: truncated or corrupt image ({reason(exc)})") from None


def check_pixel_count(name: str, width: int, height: int, limit: int, *, what: str = "image",
                      advice: str = "--max-pixels or DOFKIT_MAX_PIXELS") -> None:
    """ImageTooLargeError naming ``name`` when ``width`` x ``height`` exceeds ``limit``
    pixels (``what``: "image", "video frames"; ``advice``: how to raise the limit)."""
    if width * height > limit:
        raise ImageTooLargeError(
            f"{name}: {what} too large ({width}x{height} = {width * height:,} pixels, "
            f"limit {limit:,}; raise it with {advice})")


def _decode(data: bytes, name: str, limit: int) -> Picture:
    if (canvas := webp_canvas(data)) is not None:  # allocated as its header is read
        check_pixel_count(name, *canvas, limit)
    probe = open_header(data, name)
    width, height = probe.size
    if width <= 0 or height <= 0:
        raise ImageError(f"{name}: image has no pixels ({width}x{height})")
    check_pixel_count(name, width, height, limit)
    check_complete(data, probe.format, name, probe)
    _refuse_sequences(probe, data, name)
    kind = _sample_kind(probe, data, name)
    if kind == "8":
        _scale_grey_key(probe, data)
        pixels, depth = _decode_with_pillow(probe, name), 8
    else:
        pixels, depth = _opencv_pixels(probe, data, name), 16
        if kind == "float":
            pixels = _float_pixels(pixels, name)
    if probe.format != "TIFF":
        if pixels.shape[:2] != (height, width):
            raise ImageError(f"{name}: decoded size differs from the header (corrupt)")
        pixels = _apply_orientation(pixels, _orientation(probe))
    rgb, alpha = _split_channels(pixels)
    if alpha is not None and kind != "8" and _extra_sample(probe) == 1:
        rgb = _unpremultiplied(rgb, alpha)
    return Picture(rgb=rgb, alpha=alpha, bit_depth=depth, name=name)


def _sample_kind(probe: Image.Image, data: bytes, name: str) -> str:
    """'8' (Pillow decodes), '16' or '32' (OpenCV, 16- or 32-bit integers) or 'float'
    (OpenCV, 32- or 64-bit float TIFF)."""
    if probe.format == "PNG":
        return "16" if data[24] == 16 else "8"
    if probe.format != "TIFF":
        return "8"
    bits = max(tag_values(probe.tag_v2.get(258, 8)))
    formats = set(tag_values(probe.tag_v2.get(339, 1))) - {4}  # 4: undefined, as unsigned
    if formats == {3}:
        if bits not in (32, 64):
            raise ImageError(f"{name}: {bits}-bit float TIFF samples are not supported "
                             "(32- or 64-bit float, 8-, 16- or 32-bit integer are)")
        kind = "float"
    elif bits > 16 and (bits != 32 or not formats <= {1}):
        raise ImageError(f"{name}: {bits}-bit integer TIFF samples are not supported; save "
                         "it with 8-, 16- or 32-bit unsigned (or 32-bit float) samples")
    elif not formats <= {1}:  # Pillow and OpenCV read signed samples as unsigned
        raise ImageError(f"{name}: TIFF of signed, complex or mixed samples (sample format "
                         f"{'/'.join(map(str, sorted(formats)))}) is not supported; save it "
                         "with unsigned integer or 32-bit float samples")
    else:
        kind = {16: "16", 32: "32"}.get(bits, "8")
    if kind != "8" and probe.tag_v2.get(284, 1) == 2 and probe.tag_v2.get(277, 1) > 1:
        raise ImageError(f"{name}: {bits}-bit {'float ' if kind == 'float' else ''}TIFF stored "
                         "one colour plane after another is not supported; save it with "
                         "interleaved colour")
    if kind == "16" and probe.mode == "CMYK":  # OpenCV cannot: Pillow, at 8-bit precision
        return "8"
    return kind


def _refuse_sequences(probe: Image.Image, data: bytes, name: str) -> None:
    """An animated PNG or WebP, or a TIFF of several pictures (:func:`.formats.tiff_pictures`:
    reduced-size previews and masks do not count), is refused: which one is meant is not
    known."""
    if probe.format in ("PNG", "WEBP") and getattr(probe, "is_animated", False):
        raise ImageError(f"{name}: animated image ({probe.n_frames} frames); dofkit reads "
                         "still images: save the frame you want on its own")
    if probe.format == "TIFF" and (pictures := tiff_pictures(data)) > 1:
        raise ImageError(f"{name}: TIFF of {pictures} pages; dofkit reads single images: "
                         "save the page you want on its own")


def _white_is_zero(probe: Image.Image, pixels: np.ndarray) -> np.ndarray:
    """OpenCV's 16-bit and float TIFF samples turned around where the TIFF says 0 is white
    (photometric interpretation 0; Pillow does this itself for the 8-bit ones)."""
    if probe.format != "TIFF" or probe.tag_v2.get(262) != 0:
        return pixels
    return (1.0 - pixels if pixels.dtype.kind == "f" else np.iinfo(pixels.dtype).max - pixels)


def _opencv_pixels(probe: Image.Image, data: bytes, name: str) -> np.ndarray:
    """OpenCV's samples of a 16-bit, 32-bit or float file, read as Pillow reads 8-bit ones: a
    TIFF's 0-is-white turned around, its unspecified extra sample (not alpha) dropped, and a
    grey PNG's tRNS key made alpha. A TIFF compression OpenCV lacks is refused by name."""
    compression = probe.tag_v2.get(259, 1) if probe.format == "TIFF" else 1
    if compression not in _OPENCV_TIFF_CODECS:
        shown = TiffImagePlugin.COMPRESSION_INFO.get(compression, "").upper()
        raise ImageError(f"{name}: unsupported TIFF compression ({shown or compression}) for "
                         "16-bit, 32-bit or float samples; save it with LZW, Deflate or no "
                         "compression")
    pixels = _white_is_zero(probe, _decode_with_opencv(data))
    if _extra_sample(probe) == 0 and pixels.ndim == 3 and pixels.shape[2] in (2, 4):
        pixels = pixels[:, :, :-1]
    return _grey_key_alpha(probe, pixels)


def _extra_sample(probe: Image.Image) -> int | None:
    """A TIFF's first ExtraSamples value (0 unspecified, 1 premultiplied alpha, 2 alpha), or
    None."""
    values = tag_values(probe.tag_v2.get(338, ())) if probe.format == "TIFF" else ()
    return values[0] if values else None


def _unpremultiplied(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``rgb`` premultiplied by ``alpha`` made straight, in place (where alpha is 0, as is)."""
    np.divide(rgb, alpha[:, :, None], out=rgb, where=alpha[:, :, None] > 0)
    return np.minimum(rgb, 1.0, out=rgb)


def _grey_key_alpha(probe: Image.Image, pixels: np.ndarray) -> np.ndarray:
    """A 16-bit grey PNG's tRNS key as an alpha channel (OpenCV drops it)."""
    key = probe.info.get("transparency") if probe.format == "PNG" else None
    if pixels.ndim != 2 or type(key) is not int:
        return pixels
    return np.dstack([pixels, np.where(pixels == key, 0, 65535).astype(np.uint16)])


def _scale_grey_key(probe: Image.Image, data: bytes) -> None:
    """Pillow scales the samples of a 2- or 4-bit grey PNG to 8 bits but not its tRNS key:
    the key is scaled likewise (dropped when it is out of range, as no sample matches)."""
    key, bits = probe.info.get("transparency"), data[24]
    if probe.format != "PNG" or probe.mode != "L" or bits not in (2, 4) or type(key) is not int:
        return
    top = (1 << bits) - 1
    if key <= top:
        probe.info["transparency"] = key * 255 // top
    else:
        del probe.info["transparency"]


def _float_pixels(pixels: np.ndarray, name: str) -> np.ndarray:
    """Float samples are taken as they are; they must be finite and in [0, 1]."""
    if not np.all(np.isfinite(pixels)):
        raise ImageError(f"{name}: float image holds NaN or infinite samples")
    low, high = float(pixels.min()), float(pixels.max())
    if low < -1e-3 or high > 1.0 + 1e-3:
        raise ImageError(f"{name}: float samples span [{low:g}, {high:g}], not [0, 1]; "
                         "scale them to [0, 1] or save as 8- or 16-bit")
    return np.clip(pixels, 0.0, 1.0)


def _orientation(probe: Image.Image) -> int:
    """EXIF orientation 1-8; 1 when absent or unreadable (a broken EXIF block is not a
    broken image)."""
    try:
        value = probe.getexif().get(0x0112, 1)
    except Exception:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


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


def _decode_with_pillow(probe: Image.Image, name: str) -> np.ndarray:
    if probe.mode not in _PILLOW_MODES:
        raise ImageError(f"{name}: unsupported pixel format {probe.mode} (dofkit reads "
                         "grey, palette, RGB, RGBA and CMYK at 8 or 16 bits)")
    probe.load()
    if probe.mode in ("P", "PA"):
        _check_palette_indices(probe, name)
    has_alpha = probe.mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in probe.info
    image = probe.convert("RGBA" if has_alpha else "RGB")
    return np.asarray(image)


def _check_palette_indices(probe: Image.Image, name: str) -> None:
    """A palette image using a colour its palette does not hold is corrupt (Pillow would
    show black)."""
    colours = len(probe.palette.palette) // len(probe.palette.mode)
    extrema = probe.getextrema()
    highest = extrema[0][1] if probe.mode == "PA" else extrema[1]
    if highest >= colours:
        raise ImageError(f"{name}: corrupt image (pixel of colour {highest} in a palette of "
                         f"{colours} colours)")


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


def _split_channels(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Decoded samples (H, W[, C]) -> float32 RGB (H, W, 3) and alpha (H, W) or None, in
    [0, 1]. Each is converted once, in place: memory holds the samples and the result."""
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    alpha = None
    if pixels.shape[2] in (2, 4):
        alpha = _unit(pixels[:, :, -1])
        pixels = pixels[:, :, :-1]
    values = _unit(pixels)
    if values.shape[2] == 1:
        values = np.repeat(values, 3, axis=2)
    return values, alpha


def _unit(samples: np.ndarray) -> np.ndarray:
    """``samples`` as contiguous float32 (float ones as they are), integers scaled to [0, 1]
    by their type's largest value in their converted copy."""
    values = np.ascontiguousarray(samples, dtype=np.float32)
    if samples.dtype.kind in "ui":  # ``values`` is then a new array
        values /= float(np.iinfo(samples.dtype).max)
    return values


def in_colour(rgb: np.ndarray) -> bool:
    """Whether the float RGB (H, W, 3) picture is in colour rather than grey stored as RGB
    (its channels differ by more than :data:`_GREY_TOLERANCE` somewhere); compared by bands
    of rows, so that temporaries stay small."""
    return any(np.ptp(rgb[top:top + _CHECK_ROWS], axis=2).max() > _GREY_TOLERANCE
               for top in range(0, rgb.shape[0], _CHECK_ROWS))


def read_focus_map(path: str | os.PathLike, size: tuple[int, int] | None = None, *,
                   max_pixels: int | None = None) -> np.ndarray:
    """Read a focus map saved as an image (white = in focus, grey, 8- or 16-bit or float; grey
    stored as RGB is read as its luminance) -> float32 (H, W) in [0, 1]. A colour picture (a
    rainbow view, an overlay, a photo) is refused, as is, with ``size`` = (width, height), a
    map of another size."""
    picture = open_image(path, max_pixels=max_pixels)
    if size is not None and picture.size != tuple(size):
        raise ImageError(
            f"{path}: map is {picture.size[0]}x{picture.size[1]} but the image is "
            f"{size[0]}x{size[1]}")
    if in_colour(picture.rgb):
        raise ImageError(f"{path}: map is in colour (a rainbow view, an overlay or a photo?); "
                         "a focus map is grey, white = in focus (dofkit map writes one)")
    weights = np.array([0.2126, 0.7152, 0.0722], np.float32)
    return np.ascontiguousarray(picture.rgb @ weights, dtype=np.float32)

