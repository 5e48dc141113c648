"""Structure-aware fuzzing, round 2: each file here was decoded silently wrong (or refused
inconsistently) before its fix. Files are built by hand, a few hundred bytes each."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from dofkit.errors import ImageError
from dofkit.io import decode_image


def chunk(kind: bytes, payload: bytes, *, crc: int | None = None) -> bytes:
    """One PNG chunk (its true CRC unless ``crc`` is given)."""
    crc = zlib.crc32(kind + payload) if crc is None else crc
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png(rows: list[bytes], width: int, depth: int, colour: int, *, before=(), after=(),
        idat_crc: int | None = None, end: bool = True) -> bytes:
    """A PNG of packed ``rows`` (filter 0 added), ``before`` / ``after`` = chunks around
    IDAT."""
    header = struct.pack(">IIBBBBB", width, len(rows), depth, colour, 0, 0, 0)
    idat = zlib.compress(b"".join(b"\0" + row for row in rows))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + b"".join(before)
            + chunk(b"IDAT", idat, crc=idat_crc) + b"".join(after)
            + (chunk(b"IEND", b"") if end else b""))


GREY2 = [bytes([0b00011011])]  # one row of the 2-bit samples 0, 1, 2, 3
RGB16 = [struct.pack(">6H", 0, 30000, 65535, 1000, 2000, 3000)]
PALETTE = chunk(b"PLTE", bytes([255, 0, 0, 0, 255, 0]))  # two colours


@pytest.mark.parametrize("depth, row, key", [(2, GREY2[0], 1), (4, bytes([0x01, 0x23]), 2)],
                         ids=["2-bit", "4-bit"])
def test_low_bit_grey_png_transparent_key_marks_its_own_pixels(depth, row, key):
    picture = decode_image(png([row], 4, depth, 0, before=[chunk(b"tRNS", struct.pack(">H", key))]),
                           "k.png")
    assert picture.alpha is not None
    assert picture.alpha[0].tolist() == [0.0 if i == key else 1.0 for i in range(4)]
    assert picture.rgb[0, :, 0] == pytest.approx([i / (2 ** depth - 1) for i in range(4)])


def test_sixteen_bit_grey_png_transparent_key_is_kept_as_alpha():
    row = struct.pack(">3H", 0, 500, 65535)
    picture = decode_image(png([row], 3, 16, 0, before=[chunk(b"tRNS", struct.pack(">H", 500))]),
                           "k.png")
    assert picture.bit_depth == 16 and picture.alpha is not None
    assert picture.alpha[0].tolist() == [1.0, 0.0, 1.0]


@pytest.mark.parametrize("data, message", [
    (png(GREY2, 4, 2, 3), "palette image without a palette"),
    (png(GREY2, 4, 2, 3, after=[PALETTE]), "palette image without a palette"),
    (png(GREY2, 4, 2, 3, before=[PALETTE]), "pixel of colour 3 in a palette of 2 colours"),
    (png(GREY2, 4, 2, 0, before=[chunk(b"ABCD", b"x")]), "unknown critical chunk ABCD"),
], ids=["no PLTE", "PLTE after IDAT", "index past PLTE", "unknown critical"])
def test_png_that_cannot_be_shown_as_stored_is_refused(data, message):
    with pytest.raises(ImageError, match=f"^p.png: .*{message}"):
        decode_image(data, "p.png")


@pytest.mark.parametrize("rows, depth, colour", [(GREY2, 2, 0), (RGB16, 16, 2)])
def test_damaged_png_is_refused_whatever_its_depth(rows, depth, colour):
    assert decode_image(png(rows, 2 if depth == 16 else 4, depth, colour), "d.png")
    with pytest.raises(ImageError, match="^d.png: corrupt PNG .*checksum of the IDAT chunk"):
        decode_image(png(rows, 2 if depth == 16 else 4, depth, colour, idat_crc=0), "d.png")
    with pytest.raises(ImageError, match="^d.png: truncated image .*before its IEND"):
        decode_image(png(rows, 2 if depth == 16 else 4, depth, colour, end=False), "d.png")


def restart_jpeg() -> bytes:
    """A baseline JPEG with a restart marker after every block."""
    pixels = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=90, restart_marker_blocks=1)
    return buffer.getvalue()


def test_jpeg_with_a_damaged_restart_marker_is_refused():
    data = bytearray(restart_jpeg())
    scan = data.index(b"\xff\xda")
    markers = [i for i in range(scan, len(data) - 1)
               if data[i] == 0xFF and 0xD0 <= data[i + 1] <= 0xD7]
    renumbered = bytearray(data)
    renumbered[markers[3] + 1] = 0xD0 + (renumbered[markers[3] + 1] - 0xD0 + 3) % 8
    dropped = data[:markers[4]] + data[markers[4] + 2:]
    for damaged in (renumbered, dropped):
        with pytest.raises(ImageError, match="^r.jpg: truncated or corrupt image .*Corrupt JPEG"):
            decode_image(bytes(damaged), "r.jpg")


def tiff(pixels: np.ndarray, **options) -> bytes:
    tifffile = pytest.importorskip("tifffile")
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, pixels, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
def test_tiff_of_signed_samples_is_refused_not_misread(dtype):
    pixels = np.array([[-100, 0], [50, 100]], dtype)
    with pytest.raises(ImageError, match="^s.tif: TIFF of signed, complex or mixed samples"):
        decode_image(tiff(pixels), "s.tif")


@pytest.mark.parametrize("dtype, top", [(np.uint8, 255), (np.uint16, 65535)])
@pytest.mark.parametrize("extra", [0, 1, 2])
def test_tiff_extra_samples_read_as_their_tag_says(dtype, top, extra):
    """0: not alpha (dropped); 1: alpha the colours are premultiplied by; 2: plain alpha."""
    colour, alpha = 0.5, 0.5
    stored = colour * alpha if extra == 1 else colour
    pixels = np.full((2, 3, 4), round(stored * top), dtype)
    pixels[..., 3] = round(alpha * top)
    picture = decode_image(tiff(pixels, photometric="rgb", extrasamples=[extra]), "e.tif")
    assert picture.rgb == pytest.approx(np.full((2, 3, 3), colour), abs=2 / 255)
    assert (picture.alpha is None) == (extra == 0)
