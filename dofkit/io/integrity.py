"""Is all the pixel data a header promises really there? Checked before the full decode, so
that a truncated file is refused (decoders pad it with black or grey rows) and a tiny file
claiming a huge size never gets its huge buffer.

PNG: the IDAT stream is inflated in bounded chunks and counted against the size the header
implies. JPEG: libjpeg-turbo (simplejpeg) scans the entropy-coded data at 1/8 scale and
reports a premature end, which Pillow and OpenCV hide.
"""

from __future__ import annotations

import struct
import zlib

import simplejpeg

from ..errors import ImageError
from .formats import reason

_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
          (0, 1, 1, 2))
_CHUNK = 1 << 16


def check_complete(data: bytes, fmt: str, name: str) -> None:
    """Raise ImageError when ``data`` (a file of Pillow format ``fmt``) holds less pixel
    data than its header promises; other formats are checked by their decoders."""
    if fmt == "PNG":
        _check_png(data, name)
    elif fmt in ("JPEG", "MPO"):
        _check_jpeg(data, name)


def png_raw_size(width: int, height: int, depth: int, colour: int, interlaced: bool) -> int:
    """Bytes of filtered scanlines a PNG of this header inflates to (filter byte per row)."""
    bits = depth * _PNG_CHANNELS[colour]
    passes = _ADAM7 if interlaced else ((0, 0, 1, 1),)
    total = 0
    for x0, y0, dx, dy in passes:
        columns = (width - x0 + dx - 1) // dx if width > x0 else 0
        rows = (height - y0 + dy - 1) // dy if height > y0 else 0
        if columns and rows:
            total += rows * (1 + (columns * bits + 7) // 8)
    return total


def _check_png(data: bytes, name: str) -> None:
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    if colour not in _PNG_CHANNELS:
        raise ImageError(f"{name}: corrupt PNG (colour type {colour})")
    expected = png_raw_size(width, height, depth, colour, bool(interlace))
    inflater = zlib.decompressobj()
    produced, position = 0, 8
    while position + 8 <= len(data) and produced < expected:
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        if kind == b"IDAT":
            pending = data[position + 8:position + 8 + length]
            try:
                while pending and produced < expected:
                    produced += len(inflater.decompress(pending, _CHUNK))
                    pending = inflater.unconsumed_tail
            except zlib.error as exc:
                raise ImageError(f"{name}: corrupt PNG data ({exc})") from None
        elif kind == b"IEND":
            break
        position += 12 + length
    if produced < expected:
        raise ImageError(f"{name}: truncated or corrupt image (pixel data ends after "
                         f"{100 * produced // max(expected, 1)}% of it)")


def _check_jpeg(data: bytes, name: str) -> None:
    try:
        colourspace = simplejpeg.decode_jpeg_header(data)[2]
    except Exception as exc:
        raise ImageError(f"{name}: corrupt JPEG ({reason(exc)})") from None
    options = dict(colorspace="CMYK" if colourspace in ("CMYK", "YCCK") else "GRAY",
                   min_height=1, min_width=1)  # 1/8 scale: the whole scan, little memory
    try:
        simplejpeg.decode_jpeg(data, strict=True, **options)
        return
    except Exception as exc:
        text = reason(exc)
    if "premature end" in text.lower():
        raise ImageError(f"{name}: truncated or corrupt image ({text})")
    try:  # a recoverable oddity elsewhere (e.g. stray bytes before a marker) is accepted
        simplejpeg.decode_jpeg(data, strict=False, **options)
    except Exception as exc:
        raise ImageError(f"{name}: corrupt JPEG ({reason(exc)})") from None
