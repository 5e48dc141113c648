"""The decode front door against hostile and unusual files: each reproducer of issue 10."""

from __future__ import annotations

import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from dofkit.errors import ImageError
from dofkit.io import decode_image, encode_image

# Pillow's transpose that undoes each EXIF orientation, and its inverse (6 and 8 swap).
UNDO = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90}


def upright(depth: int) -> np.ndarray:
    """A 12x20 picture with a distinct corner: uint8 or uint16 RGB."""
    pixels = np.zeros((12, 20, 3), np.uint16 if depth == 16 else np.uint8)
    top = 65535 if depth == 16 else 255
    pixels[:3, :5] = (top, 0, 0)
    pixels[-4:, -2:] = (0, top, 0)
    return pixels


def stored(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """The pixels a camera stores so that ``orientation`` shows ``pixels`` upright."""
    if orientation == 1:
        return pixels
    inverse = {6: 8, 8: 6}.get(orientation, orientation)
    channels = [np.asarray(Image.fromarray(np.ascontiguousarray(pixels[:, :, c]))
                           .transpose(UNDO[inverse])) for c in range(3)]
    return np.dstack(channels)


def with_orientation(pixels: np.ndarray, orientation: int, fmt: str) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    raw = stored(pixels, orientation)
    buffer = io.BytesIO()
    if raw.dtype == np.uint16:  # Pillow cannot write 16-bit colour: OpenCV writes, EXIF added
        ok, data = cv2.imencode("." + fmt, np.ascontiguousarray(raw[:, :, ::-1]))
        assert ok
        image = Image.open(io.BytesIO(data.tobytes()))
        if fmt == "png":
            return _png_with_exif(data.tobytes(), exif.tobytes())
        image.save(buffer, format="TIFF", exif=exif, tiffinfo={0x0112: orientation})
        return buffer.getvalue()
    options = {"tiffinfo": {0x0112: orientation}} if fmt == "tiff" else {}
    if fmt == "webp":
        options["lossless"] = True
    Image.fromarray(raw).save(buffer, format=fmt.upper(), exif=exif, **options)
    return buffer.getvalue()


def _png_with_exif(data: bytes, exif: bytes) -> bytes:
    chunk = struct.pack(">I", len(exif)) + b"eXIf" + exif
    chunk += struct.pack(">I", zlib.crc32(b"eXIf" + exif))
    return data[:33] + chunk + data[33:]


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("fmt, depth", [("jpeg", 8), ("png", 8), ("png", 16), ("webp", 8),
                                        ("tiff", 8), ("tiff", 16)])
def test_every_orientation_is_applied_once(fmt, depth, orientation):
    pixels = upright(depth)
    picture = decode_image(with_orientation(pixels, orientation, fmt), f"o.{fmt}")
    expected = pixels.astype(np.float32) / (65535 if depth == 16 else 255)
    assert picture.rgb.shape == expected.shape
    tolerance = 0.2 if fmt == "jpeg" else 1e-3
    assert np.abs(picture.rgb - expected).mean() < tolerance / 4
    assert picture.rgb[1, 1, 0] > 0.7 and picture.rgb[-1, -1, 1] > 0.7


def tiff_with_strip_offset_type(kind: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(upright(8)).save(buffer, format="TIFF")
    data = bytearray(buffer.getvalue())
    offset = struct.unpack("<I", data[4:8])[0]
    count = struct.unpack("<H", data[offset:offset + 2])[0]
    for index in range(count):
        entry = offset + 2 + 12 * index
        if struct.unpack("<H", data[entry:entry + 2])[0] == 273:
            struct.pack_into("<H", data, entry + 2, kind)
    return bytes(data)


@pytest.mark.parametrize("kind", [11, 2, 5, 12])
def test_tiff_with_mistyped_strip_offsets_is_one_image_error(kind):
    with pytest.raises(ImageError, match="^s.tif: "):
        decode_image(tiff_with_strip_offset_type(kind), "s.tif")


def raised_height(data: bytes, fmt: str, height: int) -> bytes:
    data = bytearray(data)
    if fmt == "png":
        struct.pack_into(">I", data, 20, height)
        struct.pack_into(">I", data, 29, zlib.crc32(bytes(data[12:29])))
    else:
        marker = data.find(b"\xff\xc0")
        struct.pack_into(">H", data, marker + 5, height)
    return bytes(data)


@pytest.mark.parametrize("fmt", ["png", "jpg"])
def test_header_claiming_more_rows_than_the_data_is_truncated(fmt):
    image = np.random.default_rng(0).random((40, 50, 3)).astype(np.float32)
    data = raised_height(encode_image(image, "." + fmt), fmt, 400)
    with pytest.raises(ImageError, match="truncated"):
        decode_image(data, "tall." + fmt)


def test_tiny_png_claiming_a_huge_size_is_refused_without_allocating():
    import tracemalloc

    data = raised_height(encode_image(np.zeros((4, 4), np.float32), ".png"), "png", 9999)
    data = data[:16] + struct.pack(">I", 9999) + data[20:]
    data = data[:29] + struct.pack(">I", zlib.crc32(data[12:29])) + data[33:]
    tracemalloc.start()
    with pytest.raises(ImageError, match="truncated"):
        decode_image(data, "bomb.png")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(data) < 1000 and peak < 5_000_000


def test_float_tiff_read_with_its_real_range():
    values = np.linspace(0, 1, 12 * 20, dtype=np.float32).reshape(12, 20)
    buffer = io.BytesIO()
    Image.fromarray(values, "F").save(buffer, format="TIFF")
    picture = decode_image(buffer.getvalue(), "f.tif")
    np.testing.assert_allclose(picture.rgb[:, :, 1], values, atol=1e-6)
    ok, rgb = cv2.imencode(".tiff", np.dstack([values, values / 2, values / 4]))
    picture = decode_image(rgb.tobytes(), "f3.tif")  # colour float: Pillow has no mode for it
    np.testing.assert_allclose(picture.rgb, np.dstack([values / 4, values / 2, values]),
                               atol=1e-6)


def test_float_tiff_outside_unit_range_and_int32_tiff_refused():
    buffer = io.BytesIO()
    Image.fromarray(np.full((4, 4), 255.0, np.float32), "F").save(buffer, format="TIFF")
    with pytest.raises(ImageError, match=r"not \[0, 1\]"):
        decode_image(buffer.getvalue(), "f.tif")
    buffer = io.BytesIO()
    Image.fromarray(np.full((4, 4), 7, np.int32), "I").save(buffer, format="TIFF")
    with pytest.raises(ImageError, match="32-bit integer"):
        decode_image(buffer.getvalue(), "i.tif")


@pytest.mark.parametrize("data, name", [
    (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n", "EPS"),
    (b"P5\n4 4\n65535\n" + bytes(32), "PPM"),
    (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "GIF"),
])
def test_formats_outside_the_list_are_refused_by_name(data, name):
    with pytest.raises(ImageError, match=f"{name} images are not accepted"):
        decode_image(data, "x")


def test_pillow_guard_left_alone():
    import dofkit  # noqa: F401  (importing must not change Pillow's process-wide limit)

    assert Image.MAX_IMAGE_PIXELS is not None


def test_stderr_holds_one_line_per_broken_file_and_no_library_noise(tmp_path):
    import subprocess
    import sys

    good = encode_image(np.random.default_rng(0).random((40, 50, 3)).astype(np.float32), ".jpg")
    files = {"strips.tif": tiff_with_strip_offset_type(11),
             "tall.jpg": raised_height(good, "jpg", 400),
             "cut.jpg": good[:len(good) // 2],
             "sixteen.tif": encode_image(np.zeros((8, 8, 3), np.float32), ".tif", depth=16)[:90],
             "samples.tif": with_tiff_tag(tiff_bytes(upright(8)), 277, 30000)}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    done = subprocess.run([sys.executable, "-m", "dofkit", "map", *sorted(files), "-m",
                           "analytic", "--out-dir", "maps"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    lines = done.stderr.splitlines()
    assert done.returncode == 1 and done.stdout == ""
    assert sorted(line.split(": ")[2] for line in lines[:-1]) == sorted(files)
    assert all(line.startswith("dofkit: error: ") for line in lines[:-1])
    assert lines[-1].startswith("dofkit: mapping: 0 done, 5 failed")


def test_tiff_claiming_more_pixels_than_its_data_can_hold_is_refused():
    buffer = io.BytesIO()
    Image.fromarray(upright(8)).save(buffer, format="TIFF")
    data = bytearray(buffer.getvalue())
    offset = struct.unpack("<I", data[4:8])[0]
    for index in range(struct.unpack("<H", data[offset:offset + 2])[0]):
        entry = offset + 2 + 12 * index
        tag, kind = struct.unpack("<HH", data[entry:entry + 4])
        if tag in (256, 257):  # width and height -> 9000 each
            struct.pack_into("<HH" if kind == 3 else "<I", data, entry + 8,
                             *((9000, 0) if kind == 3 else (9000,)))
    with pytest.raises(ImageError, match="truncated or corrupt"):
        decode_image(bytes(data), "huge.tif")


def test_bmp_claiming_more_rows_than_it_holds_is_refused():
    data = bytearray(encode_image(np.zeros((8, 8, 3), np.float32), ".bmp"))
    struct.pack_into("<i", data, 22, 30000)  # height
    struct.pack_into("<i", data, 18, 3000)   # width
    with pytest.raises(ImageError, match="truncated or corrupt"):
        decode_image(bytes(data), "tall.bmp")


def bitfields_bmp(masks: tuple[int, int, int], width: int = 4, height: int = 2) -> bytes:
    """A 32-bit BI_BITFIELDS BMP (40-byte header, then the three colour masks) of grey 0x80."""
    pixels = bytes([0x80, 0x80, 0x80, 0]) * (width * height)
    offset = 14 + 40 + 12
    header = struct.pack("<2sIHHI", b"BM", offset + len(pixels), 0, 0, offset)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 32, 3, len(pixels), 2835, 2835,
                       0, 0)
    return header + info + struct.pack("<III", *masks) + pixels


def test_bmp_whose_colour_masks_select_no_bits_is_refused():
    """Pillow decoded it to junk (with an alpha channel); the usual masks still decode."""
    with pytest.raises(ImageError, match="colour masks select no bits"):
        decode_image(bitfields_bmp((0, 0, 0)), "zero.bmp")
    picture = decode_image(bitfields_bmp((0xFF0000, 0xFF00, 0xFF)), "fine.bmp")
    assert picture.size == (4, 2) and np.allclose(picture.rgb, 0x80 / 255)


def grey_tiff(pixels: np.ndarray, orientation: int = 1) -> bytes:
    """Uncompressed 8-bit grey TIFF of ``pixels`` (H, W) with an orientation tag."""
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(pixels).save(buffer, format="TIFF", exif=exif)
    return buffer.getvalue()


def test_a_file_named_like_the_upload_is_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_bytes(bytes(range(256)) * 64)
    picture = decode_image(grey_tiff(np.zeros((32, 64), np.uint8)), str(secret))
    assert picture.rgb.max() == 0.0


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("mode", ["L", "RGBA"])
def test_tiff_orientation_read_from_a_file(tmp_path, mode, orientation):
    pixels = upright(8)
    if mode == "L":
        pixels = pixels[:, :, 0]
    else:
        pixels = np.dstack([pixels, np.full(pixels.shape[:2], 255, np.uint8)])
    path = tmp_path / "o.tif"
    inverse = {6: 8, 8: 6}.get(orientation, orientation)
    turned = pixels if orientation == 1 else np.asarray(
        Image.fromarray(pixels).transpose(UNDO[inverse]))
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(turned).save(path, format="TIFF", exif=exif)
    from dofkit.io import open_image

    red = open_image(path).rgb[..., 0]
    assert red.shape == (12, 20) and red[1, 1] > 0.9 and red[-1, -1] < 0.1


def tiff_bytes(pixels: np.ndarray, **options) -> bytes:
    tifffile = pytest.importorskip("tifffile")
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, pixels, **options)
    return buffer.getvalue()


def with_tiff_tag(data: bytes, tag: int, value: int) -> bytes:
    """``data`` with the SHORT or LONG ``tag`` of its first IFD set to ``value``."""
    data = bytearray(data)
    offset = struct.unpack("<I", data[4:8])[0]
    for index in range(struct.unpack("<H", data[offset:offset + 2])[0]):
        entry = offset + 2 + 12 * index
        found, kind = struct.unpack("<HH", data[entry:entry + 4])
        if found == tag:
            struct.pack_into("<I" if kind == 4 else "<HH", data, entry + 8,
                             *((value,) if kind == 4 else (value, 0)))
    return bytes(data)


@pytest.mark.parametrize("depth", [8, 16])
def test_uncompressed_tiff_claiming_more_rows_than_its_strips_is_truncated(depth):
    pixels = upright(depth)
    data = with_tiff_tag(tiff_bytes(pixels), 257, 2 * pixels.shape[0])
    with pytest.raises(ImageError, match="^tall.tif: truncated"):
        decode_image(data, "tall.tif")


def test_deep_tiff_with_one_plane_per_colour_is_refused_not_misread():
    planes = np.moveaxis(upright(16), 2, 0)
    data = tiff_bytes(planes, photometric="rgb", planarconfig="separate")
    with pytest.raises(ImageError, match="one colour plane after another"):
        decode_image(data, "planar.tif")
    eight = tiff_bytes(np.moveaxis(upright(8), 2, 0), photometric="rgb", planarconfig="separate")
    np.testing.assert_allclose(decode_image(eight, "p8.tif").rgb, upright(8) / 255.0)


@pytest.mark.parametrize("depth", [8, 16])
def test_tiff_where_zero_is_white_is_turned_around(depth):
    grey = upright(depth)[:, :, 0]
    picture = decode_image(tiff_bytes(grey, photometric="miniswhite"), "w.tif")
    np.testing.assert_allclose(picture.rgb[..., 0], 1.0 - grey / float(np.iinfo(grey.dtype).max),
                               atol=1e-6)


def test_images_holding_several_pictures_are_refused():
    tifffile = pytest.importorskip("tifffile")
    pixels = upright(8)
    pages, preview = io.BytesIO(), io.BytesIO()
    with tifffile.TiffWriter(pages) as writer:
        writer.write(pixels)
        writer.write(pixels[::-1])
    with pytest.raises(ImageError, match="TIFF of 2 pages"):
        decode_image(pages.getvalue(), "pages.tif")
    with tifffile.TiffWriter(preview) as writer:
        writer.write(pixels)
        writer.write(pixels[::4, ::4], subfiletype=1)  # a reduced-size preview: not a page
    np.testing.assert_allclose(decode_image(preview.getvalue(), "p.tif").rgb, pixels / 255.0)
    for fmt in ("PNG", "WEBP"):
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format=fmt, save_all=True,
                                     append_images=[Image.fromarray(pixels[::-1].copy())],
                                     **({"lossless": True} if fmt == "WEBP" else {}))
        with pytest.raises(ImageError, match="animated image \\(2 frames\\)"):
            decode_image(buffer.getvalue(), "a." + fmt.lower())


def test_one_bit_tiff_without_its_bits_tag_decodes():
    ink = np.zeros((12, 20), bool)
    ink[2:6, 3:9] = True
    buffer = io.BytesIO()
    Image.fromarray(ink).convert("1").save(buffer, format="TIFF")  # no BitsPerSample: 1
    np.testing.assert_array_equal(decode_image(buffer.getvalue(), "ink.tif").rgb[..., 0], ink)


def test_a_tiff_whose_later_pages_do_not_read_is_its_first_page():
    data = bytearray(grey_tiff(upright(8)[:, :, 0]))
    offset = struct.unpack("<I", data[4:8])[0]
    count = struct.unpack("<H", data[offset:offset + 2])[0]
    next_offset = offset + 2 + 12 * count
    for target in (len(data) + 1000, 8):  # past the end; into the header and pixel data
        struct.pack_into("<I", data, next_offset, target)
        picture = decode_image(bytes(data), "chain.tif")
        np.testing.assert_allclose(picture.rgb[..., 0], upright(8)[:, :, 0] / 255.0)


def test_a_bug_of_dofkit_is_not_blamed_on_the_file(monkeypatch):
    from dofkit.io import decode

    def broken(*arguments):
        return undefined_name  # noqa: F821  (the kind of bug an edit can leave)

    monkeypatch.setattr(decode, "_sample_kind", broken)
    with pytest.raises(NameError):
        decode_image(grey_tiff(np.zeros((8, 8), np.uint8)), "fine.tif")


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_progressive_jpeg_cut_after_a_scan_is_refused_though_it_ends_properly(mode):
    """Cut after any scan and given an end marker, a progressive JPEG decoded without a
    warning, its missing detail made up; every whole file still decodes."""
    rng = np.random.default_rng(3)
    picture = Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)).convert(mode)
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=90, progressive=True)
    data = buffer.getvalue()
    assert decode_image(data, "whole.jpg").size == (64, 48)
    scans = [i for i in range(len(data) - 1) if data[i:i + 2] == b"\xff\xda"]
    assert len(scans) > 2
    for start in scans[1:]:
        with pytest.raises(ImageError, match="truncated image"):
            decode_image(data[:start] + b"\xff\xd9", "cut.jpg")
