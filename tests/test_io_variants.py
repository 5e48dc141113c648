"""Less common layouts of the accepted formats: TIFF strips and tiles that do not hold what
their header says, JPEG-compressed and YCbCr TIFF, and a WebP canvas over the pixel limit."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image, WebPImagePlugin

from dofkit.errors import ImageError, ImageTooLargeError
from dofkit.io import decode_image

WIDTH, HEIGHT, TILE = 40, 30, 16


def pixels() -> np.ndarray:
    """uint8 RGB (HEIGHT, WIDTH, 3) with distinct values by position."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    return np.dstack([x * 6, y * 8, (x + y) * 3]).astype(np.uint8)


def tiles(image: np.ndarray) -> list[bytes]:
    """The TILE x TILE tiles of ``image``, row by row, padded with 0 at the edges."""
    pieces = []
    for top in range(0, image.shape[0], TILE):
        for left in range(0, image.shape[1], TILE):
            tile = np.zeros((TILE, TILE, image.shape[2]), np.uint8)
            part = image[top:top + TILE, left:left + TILE]
            tile[:part.shape[0], :part.shape[1]] = part
            pieces.append(tile.tobytes())
    return pieces


def tiff(pieces: list[bytes], tags: dict, *, offsets: list[int] | None = None) -> bytes:
    """A WIDTH x HEIGHT 8-bit 3-sample little-endian TIFF of ``pieces`` (tiles when ``tags``
    has a tile size, else strips) stored one after another (``offsets`` replaces where it
    says they are), then its IFD; every value is a LONG (arrays stored after the IFD)."""
    places = offsets or [8 + sum(map(len, pieces[:i])) for i in range(len(pieces))]
    tiled = 322 in tags
    tags = {256: WIDTH, 257: HEIGHT, 258: (8, 8, 8), 259: 1, 262: 2, 277: 3, **tags,
            324 if tiled else 273: places, 325 if tiled else 279: [len(p) for p in pieces]}
    body = b"".join(pieces)
    at = 8 + len(body)
    values_at = at + 2 + 12 * len(tags) + 4
    entries, values = b"", b""
    for tag in sorted(tags):
        value = tags[tag] if isinstance(tags[tag], (tuple, list)) else (tags[tag],)
        if len(value) == 1:  # a value that fits sits in its entry
            entries += struct.pack("<HHII", tag, 4, 1, value[0])
            continue
        entries += struct.pack("<HHII", tag, 4, len(value), values_at + len(values))
        values += struct.pack(f"<{len(value)}I", *value)
    return (b"II*\0" + struct.pack("<I", at) + body + struct.pack("<H", len(tags)) + entries
            + bytes(4) + values)


def test_tiled_tiff_is_read_exactly():
    image = pixels()
    picture = decode_image(tiff(tiles(image), {322: TILE, 323: TILE}), "t.tif")
    np.testing.assert_array_equal(np.round(picture.rgb * 255), image)


def test_tiff_tile_cut_short_is_refused():
    """A tile holding less than a whole tile (the next one follows it) is refused: the other
    tiles hold more than the image needs, so the sum of all of them does not tell."""
    pieces = tiles(pixels())
    pieces[2] = pieces[2][:100]
    with pytest.raises(ImageError, match=r"^t\.tif: truncated .*tile 2 holds 100 of its 768"):
        decode_image(tiff(pieces, {322: TILE, 323: TILE}), "t.tif")


def test_tiff_strip_cut_short_and_made_up_by_another_is_refused():
    rows = pixels().tobytes()
    strip = len(rows) // 3
    pieces = [rows[:strip // 2], rows[strip:2 * strip], rows[2 * strip:] + bytes(strip)]
    with pytest.raises(ImageError, match=r"^s\.tif: truncated .*strip or tile 0 holds"):
        decode_image(tiff(pieces, {278: HEIGHT // 3}), "s.tif")


def test_tiff_strip_at_offset_zero_is_refused():
    """Offset 0 (a strip left out, or one pointing at the file's header) would show the header
    bytes as pixels."""
    rows = pixels().tobytes()
    pieces = [rows[:len(rows) // 2], rows[len(rows) // 2:]]
    data = tiff(pieces, {278: HEIGHT // 2}, offsets=[8, 0])
    with pytest.raises(ImageError, match=r"^s\.tif: corrupt TIFF .*missing or starts inside"):
        decode_image(data, "s.tif")


@pytest.mark.parametrize("subsampling", [(2, 2), (2, 1), None])  # None: the default, 2x2
def test_uncompressed_subsampled_ycbcr_tiff_is_refused_by_name(subsampling):
    """Pillow reads uncompressed YCbCr as if full colour: subsampled, it is refused for what
    it is (not called truncated, and never shown wrong when its strip is long enough)."""
    tags = {262: 6, **({530: subsampling} if subsampling else {})}
    data = tiff([bytes(WIDTH * HEIGHT * 3)], tags)  # long enough to pass for full colour
    with pytest.raises(ImageError, match=r"^y\.tif: uncompressed TIFF of subsampled YCbCr"):
        decode_image(data, "y.tif")


def test_full_colour_ycbcr_tiff_is_read():
    grey = np.full((HEIGHT, WIDTH, 3), (100, 128, 128), np.uint8)  # Y 100, no colour
    picture = decode_image(tiff([grey.tobytes()], {262: 6, 530: (1, 1)}), "y.tif")
    np.testing.assert_allclose(picture.rgb * 255, 100, atol=1)


def jpeg_tiff(strip: bytes) -> bytes:
    """A JPEG-compressed TIFF of one strip, a whole JPEG of the image (tables inside)."""
    return tiff([strip], {259: 7, 262: 6, 278: HEIGHT, 530: (2, 2)})


def test_jpeg_tiff_with_a_cut_strip_is_refused():
    """libjpeg's 'premature end' warning does not reach Pillow's TIFF reader, which shows the
    rest grey: every strip is checked as a JPEG of its own."""
    buffer = io.BytesIO()
    Image.fromarray(pixels()).save(buffer, format="JPEG", quality=95)
    whole = buffer.getvalue()
    picture = decode_image(jpeg_tiff(whole), "j.tif")
    assert np.abs(picture.rgb * 255 - pixels()).max() < 20
    scan = whole.index(b"\xff\xda")  # cut half way through the pixel data
    with pytest.raises(ImageError, match=r"^j\.tif: truncated or corrupt image \(Premature end"):
        decode_image(jpeg_tiff(whole[:(scan + len(whole)) // 2]), "j.tif")


def test_webp_canvas_over_the_limit_is_refused_before_its_decoder_runs(monkeypatch):
    """WebP's decoder allocates its whole canvas as the file is opened (a 38-byte lossless
    file can state 16000x10000): the limit is applied to the header's size before that."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48)).save(buffer, format="WEBP", lossless=True)

    def no_decoder(*args):
        raise AssertionError("the WebP decoder was created")

    monkeypatch.setattr(WebPImagePlugin._webp, "WebPAnimDecoder", no_decoder)
    with pytest.raises(ImageTooLargeError, match=r"^w\.webp: image too large \(64x48 "):
        decode_image(buffer.getvalue(), "w.webp", max_pixels=1000)


@pytest.mark.parametrize("fmt", ["WEBP", "TIFF"])
def test_image_over_pillows_own_bound_is_too_large_not_corrupt(monkeypatch, fmt):
    """Past Pillow's decompression-bomb bound (twice Image.MAX_IMAGE_PIXELS, checked by its
    WebP and TIFF readers whatever dofkit's limit), the image is said to be too large."""
    buffer = io.BytesIO()
    Image.fromarray(pixels()).save(buffer, format=fmt)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(ImageTooLargeError, match=r"^b: image too large for its decoder"):
        decode_image(buffer.getvalue(), "b")


def tifffile_bytes(samples: np.ndarray, **options) -> bytes:
    tifffile = pytest.importorskip("tifffile")
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, samples, **options)
    return buffer.getvalue()


def assert_cuts_refused(data: bytes) -> None:
    """Cut anywhere after its header, the file is refused, never padded."""
    for length in (len(data) // 3, len(data) // 2, len(data) - 10):
        with pytest.raises(ImageError, match=r"^c\.tif: truncated|^c\.tif: corrupt"):
            decode_image(data[:length], "c.tif")


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint32])
@pytest.mark.parametrize("options", [{}, {"bigtiff": True, "compression": "zlib"}])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_tiff_of_wide_samples_is_read(dtype, options, channels):
    """32- and 64-bit float (in [0, 1]) and 32-bit unsigned samples (scaled by 2^32 - 1), in
    classic TIFF and BigTIFF (Pillow has no pixel mode for most of them; OpenCV reads them)."""
    values = np.random.default_rng(channels).random((HEIGHT, WIDTH, channels))
    samples = (values * 4294967295).round() if dtype == np.uint32 else values
    layout = {1: {}, 3: {"photometric": "rgb"},
              4: {"photometric": "rgb", "extrasamples": [2]}}[channels]
    data = tifffile_bytes(samples.astype(dtype).squeeze(), **layout, **options)
    picture = decode_image(data, "w.tif")
    expected = samples / 4294967295 if dtype == np.uint32 else samples.astype(dtype)
    colour = np.repeat(expected, 3, axis=2) if channels == 1 else expected[:, :, :3]
    np.testing.assert_allclose(picture.rgb, colour, atol=1e-6)
    if channels == 4:
        np.testing.assert_allclose(picture.alpha, expected[:, :, 3], atol=1e-6)
    assert (picture.alpha is None) == (channels != 4) and picture.bit_depth == 16
    assert_cuts_refused(data)


def test_half_float_tiff_is_refused_by_name():
    data = tifffile_bytes(np.zeros((HEIGHT, WIDTH, 3), np.float16), photometric="rgb")
    with pytest.raises(ImageError, match=r"^h\.tif: 16-bit float TIFF samples are not supp"):
        decode_image(data, "h.tif")
