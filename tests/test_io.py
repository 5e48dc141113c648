"""Image I/O: formats, bit depths, alpha, EXIF orientation, atomic writes and every bad input."""

from __future__ import annotations

import io
import os
import re
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from dofkit.errors import ImageError, OutputError, ParameterError
from dofkit.io import (decode_image, encode_image, max_pixels_default, open_image,
                       read_focus_map, write_image)


def gradient_rgb(height: int = 12, width: int = 16) -> np.ndarray:
    """uint8 RGB with distinct values per channel and position."""
    y, x = np.mgrid[0:height, 0:width]
    return np.dstack([x * 255 // width, y * 255 // height, (x + y) * 127 // (height + width)]
                     ).astype(np.uint8)


def save_pil(path, image: Image.Image, **kwargs) -> str:
    image.save(path, **kwargs)
    return str(path)


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tif", ".webp"])
def test_lossless_rgb_round_trip(tmp_path, suffix):
    pixels = gradient_rgb()
    options = {"lossless": True} if suffix == ".webp" else {}
    path = save_pil(tmp_path / f"a{suffix}", Image.fromarray(pixels), **options)
    picture = open_image(path)
    assert picture.rgb.dtype == np.float32 and picture.rgb.shape == (12, 16, 3)
    assert picture.bit_depth == 8 and picture.alpha is None
    np.testing.assert_array_equal(np.round(picture.rgb * 255).astype(np.uint8), pixels)


def test_jpeg_reads_close(tmp_path):
    pixels = gradient_rgb(32, 32)
    path = save_pil(tmp_path / "a.jpg", Image.fromarray(pixels), quality=98)
    rgb = open_image(path).rgb
    assert np.abs(rgb * 255 - pixels).mean() < 3


def test_grey_grey_alpha_rgba_palette(tmp_path):
    grey = np.arange(12 * 16, dtype=np.uint8).reshape(12, 16)
    picture = open_image(save_pil(tmp_path / "g.png", Image.fromarray(grey, "L")))
    np.testing.assert_allclose(picture.rgb[:, :, 1] * 255, grey, atol=0.01)
    assert np.all(picture.rgb[:, :, 0] == picture.rgb[:, :, 2])

    grey_alpha = Image.merge("LA", [Image.fromarray(grey), Image.fromarray(255 - grey)])
    picture = open_image(save_pil(tmp_path / "la.png", grey_alpha))
    np.testing.assert_allclose(picture.alpha * 255, 255 - grey, atol=0.01)

    rgba = np.dstack([gradient_rgb(), np.full((12, 16), 128, np.uint8)])
    picture = open_image(save_pil(tmp_path / "rgba.png", Image.fromarray(rgba, "RGBA")))
    assert picture.alpha is not None and abs(picture.alpha.mean() - 128 / 255) < 1e-6
    np.testing.assert_array_equal(np.round(picture.rgb * 255).astype(np.uint8), rgba[:, :, :3])

    palette = Image.fromarray(gradient_rgb()).convert("P", palette=Image.Palette.ADAPTIVE)
    expected = np.asarray(palette.convert("RGB"))
    picture = open_image(save_pil(tmp_path / "p.png", palette))
    np.testing.assert_array_equal(np.round(picture.rgb * 255).astype(np.uint8), expected)


def test_sixteen_bit_png_colour_and_grey(tmp_path):
    colour = (np.random.default_rng(0).random((10, 14, 3)) * 65535).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "c16.png"), colour[:, :, ::-1])
    picture = open_image(tmp_path / "c16.png")
    assert picture.bit_depth == 16
    np.testing.assert_array_equal(np.round(picture.rgb * 65535).astype(np.uint16), colour)

    grey = (np.arange(140, dtype=np.uint16) * 400).reshape(10, 14)
    cv2.imwrite(str(tmp_path / "g16.png"), grey)
    picture = open_image(tmp_path / "g16.png")
    assert picture.bit_depth == 16
    np.testing.assert_array_equal(np.round(picture.rgb[:, :, 0] * 65535).astype(np.uint16), grey)


def test_sixteen_bit_write_round_trip(tmp_path):
    values = np.random.default_rng(1).random((9, 11, 3)).astype(np.float32)
    write_image(tmp_path / "o.png", values, depth=16)
    back = open_image(tmp_path / "o.png")
    assert back.bit_depth == 16
    assert np.abs(back.rgb - values).max() <= 0.5 / 65535 + 1e-7


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("sixteen_bit", [False, True])
def test_exif_orientation_matches_pillow(tmp_path, orientation, sixteen_bit):
    """Both decoders (Pillow for 8-bit, OpenCV for 16-bit) apply EXIF orientation exactly as
    Pillow's reference ImageOps.exif_transpose does."""
    stored = np.zeros((20, 30), np.uint8)
    stored[:10, :10] = 255  # a marked corner makes every orientation distinguishable
    stored[:4, 20:] = 128
    exif = Image.Exif()
    exif[0x0112] = orientation
    image = Image.fromarray(stored.astype(np.uint16) * 257 if sixteen_bit else stored)
    if sixteen_bit:
        image = image.convert("I;16")
    path = save_pil(tmp_path / "o.png", image, exif=exif.tobytes())
    expected = np.asarray(ImageOps.exif_transpose(_with_exif(stored, exif)))
    picture = open_image(path)
    assert picture.bit_depth == (16 if sixteen_bit else 8)
    np.testing.assert_array_equal(np.round(picture.rgb[:, :, 0] * 255).astype(np.uint8), expected)


def _with_exif(pixels: np.ndarray, exif: Image.Exif) -> Image.Image:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", exif=exif.tobytes())
    return Image.open(io.BytesIO(buffer.getvalue()))


def test_unicode_path(tmp_path):
    path = tmp_path / "фото 写真.png"
    write_image(path, np.full((4, 5, 3), 0.25, np.float32))
    assert open_image(path).size == (5, 4)


def test_stdin(monkeypatch, tmp_path):
    data = encode_image(np.full((3, 4, 3), 0.5, np.float32), ".png")

    class FakeStdin:
        buffer = io.BytesIO(data)

    monkeypatch.setattr("sys.stdin", FakeStdin)
    assert open_image("-").size == (4, 3)


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "no such file"),
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: p.write_bytes(b""), "empty file"),
    (lambda p: p.write_bytes(b"hello, this is not an image at all"), "not an image"),
])
def test_bad_inputs(tmp_path, make, message):
    path = tmp_path / "bad.png"
    make(path)
    with pytest.raises(ImageError, match=message) as info:
        open_image(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp", ".tif"])
def test_truncated_image(tmp_path, suffix):
    data = encode_image(np.random.default_rng(2).random((64, 64, 3)).astype(np.float32), suffix)
    path = tmp_path / f"cut{suffix}"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="truncated") as info:
        open_image(path)
    assert str(path) in str(info.value)


def test_pixel_limit_refused_before_decoding(tmp_path, monkeypatch):
    # A PNG header announcing 50000 x 50000 pixels but holding almost no data: the limit must
    # trigger on the header alone.
    path = save_pil(tmp_path / "big.png", Image.new("L", (300, 200)))
    with pytest.raises(ImageError, match="too large"):
        open_image(path, max_pixels=300 * 200 - 1)
    monkeypatch.setenv("DOFKIT_MAX_PIXELS", "1000")
    with pytest.raises(ImageError, match="60,000 pixels, limit 1,000"):
        open_image(path)
    data = bytearray(open(path, "rb").read())
    data[16:24] = (50000).to_bytes(4, "big") + (50000).to_bytes(4, "big")
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")  # IHDR checksum
    monkeypatch.delenv("DOFKIT_MAX_PIXELS")
    with pytest.raises(ImageError, match="too large"):
        decode_image(bytes(data), "huge.png")


def test_write_refuses_input_and_is_atomic(tmp_path):
    source = tmp_path / "in.png"
    write_image(source, np.zeros((4, 4, 3), np.float32))
    before = source.read_bytes()
    with pytest.raises(OutputError, match="refusing to overwrite an input"):
        write_image(source, np.ones((4, 4, 3), np.float32), inputs=(source,))
    assert source.read_bytes() == before
    write_image(source, np.ones((4, 4, 3), np.float32), inputs=(source,), overwrite=True)
    assert open_image(source).rgb.min() == 1.0
    assert [p.name for p in tmp_path.iterdir()] == ["in.png"]  # no temporary file left


def test_write_errors(tmp_path):
    with pytest.raises(ParameterError, match="cannot write '.xyz'"):
        write_image(tmp_path / "o.xyz", np.zeros((2, 2, 3), np.float32))
    assert not any(tmp_path.iterdir())
    write_image(tmp_path / "missing" / "o.png", np.zeros((2, 2, 3), np.float32))
    assert [p.name for p in (tmp_path / "missing").iterdir()] == ["o.png"]  # folder made


def test_alpha_written_back(tmp_path):
    alpha = np.linspace(0, 1, 20, dtype=np.float32).reshape(4, 5)
    write_image(tmp_path / "a.png", np.zeros((4, 5, 3), np.float32), alpha=alpha)
    back = open_image(tmp_path / "a.png")
    assert back.alpha is not None and np.abs(back.alpha - alpha).max() < 1 / 255


def test_output_permissions_follow_umask(tmp_path):
    write_image(tmp_path / "p.png", np.zeros((2, 2, 3), np.float32))
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "p.png").stat().st_mode & 0o777 == 0o666 & ~mask


def test_read_focus_map_checks_size(tmp_path):
    write_image(tmp_path / "m.png", np.full((4, 6), 0.5, np.float32), depth=16)
    focus = read_focus_map(tmp_path / "m.png", size=(6, 4))
    assert focus.shape == (4, 6) and focus.dtype == np.float32
    assert abs(float(focus.mean()) - 0.5) < 1e-4
    with pytest.raises(ImageError, match="map is 6x4 but the image is 7x4"):
        read_focus_map(tmp_path / "m.png", size=(7, 4))


def test_read_focus_map_refuses_colour_reads_grey_stored_as_rgb(tmp_path):
    """A rainbow view or a photo given as a map is an error, not its luminance; a grey map
    stored as RGB (lossy WebP: channels a level apart) is read."""
    from dofkit.view import rainbow

    ramp = np.tile(np.linspace(0, 1, 16, dtype=np.float32), (12, 1))
    write_image(tmp_path / "rainbow.png", rainbow(ramp))
    save_pil(tmp_path / "photo.png", Image.fromarray(gradient_rgb()))
    for name in ("rainbow.png", "photo.png"):
        with pytest.raises(ImageError, match=f"{name}: map is in colour"):
            read_focus_map(tmp_path / name)
    grey = np.dstack([ramp] * 3)
    save_pil(tmp_path / "grey.webp", Image.fromarray((grey * 255).round().astype(np.uint8)),
             quality=80)
    focus = read_focus_map(tmp_path / "grey.webp", size=(16, 12))
    assert np.abs(focus - ramp).max() < 0.05


def test_output_name_too_long_is_an_output_error(tmp_path):
    """A name the file system refuses is one OutputError naming it, not an OSError."""
    from dofkit.errors import OutputError

    target = tmp_path / ("a" * 300 + ".png")
    with pytest.raises(OutputError, match="cannot write"):
        write_image(target, np.zeros((4, 4, 3), np.float32))


def test_an_endless_input_is_refused_not_swallowed(tmp_path, monkeypatch):
    endless = tmp_path / "zero.png"
    endless.symlink_to("/dev/zero")  # refused before a byte of it is read
    with pytest.raises(ImageError, match=r"zero.png: not a regular file \(a device\)"):
        open_image(endless, max_pixels=1000)

    class EndlessStdin:
        class buffer:  # noqa: N801 - stands in for sys.stdin.buffer
            read = staticmethod(lambda count=-1: b"\0" * (count if count >= 0 else 1 << 40))

    monkeypatch.setattr("sys.stdin", EndlessStdin)
    with pytest.raises(ImageError, match="too large"):
        open_image("-", max_pixels=1000)


@pytest.mark.parametrize("value", ["-5", "0", "many"])
def test_pixel_limit_variable_must_be_positive(monkeypatch, value):
    monkeypatch.setenv("DOFKIT_MAX_PIXELS", value)
    with pytest.raises(ParameterError, match="DOFKIT_MAX_PIXELS"):
        max_pixels_default()


def test_text_inputs_are_bounded_and_named(tmp_path, monkeypatch):
    from dofkit.errors import InputError
    from dofkit.io.inputs import read_text_input

    endless = tmp_path / "boxes.json"
    endless.symlink_to("/dev/zero")
    with pytest.raises(InputError, match="boxes.json: cannot read the detections file "
                                         r"\(not a regular file \(a device\)"):
        read_text_input(endless, "the detections file")
    big = tmp_path / "big.json"
    big.write_text("[]" + " " * 100)
    monkeypatch.setattr("dofkit.io.inputs.TEXT_MAX_BYTES", 100)
    with pytest.raises(InputError, match=r"big.json: cannot read the list \(too large"):
        read_text_input(big, "the list")
    latin = tmp_path / "list.txt"
    latin.write_bytes("caf\xe9.png\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"list.txt: cannot read the list \(not UTF-8"):
        read_text_input(latin, "the list")


@pytest.mark.parametrize("channels", [3, 4])
def test_colour_float_tiff_is_read(tmp_path, channels):
    """RGB and RGBA 32-bit float TIFF (Pillow has no mode for them; OpenCV decodes them)."""
    pixels = np.random.default_rng(channels).random((20, 30, channels)).astype(np.float32)
    path = tmp_path / "float.tif"
    cv2.imwrite(str(path), pixels)  # BGR(A) order
    picture = open_image(path)
    assert picture.bit_depth == 16 and picture.rgb.dtype == np.float32
    np.testing.assert_array_equal(picture.rgb, pixels[:, :, 2::-1])
    if channels == 4:
        np.testing.assert_array_equal(picture.alpha, pixels[:, :, 3])
    data = path.read_bytes()
    (tmp_path / "cut.tif").write_bytes(data[:len(data) // 2])
    with pytest.raises(ImageError, match="truncated|corrupt"):
        open_image(tmp_path / "cut.tif")


@pytest.mark.parametrize("options", [{}, {"byteorder": ">"}, {"compression": "zlib"}])
def test_sixteen_bit_cmyk_tiff_is_read_as_its_eight_bit_twin(tmp_path, options):
    """16-bit CMYK (OpenCV cannot decode it): Pillow's 8-bit reading, converted as an 8-bit
    CMYK TIFF of the same samples' high bytes is; a valid file is never called corrupt."""
    tifffile = pytest.importorskip("tifffile")
    cmyk = np.random.default_rng(4).integers(0, 65536, (20, 30, 4), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "deep.tif", cmyk, photometric="separated", **options)
    Image.fromarray((cmyk >> 8).astype(np.uint8), "CMYK").save(tmp_path / "twin.tif")
    picture, twin = open_image(tmp_path / "deep.tif"), open_image(tmp_path / "twin.tif")
    assert picture.bit_depth == 8 and picture.alpha is None
    np.testing.assert_array_equal(picture.rgb, twin.rgb)
    data = (tmp_path / "deep.tif").read_bytes()
    with pytest.raises(ImageError, match="truncated"):
        decode_image(data[:len(data) - 10], "cut.tif")


@pytest.mark.parametrize("path, limit", [(None, None), (5, None), ("x.png", -1),
                                         ("x.png", "10"), ("x.png", 2.5)])
def test_wrong_argument_types_name_the_parameter(path, limit):
    with pytest.raises(ParameterError, match="path must be|max_pixels must be"):
        open_image(path, max_pixels=limit)


@pytest.mark.parametrize("channels, depth", [(3, 8), (4, 16), (1, 16)])
def test_decoding_holds_little_more_than_the_result(channels, depth):
    """Peak memory of a decode: the float result and the decoded samples, no float copies
    (a 100 MP photo is 1.2 GB of float RGB already)."""
    import tracemalloc

    dtype = np.uint8 if depth == 8 else np.uint16
    samples = (np.random.default_rng(0).random((400, 500, channels)) * np.iinfo(dtype).max)
    data = cv2.imencode(".png", samples.astype(dtype))[1].tobytes()
    tracemalloc.start()
    try:
        picture = decode_image(data, "big.png")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    result = picture.rgb.nbytes + (0 if picture.alpha is None else picture.alpha.nbytes)
    decoded = 400 * 500 * channels * np.dtype(dtype).itemsize
    assert peak <= result + 2 * decoded + (1 << 20)


def test_a_link_in_a_loop_is_an_output_error_and_stays_a_link(tmp_path):
    """A link is written through; one that leads round in a loop names no file to write."""
    (tmp_path / "a.png").symlink_to("b.png")
    (tmp_path / "b.png").symlink_to("a.png")
    with pytest.raises(OutputError, match="a.png: cannot write .*symbolic links"):
        write_image(tmp_path / "a.png", np.zeros((4, 4, 3), np.float32))
    assert (tmp_path / "a.png").is_symlink() and (tmp_path / "b.png").is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.png"]


@pytest.mark.parametrize("values, alpha, words", [
    (np.full((4, 4, 3), 128, np.uint8), None, "must be a float array"),  # was written white
    (np.zeros((4, 4, 4), np.float32), None, "grey (H, W) or RGB (H, W, 3)"),  # was BGR+alpha
    (np.full((4, 4), np.nan, np.float32), None, "must be finite and in [0, 1]"),  # was black
    (np.full((4, 4), 2.0, np.float32), None, "must be finite and in [0, 1]"),  # was clipped
    (np.zeros((4, 4), np.float32), np.zeros((3, 3), np.float32), "alpha must be (H, W)"),
    (np.zeros((0, 4), np.float32), None, "got shape (0, 4)"),
])
def test_write_image_refuses_samples_it_would_write_changed(tmp_path, values, alpha, words):
    with pytest.raises(ParameterError, match=re.escape(words)):
        write_image(tmp_path / "out.png", values, alpha=alpha)
    assert list(tmp_path.iterdir()) == []
