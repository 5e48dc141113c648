"""Output names a new user got wrong: crops of inputs that share a stem, `--name` for the
ROI command, `--map` folders named as `--save-map` or `dofkit map --name` wrote them, '-'
where a folder is needed, a report named like a photo, stdin asked for twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dofkit.cli import app
from dofkit.io import write_image

runner = CliRunner()


def run(*arguments):
    return runner.invoke(app, [str(a) for a in arguments])


@pytest.fixture
def twins(tmp_path, half_sharp) -> list[Path]:
    """a/x.png and b/x.png: two photos with one stem."""
    paths = [tmp_path / "a" / "x.png", tmp_path / "b" / "x.png"]
    for path in paths:
        write_image(path, half_sharp[0])
    return paths


def test_crops_of_inputs_sharing_a_stem_are_refused_before_anything_is_written(twins, tmp_path):
    crops = tmp_path / "crops"
    result = run("roi", *twins, "--crop-dir", crops, "-m", "analytic")
    assert result.exit_code == 2
    assert "the crops of" in result.stderr and "--name" in result.stderr
    assert not crops.exists()


def test_roi_names_its_crops_and_overlays_from_a_template(twins, tmp_path):
    crops, drawn = tmp_path / "crops", tmp_path / "drawn"
    result = run("roi", *twins, "--crop-dir", crops, "--overlay", drawn, "-m", "analytic",
                 "--name", "{parent}-{stem}")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in drawn.iterdir()) == ["a-x.png", "b-x.png"]
    assert {p.name.split("-roi")[0] for p in crops.iterdir()} == {"a-x", "b-x"}
    alone = run("roi", twins[0], "--name", "{stem}.png", "-m", "analytic")
    assert alone.exit_code == 2 and "--crop-dir or --overlay folder" in alone.stderr


def test_a_map_folder_is_read_under_the_names_it_was_written_with(tmp_path, half_sharp):
    photos = tmp_path / "in"
    for stem in ("p", "q"):
        write_image(photos / f"{stem}.png", half_sharp[0])
    template = "{parent}-{stem}-{style}.jpg"
    saved = run("stylize", photos, "--out-dir", tmp_path / "s", "--name", template,
                "--save-map", tmp_path / "maps", "-m", "analytic", "--backend", "cpu")
    assert saved.exit_code == 0, saved.stderr
    again = run("stylize", photos, "--out-dir", tmp_path / "s2", "--name", template,
                "--map", tmp_path / "maps", "--backend", "cpu")
    assert again.exit_code == 0, again.stderr
    assert sorted(p.name for p in (tmp_path / "s2").iterdir()) == ["in-p-toon.jpg",
                                                                  "in-q-toon.jpg"]
    tiffs = run("map", photos, "--out-dir", tmp_path / "t", "--name", "{stem}.tif",
                "-m", "analytic")
    assert tiffs.exit_code == 0
    assert run("roi", photos, "--map", tmp_path / "t").exit_code == 0  # <stem>.tif found
    write_image(tmp_path / "t" / "p.png", half_sharp[1])
    both = run("roi", photos, "--map", tmp_path / "t")
    assert both.exit_code == 2 and "are maps of one input" in both.stderr


def test_a_dash_where_a_folder_is_needed_is_refused(twins, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for arguments in (("roi", twins[0], "--crop-dir", "-"),
                      ("stylize", *twins, "--out-dir", "-")):
        result = run(*arguments, "-m", "analytic")
        assert result.exit_code == 2 and "'-'" in result.stderr, arguments
    assert not (tmp_path / "-").exists()
    (tmp_path / "-").mkdir()  # a folder named '-' does not stop the IN OUT form's stdout
    result = run("stylize", twins[0], "-", "-m", "analytic", "--backend", "cpu")
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes.startswith(b"\x89PNG")


def test_a_report_named_like_a_photo_is_refused(twins, tmp_path):
    photo = tmp_path / "holiday.jpg"
    photo.write_bytes(b"precious")
    result = run("map", twins[0], "--out-dir", tmp_path / "o", "--report", photo,
                 "-m", "analytic")
    assert result.exit_code == 2 and "--report" in result.stderr
    assert photo.read_bytes() == b"precious"


def test_stdin_cannot_be_both_an_image_and_the_list(twins):
    result = runner.invoke(app, ["map", "-", "--from", "-", "-o", "out.png"],
                           input=twins[0].read_bytes())
    assert result.exit_code == 2
    assert "stdin ('-') cannot carry both an image and the --from list" in result.stderr


def test_detect_names_its_overlays_from_a_template(twins, tmp_path):
    drawn = tmp_path / "drawn"
    result = run("detect", *twins, "--overlay", drawn, "--name", "{parent}-{stem}",
                 "-m", "analytic")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in drawn.iterdir()) == ["a-x.png", "b-x.png"]
    unused = run("detect", twins[0], "--name", "{stem}", "-m", "analytic")
    assert unused.exit_code == 2 and "--overlay folder" in unused.stderr


def test_stylize_without_an_output_names_its_three_forms(twins):
    for arguments in ((twins[0],), (*twins, twins[0])):
        result = run("stylize", *arguments)
        assert result.exit_code == 2
        assert "`dofkit stylize IN OUT`" in result.stderr and "--out-dir" in result.stderr


def test_stylize_in_out_with_the_input_as_out_says_so(twins):
    result = run("stylize", twins[0], twins[0])  # it said the output exists: --overwrite
    assert result.exit_code == 2
    assert result.stderr == f"dofkit: error: {twins[0]} is the input itself: give the " \
                            "output another name\n"


def test_a_glob_or_folder_that_gives_no_image_is_named(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run("map", str(tmp_path / "empty" / "*.png"), tmp_path / "empty", "--out-dir",
                 tmp_path / "o")
    assert result.exit_code == 2
    assert f"'{tmp_path / 'empty' / '*.png'}', '{tmp_path / 'empty'}' gave none" in result.stderr
