"""Which files dofkit reads, recognised from their first bytes, and Pillow's reader for each.

Only JPEG (and its multi-picture variant MPO), PNG, TIFF, BMP and WebP are read. Other formats
are refused by name before any of their parsers runs (EPS would be handed to Ghostscript).
Readers are called directly, so Pillow's process-wide decompression-bomb setting is left
alone: dofkit applies its own pixel limit, per call, from the header.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageFile, TiffImagePlugin

from ..errors import ImageError, ImageTooLargeError

#: Pillow format ids dofkit decodes.
READ_FORMATS = ("JPEG", "PNG", "TIFF", "BMP", "WEBP")
#: The names shown to people.
READ_NAMES = "JPEG, PNG, TIFF, BMP, WebP"
_PREFIX_BYTES = 16
_OTHER_NAMES = {b"%PDF": "PDF", b"<svg": "SVG", b"<?xm": "SVG/XML"}


def open_header(data: bytes, name: str) -> ImageFile.ImageFile | TiffHeader:
    """Parse the header of ``data`` with the Pillow reader of its format (no pixels decoded).

    Raises ImageError: ``not an image`` (unrecognised), ``X images are not accepted`` (a
    format outside :data:`READ_FORMATS`), or ``truncated or corrupt`` when the header fails.
    """
    Image.init()
    prefix = data[:_PREFIX_BYTES]
    for fmt in READ_FORMATS:
        factory, accept = Image.OPEN[fmt]
        if not _accepts(accept, prefix):
            continue
        try:
            # no file name for Pillow: given one, it reads raw pixels from the file of
            # that name on disk (memory-mapped) instead of from ``data``
            return factory(io.BytesIO(data), None)
        except Image.DecompressionBombError as exc:  # Pillow's own bound (see decode_image)
            raise ImageTooLargeError(f"{name}: image too large for its decoder "
                                     f"({reason(exc)})") from None
        except Exception as exc:  # any failure of a header parser means a broken file
            if "unknown pixel mode" in str(exc):
                header = _deep_tiff_header(data) if fmt == "TIFF" else None
                if header is not None:
                    return header
                raise ImageError(f"{name}: unsupported {fmt} pixel layout ({reason(exc)})"
                                 ) from None
            raise ImageError(f"{name}: truncated or corrupt image ({fmt}: {reason(exc)})"
                             ) from None
    other = identify(prefix)
    if other is not None:
        raise ImageError(f"{name}: {other} images are not accepted (dofkit reads "
                         f"{READ_NAMES})")
    raise ImageError(f"{name}: not an image (unrecognised format)")


@dataclass(frozen=True)
class TiffHeader:
    """The header of a TIFF that Pillow has no pixel mode for (see :func:`_deep_tiff_header`):
    ``format``, ``size`` (width, height) and ``tag_v2`` (the first IFD), as a Pillow image has
    them."""

    format: str
    size: tuple[int, int]
    tag_v2: TiffImagePlugin.ImageFileDirectory_v2


def _deep_tiff_header(data: bytes) -> TiffHeader | None:
    """The first IFD of a TIFF dofkit reads or refuses by name though Pillow cannot: 1, 3 or 4
    samples of float or of 32-bit unsigned integers (OpenCV decodes those of 32 and 64 bits);
    else None."""
    try:
        tags = TiffImagePlugin.ImageFileDirectory_v2(ifh=tiff_head(data))
        stream = io.BytesIO(data)
        stream.seek(tags.next)
        tags.load(stream)
        size = (int(tags[256]), int(tags[257]))
    except Exception:  # an unreadable IFD: not this case
        return None
    bits, kinds = set(tag_values(tags.get(258, ()))), set(tag_values(tags.get(339, ())))
    deep = kinds == {3} or kinds <= {1} and bits == {32}
    if deep and tags.get(277, 1) in (1, 3, 4):
        return TiffHeader("TIFF", size, tags)
    return None


def tiff_head(data: bytes) -> bytes:
    """A TIFF's file header, as Pillow's IFD reader takes it: 8 bytes, 16 for a BigTIFF."""
    return data[:16] if data[2:4] in (b"+\0", b"\0+") else data[:8]


def webp_canvas(data: bytes) -> tuple[int, int] | None:
    """The canvas size (width, height) a WebP's first chunk states, else None (not a WebP, or
    a first chunk too short to say). Its decoder allocates the canvas as the file is opened,
    so dofkit's pixel limit is applied to this size first."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP" or len(data) < 30:
        return None
    kind = data[12:16]
    if kind == b"VP8X":
        return (int.from_bytes(data[24:27], "little") + 1,
                int.from_bytes(data[27:30], "little") + 1)
    if kind == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":  # key frame start code
        return (int.from_bytes(data[26:28], "little") & 0x3FFF,
                int.from_bytes(data[28:30], "little") & 0x3FFF)
    if kind == b"VP8L" and data[20] == 0x2F:  # lossless signature
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def tag_values(value) -> tuple:
    """A TIFF tag's value as a tuple: Pillow gives a tag of one value bare (``8`` ->
    ``(8,)``); a tuple is kept."""
    return value if isinstance(value, tuple) else (value,)


#: Most TIFF pages looked at when counting pictures (a hostile file may chain thousands).
MAX_TIFF_PAGES = 64


def tiff_pictures(data: bytes) -> int:
    """Pictures of their own in a TIFF: its first page, and each later page that is not
    marked a reduced-size copy or a mask (NewSubfileType bits 0 and 2, old SubfileType 2)
    and is at least a quarter of the first page's area (an unmarked thumbnail is not). The
    chain is read only as far as it reads cleanly, at most :data:`MAX_TIFF_PAGES` pages."""
    pages, stream, seen = [], io.BytesIO(data), set()
    try:
        tags = TiffImagePlugin.ImageFileDirectory_v2(ifh=tiff_head(data))
        offset = tags.next
        while offset and offset not in seen and len(pages) < MAX_TIFF_PAGES:
            seen.add(offset)
            tags = TiffImagePlugin.ImageFileDirectory_v2(ifh=tiff_head(data))
            stream.seek(offset)
            tags.load(stream)
            pages.append((tags.get(254, 0), tags.get(255, 1),
                          int(tags.get(256, 0)) * int(tags.get(257, 0))))
            offset = tags.next
    except Exception:  # a broken later page: the pages before it are what counts
        pass
    if not pages:
        return 1
    first_area = pages[0][2]
    return 1 + sum(1 for kind, old_kind, area in pages[1:]
                   if not kind & 0b101 and old_kind != 2 and 4 * area >= first_area)


def identify(prefix: bytes) -> str | None:
    """The name of a format dofkit does not read, from its first bytes, or None."""
    for fmt in Image.ID:
        if fmt in READ_FORMATS or fmt not in Image.OPEN:
            continue
        try:
            if _accepts(Image.OPEN[fmt][1], prefix):
                return fmt
        except Exception:  # a probe of a foreign format must never fail ours
            continue
    return _OTHER_NAMES.get(prefix[:4])


def _accepts(accept, prefix: bytes) -> bool:
    """Pillow's signature test (a string result means 'recognised but unusable')."""
    if accept is None:
        return False
    result = accept(prefix)
    return bool(result) and not isinstance(result, str)


def reason(exc: BaseException) -> str:
    """The first line of an exception's message (its type name when it has none)."""
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
