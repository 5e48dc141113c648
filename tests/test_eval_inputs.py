"""`dofkit eval` on inputs a new user gets wrong: 0/1 masks, masks or maps of another size,
a folder of photos given as --gt, nothing left to score, and --quiet."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from dofkit.cli import app
from dofkit.errors import ImageError
from dofkit.io import write_image

runner = CliRunner()
TRUTH = np.zeros((8, 12), np.float32)
TRUTH[:, :6] = 1.0  # left half in focus


def dataset(tmp_path: Path, stems: str = "ab") -> tuple[Path, Path, Path]:
    """img/, gt/ and maps/ under ``tmp_path``, each with one 12x8 file per stem: grey photos,
    0/255 masks and maps equal to them."""
    folders = tuple(tmp_path / name for name in ("img", "gt", "maps"))
    for stem in stems:
        write_image(folders[0] / f"{stem}.png", np.full((8, 12, 3), 0.5, np.float32))
        write_image(folders[1] / f"{stem}.png", TRUTH)
        write_image(folders[2] / f"{stem}.png", TRUTH)
    return folders


def run(images: Path, gt: Path, *more: str):
    return runner.invoke(app, ["eval", "--images", str(images), "--gt", str(gt), *more])


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_a_mask_of_0_and_1_is_refused_and_the_others_scored(tmp_path, dtype):
    images, gt, maps = dataset(tmp_path)
    cv2.imwrite(str(gt / "a.png"), TRUTH.astype(dtype))  # 1 = in focus, almost black
    result = run(images, gt, "--maps", str(maps), "--json")
    assert result.exit_code == 1
    assert (f"dofkit: error: {gt / 'a.png'}: ground-truth mask values are only 0 and 1; "
            "255 = in focus is expected") in result.stderr
    document = json.loads(result.stdout)
    assert document["count"] == 1 and document["images"][0]["image"] == str(images / "b.png")
    assert document["mean"] == {"mae": 0.0, "f05": 1.0, "fmax": 1.0}


def test_masks_all_in_focus_or_all_defocused_are_still_scored(tmp_path):
    images, gt, maps = dataset(tmp_path)
    cv2.imwrite(str(gt / "a.png"), np.full((8, 12), 255, np.uint8))
    cv2.imwrite(str(gt / "b.png"), np.zeros((8, 12), np.uint8))
    result = run(images, gt, "--maps", str(maps), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["count"] == 2


@pytest.mark.parametrize("levels, expected", [((0, 255), [False, True]),
                                              ((127, 128), [False, True])])
def test_read_mask_binarises_at_half(tmp_path, levels, expected):
    from dofkit.evaluate import read_mask

    path = tmp_path / "m.png"
    cv2.imwrite(str(path), np.array([levels], np.uint8))
    assert read_mask(path, (2, 1), tmp_path / "p.png").tolist() == [expected]


def test_a_mask_of_another_size_is_refused_naming_both_sizes(tmp_path):
    images, gt, maps = dataset(tmp_path)
    cv2.imwrite(str(gt / "a.png"), np.zeros((16, 24), np.uint8))
    for more in (["--maps", str(maps)], ["-m", "paper"]):
        result = run(images, gt, *more, "--json")
        assert result.exit_code == 1
        assert (f"{gt / 'a.png'}: ground-truth mask is 24x16 but the image "
                f"{images / 'a.png'} is 12x8") in result.stderr
        assert json.loads(result.stdout)["count"] == 1


def test_a_map_of_another_size_is_refused_naming_both_sizes(tmp_path):
    images, gt, maps = dataset(tmp_path)
    cv2.imwrite(str(maps / "a.png"), np.zeros((16, 24), np.uint8))
    result = run(images, gt, "--maps", str(maps))
    assert result.exit_code == 1
    assert f"{maps / 'a.png'}: map is 24x16 but the image is 12x8" in result.stderr


def test_mask_and_map_must_match_the_photo_not_each_other(tmp_path):
    """A mask and a map of the same size, both other than the photo's: the mask is refused
    (it was read as the reference size, so neither was)."""
    images, gt, maps = dataset(tmp_path, "a")
    cv2.imwrite(str(gt / "a.png"), np.zeros((16, 24), np.uint8))
    cv2.imwrite(str(maps / "a.png"), np.zeros((16, 24), np.uint8))
    result = run(images, gt, "--maps", str(maps))
    assert result.exit_code == 1 and "ground-truth mask is 24x16" in result.stderr


def test_photos_given_as_masks_are_blamed_as_masks(tmp_path):
    """--gt pointing at the photos: the message names the ground-truth mask, not a map, and
    gives no advice about `dofkit map`; a colour map is still called a map."""
    images, gt, maps = dataset(tmp_path)
    colour = np.dstack([TRUTH, TRUTH * 0, TRUTH * 0])
    for stem in "ab":
        write_image(images / f"{stem}.png", colour)
    result = run(images, images, "--maps", str(maps))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines == [f"dofkit: error: {images / stem}.png: ground-truth mask is in colour "
                     "(a photo given as the mask?); a mask is grey, 255 = in focus"
                     for stem in "ab"]
    write_image(maps / "a.png", colour)
    as_map = run(gt, gt, "--maps", str(maps))
    assert f"{maps / 'a.png'}: map is in colour" in as_map.stderr
    assert "ground-truth" not in as_map.stderr


def test_json_when_nothing_can_be_scored(tmp_path):
    images, gt, _ = dataset(tmp_path)
    (tmp_path / "empty").mkdir()
    result = run(images, gt, "--maps", str(tmp_path / "empty"), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"method": str(tmp_path / "empty"), "count": 0,
                                         "mean": {"mae": None, "f05": None, "fmax": None},
                                         "images": []}
    assert result.stderr.count("dofkit: error:") == 2 and "dofkit eval:" not in result.stderr


def test_quiet_leaves_only_errors_on_stderr(tmp_path):
    images, gt, maps = dataset(tmp_path)
    result = run(images, gt, "--maps", str(maps), "--json", "-q")
    assert result.exit_code == 0 and result.stderr == ""
    assert json.loads(result.stdout)["count"] == 2
    (maps / "b.png").unlink()
    result = run(images, gt, "--maps", str(maps), "--quiet")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == f"dofkit: error: {maps}: no file for 'b'\n"


def test_the_table_title_counts_in_words(tmp_path):
    images, gt, maps = dataset(tmp_path, "a")
    result = run(images, gt, "--maps", str(maps))
    assert result.exit_code == 0 and f"{maps} on 1 image\n" in result.stderr
    images, gt, maps = dataset(tmp_path, "ab")
    assert f"{maps} on 2 images\n" in run(images, gt, "--maps", str(maps)).stderr


def test_read_mask_names_the_file(tmp_path):
    from dofkit.evaluate import read_mask

    path = tmp_path / "m.png"
    cv2.imwrite(str(path), np.ones((4, 4), np.uint8))
    with pytest.raises(ImageError, match="m.png: ground-truth mask values are only 0 and 1"):
        read_mask(path, (4, 4), tmp_path / "p.png")
