"""Is all the pixel data a header promises really there? Checked before the full decode, so
that a truncated file is refused (decoders pad it with black or grey rows) and a tiny file
claiming a huge size never gets its huge buffer.

PNG: every chunk's checksum is verified and the IDAT stream is inflated in bounded chunks and
counted against the size the header implies. JPEG: libjpeg-turbo (simplejpeg) scans the
entropy-coded data at 1/8 scale and reports a premature end or damaged data, which Pillow and
OpenCV hide; a progressive JPEG's scans must complete every coefficient (one cut after a scan
and closed with an end marker gives no warning). BMP: the pixel data the header implies, and
bit-field colour masks that select some bits.
"""

from __future__ import annotations

import re
import struct
import zlib

import simplejpeg

from ..errors import ImageError
from .formats import reason, tag_values

_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
          (0, 1, 1, 2))
_CHUNK = 1 << 16
_PNG_CRITICAL = (b"IHDR", b"PLTE", b"IDAT", b"IEND")
#: libjpeg's warnings of damaged pixel data (the decoder goes on and shows grey or garbage);
#: stray bytes before any marker are pixel data left unread (lost before a restart marker;
#: before the end marker, rows a damaged frame height left out).
_JPEG_DAMAGE = re.compile(r"premature end|bad (huffman|arithmetic) code|instead of rst|"
                          r"inconsistent progression|extraneous bytes before marker",
                          re.IGNORECASE)
#: Raw bytes per coded byte no TIFF codec exceeds (LZW's 12-bit codes reach about 2,700:1).
_TIFF_BEST_RATIO = 4096
#: Bytes before anything else can sit in a TIFF (its header; BigTIFF's is 16).
_TIFF_HEADER_BYTES = 8


def check_complete(data: bytes, fmt: str, name: str, probe=None) -> None:
    """Raise ImageError when ``data`` (a file of Pillow format ``fmt``, header parsed as
    ``probe``) holds less pixel data than its header promises. PNG and JPEG are checked
    exactly; a TIFF must list the strips or tiles its size needs, inside the file and after
    its header, each holding its exact size when not compressed (the whole image at the best
    ratio any TIFF codec reaches otherwise; JPEG pieces are checked as JPEGs); a BMP must hold
    its rows (run-length coded: at 128:1 at best). WebP's decoder refuses short data itself."""
    if fmt == "PNG":
        _check_png(data, name)
    elif fmt in ("JPEG", "MPO"):
        _check_jpeg(data, name)
    elif fmt == "TIFF" and probe is not None:
        _check_tiff(data, name, probe)
    elif fmt == "BMP" and probe is not None:
        _check_bmp(data, name, probe.size)


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
    """Every chunk whole with its CRC, IHDR first, no critical chunk dofkit does not know, a
    palette before the pixels of a palette image, IEND at the end, and the pixel data the
    header promises (inflated in bounded chunks)."""
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    if data[12:16] != b"IHDR" or colour not in _PNG_CHANNELS:
        raise ImageError(f"{name}: corrupt PNG (it does not start with a valid header)")
    expected = png_raw_size(width, height, depth, colour, bool(interlace))
    inflater, view = zlib.decompressobj(), memoryview(data)
    produced, position, palette, ended = 0, 8, colour != 3, False
    while position + 12 <= len(data) and not ended:
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = view[position + 4:position + 8 + length]
        if position + 12 + length > len(data):
            break
        if zlib.crc32(body) != int.from_bytes(data[position + 8 + length:][:4], "big"):
            raise ImageError(f"{name}: corrupt PNG (checksum of the {_shown(kind)} chunk "
                             "does not match its content)")
        ended = kind == b"IEND"
        if not kind[0] & 0x20 and kind not in _PNG_CRITICAL:
            raise ImageError(f"{name}: corrupt or unsupported PNG (unknown critical chunk "
                             f"{_shown(kind)})")
        palette = palette or kind == b"PLTE"
        if kind == b"IDAT":
            if not palette:
                raise ImageError(f"{name}: corrupt PNG (palette image without a palette "
                                 "before its pixels)")
            pending = body[4:]
            try:
                while pending and produced < expected:
                    produced += len(inflater.decompress(pending, _CHUNK))
                    pending = inflater.unconsumed_tail
            except zlib.error as exc:
                raise ImageError(f"{name}: corrupt PNG data ({exc})") from None
        position += 12 + length
    if produced < expected:
        raise ImageError(f"{name}: truncated or corrupt image (pixel data ends after "
                         f"{100 * produced // max(expected, 1)}% of it)")
    if not ended:
        raise ImageError(f"{name}: truncated image (the PNG ends before its IEND chunk)")


def _shown(kind: bytes) -> str:
    """A chunk type for a message (hostile bytes escaped)."""
    return kind.decode("ascii", "backslashreplace")


_SOF = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # frame headers (not DHT, JPG, DAC)
_PROGRESSIVE = {0xC2, 0xC6, 0xCA, 0xCE}
_NO_LENGTH = {0x01, 0xD8, *range(0xD0, 0xD8)}  # TEM, SOI, RST0-7


def _check_progressive_scans(data: bytes, name: str) -> None:
    """A progressive JPEG's scans must bring every coefficient (0-63) of every component to
    full precision (a scan with successive-approximation bit 0 covering it): one cut after a
    scan, with an end marker added, decodes without a warning, its missing detail made up.
    Anything unexpected in the markers is left to the decoder."""
    components, covered, position = None, {}, 2
    while position + 4 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if marker == 0xD9:
            break
        if marker == 0xFF or marker in _NO_LENGTH:
            position += 1 if marker == 0xFF else 2
            continue
        end = position + 2 + int.from_bytes(data[position + 2:position + 4], "big")
        segment = data[position + 4:end]
        if marker in _SOF:
            if marker not in _PROGRESSIVE or len(segment) < 6:
                return
            components = segment[6:6 + 3 * segment[5]:3]
        elif marker == 0xDA and components is not None and segment:
            count = segment[0]
            if len(segment) < 4 + 2 * count:
                return
            first, last, approximation = segment[1 + 2 * count:4 + 2 * count]
            if approximation & 0x0F == 0:
                for component in segment[1:1 + 2 * count:2]:
                    covered.setdefault(component, set()).update(range(first, last + 1))
            end = _entropy_end(data, end)
        position = end
    if components is not None and any(covered.get(c) != set(range(64)) for c in components):
        raise ImageError(f"{name}: truncated image (a progressive JPEG whose scans end before "
                         "the full detail of every colour)")


def _entropy_end(data: bytes, position: int) -> int:
    """Where the entropy-coded data starting at ``position`` ends: the next marker (0xFF not
    followed by a stuffed 0, a restart marker or another 0xFF), or the end of ``data``."""
    while (position := data.find(b"\xff", position)) != -1 and position + 1 < len(data):
        following = data[position + 1]
        if following != 0 and not 0xD0 <= following <= 0xD7 and following != 0xFF:
            return position
        position += 1
    return len(data)


def _check_tiff(data: bytes, name: str, probe) -> None:
    tags = probe.tag_v2
    offsets = tag_values(tags.get(273) or tags.get(324) or ())
    counts = tag_values(tags.get(279) or tags.get(325) or ())
    if any(not isinstance(v, int) or v < 0 for v in offsets + counts):
        raise ImageError(f"{name}: corrupt TIFF (strip offsets or sizes are not counts)")
    size = (tags.get(256, 0), tags.get(257, 0))  # as stored (probe.size is turned upright)
    if len(counts) < len(offsets) or len(offsets) < _tiff_pieces(tags, size):
        raise ImageError(f"{name}: truncated or corrupt image (the TIFF lists fewer strips or "
                         "tiles than its size needs)")
    if any(o + c > len(data) for o, c in zip(offsets, counts)):
        raise ImageError(f"{name}: truncated or corrupt image (TIFF data runs past the end of "
                         "the file)")
    if any(o < _TIFF_HEADER_BYTES for o in offsets):  # 0: a strip or tile left out
        raise ImageError(f"{name}: corrupt TIFF (a strip or tile of pixel data is missing or "
                         "starts inside the file's header)")
    if tags.get(259, 1) == 1:  # not compressed: each strip or tile holds its exact size
        if tags.get(262) == 6 and tuple(tag_values(tags.get(530, (2, 2)))) != (1, 1):
            raise ImageError(f"{name}: uncompressed TIFF of subsampled YCbCr colour is not "
                             "supported (its reader takes it for full colour); save it as RGB")
        for index, (count, size_needed) in enumerate(zip(counts, _tiff_piece_sizes(tags, size))):
            if count < size_needed:
                raise ImageError(f"{name}: truncated or corrupt image (TIFF strip or tile "
                                 f"{index} holds {count:,} of its {size_needed:,} bytes)")
    if tags.get(259) == 7:  # JPEG: libjpeg's warnings on a cut or damaged piece are lost
        _check_tiff_jpeg(data, name, tags.get(347), zip(offsets, counts))
    needed = size[0] * size[1] * sum(tag_values(tags.get(258, (1,)))) // 8  # 1: the TIFF default
    ratio = 1 if tags.get(259, 1) == 1 else _TIFF_BEST_RATIO  # 1: not compressed
    if needed > ratio * sum(counts) + (0 if ratio == 1 else _CHUNK):
        raise ImageError(f"{name}: truncated or corrupt image (the TIFF holds "
                         f"{sum(counts):,} bytes of pixel data for {needed:,} bytes of pixels)")


def _tiff_pieces(tags, size: tuple[int, int]) -> int:
    """Strips or tiles a TIFF of ``size`` (width, height) must list, by its layout tags."""
    width, height = size
    planes = tags.get(277, 1) if tags.get(284, 1) == 2 else 1  # 2: one plane per sample
    if 322 in tags and 323 in tags:
        across, down = max(tags[322], 1), max(tags[323], 1)
        return -(-width // across) * -(-height // down) * planes
    return -(-height // max(min(tags.get(278, height), height), 1)) * planes


def _check_tiff_jpeg(data: bytes, name: str, tables, pieces) -> None:
    """Each strip or tile of a JPEG-compressed TIFF, completed with the file's shared tables
    (JPEGTables), must decode as a whole JPEG (:func:`_check_jpeg`): the TIFF decoder shows a
    cut or damaged piece grey without a word."""
    head = bytes(tables)[:-2] if isinstance(tables, bytes) and tables[-2:] == b"\xff\xd9" else b""
    for offset, count in pieces:
        piece = data[offset:offset + count]
        _check_jpeg(head + piece[2:] if head and piece[:2] == b"\xff\xd8" else piece, name)


def _tiff_piece_sizes(tags, size: tuple[int, int]) -> list[int]:
    """Bytes each strip or tile of an uncompressed TIFF of ``size`` (width, height) holds, in
    file order (a tile is whole even at the image's edge; the last strip of a plane has the
    rows left)."""
    width, height = size
    samples = tags.get(277, 1)
    bits = tag_values(tags.get(258, (1,)))
    bits = bits if len(bits) == samples else (min(bits),) * samples  # one value for all
    separate = tags.get(284, 1) == 2 and samples > 1
    planes = [bits[i] for i in range(samples)] if separate else [sum(bits)]
    if 322 in tags and 323 in tags:
        across, down = max(tags[322], 1), max(tags[323], 1)
        tiles = -(-width // across) * -(-height // down)
        return [(across * plane + 7) // 8 * down for plane in planes for _ in range(tiles)]
    rows = max(min(tags.get(278, height), height), 1)
    return [(width * plane + 7) // 8 * min(rows, height - top) for plane in planes
            for top in range(0, height, rows)]


def _check_bmp(data: bytes, name: str, size: tuple[int, int]) -> None:
    if len(data) < 34 or int.from_bytes(data[14:18], "little") < 40:
        return  # an old OS/2 header: its decoder checks the length
    bits = int.from_bytes(data[28:30], "little")
    compression = int.from_bytes(data[30:34], "little")
    if compression in (3, 6) and not any(data[54:66]):  # bit fields: the colour masks
        raise ImageError(f"{name}: corrupt BMP (its colour masks select no bits)")
    needed = (size[0] * bits + 31) // 32 * 4 * size[1]
    ratio = 128 if compression in (1, 2) else 1
    if needed > ratio * len(data) + _CHUNK:
        raise ImageError(f"{name}: truncated or corrupt image (the BMP holds {len(data):,} "
                         f"bytes for {needed:,} bytes of pixels)")


def _check_jpeg(data: bytes, name: str) -> None:
    try:
        colourspace = simplejpeg.decode_jpeg_header(data)[2]
    except Exception as exc:
        raise ImageError(f"{name}: corrupt JPEG ({reason(exc)})") from None
    _check_progressive_scans(data, name)
    options = dict(colorspace="CMYK" if colourspace in ("CMYK", "YCCK") else "GRAY",
                   min_height=1, min_width=1)  # 1/8 scale: the whole scan, little memory
    try:
        simplejpeg.decode_jpeg(data, strict=True, **options)
        return
    except Exception as exc:
        text = reason(exc)
    if _JPEG_DAMAGE.search(text):
        raise ImageError(f"{name}: truncated or corrupt image ({text})")
    try:  # a recoverable oddity (e.g. an unknown JFIF revision, a bad ICC marker) is accepted
        simplejpeg.decode_jpeg(data, strict=False, **options)
    except Exception as exc:
        raise ImageError(f"{name}: corrupt JPEG ({reason(exc)})") from None
