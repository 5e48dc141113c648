"""Hostile inputs of the third round: JPEG data left unread, FIFOs and devices given as files,
tampered weights manifests and weights, overflowing or oddly split detections, 8-bit masks
stored in 16 bits, whitespace-only text inputs and TIFF compressions OpenCV lacks."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from conftest import fifo

from dofkit.cli import app
from dofkit.errors import ImageError, InputError, ResourceError
from dofkit.io import decode_image, open_image, read_focus_map, write_image
from dofkit.io.inputs import read_text_input

SAMPLE = Path(__file__).parent.parent / "samples" / "astronaut.jpg"
PIPE = "not a regular file (a named pipe); give a file, or '-' for standard input"


def with_frame_height(data: bytes, height: int) -> bytes:
    """A baseline JPEG whose frame header (SOF0) states ``height`` rows."""
    at = data.index(b"\xff\xc0") + 5
    return data[:at] + height.to_bytes(2, "big") + data[at + 2:]


def test_a_frame_height_cut_short_is_refused_not_decoded_as_a_strip():
    """Rows a damaged frame height leaves out are "extraneous bytes" before the end marker:
    libjpeg decodes the first rows only and skips the rest of the pixel data."""
    data = SAMPLE.read_bytes()
    assert data[163:165] == (512).to_bytes(2, "big")  # the frame height of the report
    assert decode_image(data, "whole.jpg").size == (512, 512)
    with pytest.raises(ImageError, match="h100.jpg: truncated or corrupt image .* extraneous "
                                         "bytes before marker 0xd9"):
        decode_image(with_frame_height(data, 100), "h100.jpg")
    buffer = io.BytesIO()
    noise = np.random.default_rng(3).integers(0, 256, (64, 48, 3), np.uint8)
    Image.fromarray(noise).save(buffer, "JPEG", quality=90)
    with pytest.raises(ImageError, match="extraneous bytes before marker 0xd9"):
        decode_image(with_frame_height(buffer.getvalue(), 40), "cut.jpg")


def test_a_named_pipe_is_refused_as_image_map_or_mask(tmp_path):
    from dofkit.evaluate import read_mask

    with fifo(tmp_path / "pipe.png") as pipe:
        for read in (open_image, read_focus_map,
                     lambda path: read_mask(path, (4, 4), tmp_path / "photo.png")):
            with pytest.raises(ImageError, match=re.escape(f"pipe.png: {PIPE}")):
                read(pipe)


def test_a_named_pipe_is_refused_as_a_detections_file(tmp_path):
    with fifo(tmp_path / "boxes.json") as pipe:
        with pytest.raises(InputError, match=re.escape(
                f"boxes.json: cannot read the detections file ({PIPE})")):
            read_text_input(pipe, "the detections file")


def test_a_named_pipe_in_a_map_folder_is_one_line_naming_it(tmp_path):
    photo, maps = tmp_path / "photo.png", tmp_path / "maps"
    write_image(photo, np.full((8, 12, 3), 0.5, np.float32))
    maps.mkdir()
    with fifo(maps / "photo.png"):
        result = CliRunner().invoke(app, ["detect", str(photo), "--map", str(maps),
                                          "--detections", "-"], input="[]")
    assert result.exit_code == 1
    assert result.stderr.strip() == f"dofkit: error: {maps / 'photo.png'}: {PIPE}"


def test_a_device_is_refused_before_it_is_read(tmp_path):
    """/dev/zero would be read until the size limit (hundreds of MB) before the refusal."""
    with pytest.raises(ImageError, match=r"^/dev/zero: not a regular file \(a device\); give"):
        open_image("/dev/zero")


@pytest.fixture
def weights(tmp_path) -> Path:
    """A copy of the shipped weights and manifest, to tamper with."""
    from dofkit.focus.srcnn import default_weights, manifest_path

    path = tmp_path / "net.safetensors"
    shutil.copy(default_weights(), path)
    shutil.copy(manifest_path(default_weights()), manifest_path(path))
    return path


def with_field(weights: Path, field: str, literal: str) -> None:
    """Set ``field`` of the manifest of ``weights`` to the JSON ``literal`` (1e400, NaN)."""
    manifest_file = weights.with_suffix(".json")
    manifest = json.loads(manifest_file.read_text())
    manifest[field] = "@"
    manifest_file.write_text(json.dumps(manifest).replace('"@"', literal))


@pytest.mark.parametrize("field, literal, problem", [
    ("work_side", '"x"', 'work_side: must be a whole number from 32 to 4096, got "x"'),
    ("work_side", "1e400", "work_side: must be a whole number from 32 to 4096, got Infinity"),
    ("work_side", "0", "work_side: must be a whole number from 32 to 4096, got 0"),
    ("work_side", "-5", "work_side: must be a whole number from 32 to 4096, got -5"),
    ("work_side", "0.5", "work_side: must be a whole number from 32 to 4096, got 0.5"),
    ("logit_scale", '"big"', 'logit_scale: must be a number above 0 and at most 100, got "big"'),
    ("logit_scale", "NaN", "logit_scale: must be a number above 0 and at most 100, got NaN"),
    ("logit_scale", "1e308", "logit_scale: must be a number above 0 and at most 100, got 1e+308"),
    ("config", '{"widths": []}', "config: must be an object of whole numbers >= 1 or "
                                 'non-empty lists of them, got {"widths": []}'),
    ("architecture", '["x"]', 'architecture: must be one of srcnn, context-net, got ["x"]'),
    ("beats_analytic", '"no"', 'beats_analytic: must be true or false, got "no"'),
])
def test_a_hostile_manifest_field_is_named_with_the_manifest(weights, field, literal, problem):
    from dofkit.focus.srcnn import load_weights

    with_field(weights, field, literal)
    with pytest.raises(ResourceError) as info:
        load_weights(weights)
    assert str(info.value) == f"{weights.with_suffix('.json')}: invalid weights manifest " \
                              f"({problem})"


def test_a_manifest_nested_too_deeply_is_an_invalid_manifest(weights):
    """100,000 levels: json.loads raises RecursionError; auto reads the manifest too."""
    import dofkit

    weights.with_suffix(".json").write_text("[" * 100_000 + "]" * 100_000)
    for method in ("srcnn", "auto"):
        with pytest.raises(ResourceError, match="net.json: missing or invalid weights manifest"):
            dofkit.FocusEstimator(method, weights=str(weights))


def test_weights_holding_nan_are_refused_at_load_naming_the_file(tmp_path):
    torch = pytest.importorskip("torch")
    from dofkit.focus.models import ContextNet
    from dofkit.focus.srcnn import load_weights, save_weights

    model = ContextNet(widths=(4, 8))
    with torch.no_grad():
        model.head.bias.fill_(float("nan"))
    path = tmp_path / "nan.safetensors"
    save_weights(model, path, "context-net", {"widths": [4, 8]}, work_side=96)
    with pytest.raises(ResourceError, match="nan.safetensors: weights hold NaN or infinite"):
        load_weights(path)


def test_a_box_reaching_past_the_largest_number_is_the_files_error():
    from dofkit.detect import parse_detections

    with pytest.raises(InputError, match=r"^det.json: detection 0: the box \[1e\+308, 1, "
                                         r"1e\+308, 3\] reaches past the largest number"):
        parse_detections('[{"bbox":[1e308,1,1e308,3]}]', "det.json")


def test_json_lines_and_lists_are_split_at_newlines_only(tmp_path):
    """U+2028 (and the other separators str.splitlines knows) is a character of a label or of
    a file name, not the end of a line; CRLF lines still read."""
    from dofkit.batch.inputs import collect
    from dofkit.detect import parse_detections

    given = parse_detections('{"bbox":[1,1,5,5],"label":"a\u2028b"}\r\n{"bbox":[2,2,5,5]}\r\n',
                             "d.jsonl")
    assert [d.label for _, d in given.entries] == ["a\u2028b", None]
    listing = tmp_path / "list.txt"
    listing.write_text("x\u2028y.png\r\nz.png\n", encoding="utf-8")
    assert [s.path for s in collect([], from_list=str(listing))] == ["x\u2028y.png", "z.png"]


@pytest.mark.parametrize("content", [b" \n\t\r\n", b"\xef\xbb\xbf\n"])
def test_a_text_input_of_white_space_only_is_empty(tmp_path, content):
    path = tmp_path / "d.json"
    path.write_bytes(content)
    with pytest.raises(InputError, match=r"d.json: cannot read the detections file \(empty"):
        read_text_input(path, "the detections file")


def test_a_16_bit_mask_of_8_bit_values_is_refused(tmp_path):
    from dofkit.evaluate import read_mask

    levels = np.zeros((4, 6), np.uint16)
    levels[:, :3] = 255
    path = tmp_path / "m.png"
    cv2.imwrite(str(path), levels)
    with pytest.raises(ImageError, match="m.png: ground-truth mask is 16-bit but its values "
                                         "only reach 255"):
        read_mask(path, (6, 4), tmp_path / "p.png")
    cv2.imwrite(str(path), levels * 257)  # 0/65535: a true 16-bit mask
    assert read_mask(path, (6, 4), tmp_path / "p.png")[:, :3].all()


def test_a_tiff_compression_opencv_lacks_is_named():
    tifffile = pytest.importorskip("tifffile")
    buffer = io.BytesIO()
    pixels = np.arange(8 * 12 * 3, dtype=np.uint16).reshape(8, 12, 3) * 100
    try:
        tifffile.imwrite(buffer, pixels, compression="lzma")
    except Exception as exc:  # a codec tifffile is built without
        pytest.skip(f"tifffile cannot write LZMA here ({exc})")
    with pytest.raises(ImageError, match=r"^l.tif: unsupported TIFF compression \(LZMA\)"):
        decode_image(buffer.getvalue(), "l.tif")
