"""The `dofkit` command: map and eval through typer's runner, and start-up cost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from dofkit.cli import app
from dofkit.focus import DEVICES, METHODS
from dofkit.io import encode_image, open_image, write_image
from tests.conftest import run_on_terminal, textured

DBD = Path(__file__).resolve().parents[2] / "shared" / "data" / "dbd-real"
runner = CliRunner()


@pytest.fixture
def photo(tmp_path, half_sharp) -> Path:
    path = tmp_path / "photo.png"
    write_image(path, half_sharp[0])
    return path


def test_version_and_help_do_not_import_torch():
    code = ("import sys; from dofkit.cli import app; from typer.testing import CliRunner; "
            "r = CliRunner(); assert r.invoke(app, ['--version']).exit_code == 0; "
            "assert r.invoke(app, ['--help']).exit_code == 0; "
            "assert r.invoke(app, ['map', '--help']).exit_code == 0; "
            "print('torch' in sys.modules, 'moderngl' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


INTERRUPTED_LOAD = """
import builtins, sys
loaded = sorted(name for name in ("numpy", "cv2", "typer") if name in sys.modules)
real = builtins.__import__
def load(name, *arguments, **options):  # a Ctrl-C while the command line loads
    if name == "cli":
        raise KeyboardInterrupt
    return real(name, *arguments, **options)
builtins.__import__ = load
print(loaded, flush=True)
main()
"""


def test_a_ctrl_c_while_the_command_loads_is_one_line():
    """The entry point loads nothing heavy before its guard (a Ctrl-C in the first second of
    a run printed a traceback from inside numpy's import)."""
    done = subprocess.run([sys.executable, "-c", "from dofkit.__main__ import main\n"
                           + INTERRUPTED_LOAD], capture_output=True, text=True)
    assert (done.returncode, done.stdout, done.stderr) == (130, "[]\n",
                                                           "dofkit: error: interrupted\n")


def help_lines(arguments: list[str], width: int) -> list[str]:
    """``dofkit ARGUMENTS --help`` in a terminal ``width`` columns wide (a process of its own:
    the test runner fixes the width of help at 80)."""
    result = subprocess.run([sys.executable, "-m", "dofkit", *arguments, "--help"],
                            capture_output=True, text=True, check=True,
                            env={**os.environ, "COLUMNS": str(width)})
    return result.stdout.splitlines()


@pytest.mark.parametrize("width", [80, 120])
def test_help_is_flowed_to_the_terminal(width):
    """Help paragraphs fill the lines (not the docstring's own breaks), nothing is wider than
    the terminal, value names stay whole, and command summaries are complete."""
    lines = help_lines(["video"], width)
    assert max(map(len, lines)) <= width
    start = next(i for i, line in enumerate(lines) if "The focus map of each frame" in line)
    end = next(i for i in range(start, len(lines)) if not lines[i].strip())
    paragraph = [line.rstrip() for line in lines[start:end]]
    for line, after in zip(paragraph, paragraph[1:]):  # the next word did not fit (click
        assert len(line) + 1 + len(after.split()[0]) > width - 2  # keeps two columns free)
    text = "\n".join(lines)
    assert "--mode [map|stylize|roi|detect]" in text
    assert "--style [toon|painterly|sketch|focus-pop]" in text
    summaries = " ".join(" ".join(help_lines([], width)).split())
    assert "keeping the frame rate, the frame count and the audio track." in summaries


def test_no_arguments_show_the_help_alone():
    result = subprocess.run([sys.executable, "-m", "dofkit"], capture_output=True, text=True)
    assert result.returncode == 2 and result.stderr.startswith("Usage: dofkit")
    assert "error" not in result.stderr and "  map " in result.stderr


def test_help_names_the_choices_of_method_and_device():
    text = "\n".join(help_lines(["map"], 100))
    assert f"--method [{'|'.join(METHODS)}]" in text and f"--device [{'|'.join(DEVICES)}]" in text


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("dofkit ")


def test_map_grey(photo, tmp_path):
    out = tmp_path / "map.png"
    result = runner.invoke(app, ["map", str(photo), "-o", str(out), "--method", "analytic"])
    assert result.exit_code == 0, result.output
    focus = open_image(out)
    assert focus.size == (128, 96) and focus.bit_depth == 8
    assert focus.rgb[:, :40].mean() > focus.rgb[:, 88:].mean() + 0.3


def test_map_sixteen_bit_rainbow_and_overlay(photo, tmp_path):
    runner.invoke(app, ["map", str(photo), "-o", str(tmp_path / "m16.png"), "-m", "paper",
                        "--depth", "16"])
    assert open_image(tmp_path / "m16.png").bit_depth == 16
    result = runner.invoke(app, ["map", str(photo), "-o", str(tmp_path / "r.png"), "-m",
                                 "analytic", "-c", "rainbow"])
    assert result.exit_code == 0
    view = open_image(tmp_path / "r.png").rgb
    left, right = view[:, 8:40].reshape(-1, 3).mean(0), view[:, 90:].reshape(-1, 3).mean(0)
    assert left[0] > left[2] and right[2] > right[0]  # red = in focus, blue = defocused
    result = runner.invoke(app, ["map", str(photo), "-o", str(tmp_path / "o.jpg"), "-m",
                                 "analytic", "--overlay"])
    assert result.exit_code == 0 and open_image(tmp_path / "o.jpg").size == (128, 96)


def test_map_batch_goes_on_after_a_bad_input(photo, tmp_path):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    out_dir = tmp_path / "maps"
    result = runner.invoke(app, ["map", str(photo), str(empty), "--out-dir", str(out_dir),
                                 "-m", "analytic"])
    assert result.exit_code == 1
    assert "empty.jpg: empty file" in result.stderr
    assert "Traceback" not in result.output
    assert (out_dir / "photo.png").exists() and not (out_dir / "empty.png").exists()


def test_summary_of_a_batch_all_skipped_has_no_rate(photo, tmp_path):
    other = tmp_path / "other.png"
    other.write_bytes(photo.read_bytes())
    arguments = ["map", str(photo), str(other), "--out-dir", str(tmp_path / "maps"), "-m",
                 "analytic"]
    assert "/s)" in runner.invoke(app, arguments).stderr
    result = runner.invoke(app, [*arguments, "--skip-existing"])
    assert result.exit_code == 0, result.output
    summary = result.stderr.strip().splitlines()[-1]
    assert "0 done, 0 failed, 2 skipped in" in summary and "/s" not in summary


@pytest.mark.parametrize("stdout_terminal", [True, False])
def test_json_lines_of_a_batch_reach_stdout_and_no_bar_draws_over_them(photo, tmp_path,
                                                                        stdout_terminal):
    """With stderr on a terminal, `roi --json` lines go to stdout whatever it is (not
    through the bar's console); on a terminal they come without the live bar."""
    other = tmp_path / "other.png"
    other.write_bytes(photo.read_bytes())
    shown, piped = run_on_terminal("roi", str(photo), str(other), "--json", "-m", "analytic",
                                   stdout_terminal=stdout_terminal)
    lines = (shown if stdout_terminal else piped).splitlines()
    assert sum(line.startswith('{"image": ') for line in lines) == 2, (shown, piped)
    assert ("\x1b[?25l" in shown) is not stdout_terminal  # a live bar hides the cursor


def test_map_refuses_to_overwrite_its_input(photo):
    before = photo.read_bytes()
    result = runner.invoke(app, ["map", str(photo), "-o", str(photo), "-m", "analytic"])
    assert result.exit_code == 2 and "refusing to overwrite an input" in result.stderr
    assert photo.read_bytes() == before


def test_map_stdin_to_stdout(half_sharp):
    data = encode_image(half_sharp[0], ".png")
    result = runner.invoke(app, ["map", "-", "-o", "-", "-m", "analytic"], input=data)
    assert result.exit_code == 0
    assert result.stdout_bytes.startswith(b"\x89PNG")


@pytest.mark.parametrize("arguments, message", [
    (["map", "x.png"], "exactly one of"),
    (["map", "a.png", "b.png", "-o", "c.png"], "single input"),
    (["map", "a.png", "-o", "c.png", "--method", "magic"], "method must be one of"),
    (["map", "a.png", "-o", "c.png", "--depth", "12"], "--depth must be 8 or 16"),
])
def test_map_usage_errors(arguments, message, tmp_path, monkeypatch):
    """Options refused by the CLI or by the library are usage errors, like click's: exit 2."""
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, arguments)
    assert result.exit_code == 2 and message in result.stderr


def test_an_output_format_dofkit_cannot_write_is_refused_before_any_work(photo, tmp_path):
    result = runner.invoke(app, ["map", str(photo), "-o", str(tmp_path / "m.xyz"), "-m",
                                 "analytic"])
    assert result.exit_code == 2 and "m.xyz: cannot write '.xyz' files" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_files_that_cannot_be_used_exit_1(tmp_path):
    result = runner.invoke(app, ["map", str(tmp_path / "gone.png"), "-o", str(tmp_path / "m.png"),
                                 "-m", "analytic"])
    assert result.exit_code == 1 and "gone.png: no such file" in result.stderr
    result = runner.invoke(app, ["map", "--from", str(tmp_path / "gone.txt"), "--out-dir",
                                 str(tmp_path), "-m", "analytic"])
    assert result.exit_code == 1 and "gone.txt: cannot read the list" in result.stderr


def test_eval_json_on_given_maps(tmp_path):
    images, gt, maps = (tmp_path / name for name in ("img", "gt", "maps"))
    for folder in (images, gt, maps):
        folder.mkdir()
    truth = np.zeros((8, 8), np.float32)
    truth[:, :4] = 1.0
    write_image(images / "a.jpg", np.zeros((8, 8, 3), np.float32))
    write_image(gt / "a.png", truth)
    write_image(maps / "a.png", truth)
    result = runner.invoke(app, ["eval", "--images", str(images), "--gt", str(gt), "--maps",
                                 str(maps), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["mean"] == {"mae": 0.0, "f05": 1.0, "fmax": 1.0}
    both = runner.invoke(app, ["eval", "--images", str(images), "--gt", str(gt), "--maps",
                               str(maps), "--method", "paper"])
    assert both.exit_code == 2 and "--method does nothing with --maps" in both.stderr


def test_eval_missing_ground_truth(tmp_path):
    (tmp_path / "img").mkdir()
    (tmp_path / "gt").mkdir()
    write_image(tmp_path / "img" / "a.png", np.zeros((4, 4, 3), np.float32))
    result = runner.invoke(app, ["eval", "--images", str(tmp_path / "img"), "--gt",
                                 str(tmp_path / "gt"), "-m", "analytic"])
    assert result.exit_code == 1 and "no file for 'a'" in result.stderr
    given_the_dataset = runner.invoke(app, ["eval", "--images", str(tmp_path), "--gt",
                                            str(tmp_path), "-m", "analytic"])
    assert given_the_dataset.exit_code == 1
    assert "no images found (it holds a dataset: its img/ and gt/" in given_the_dataset.stderr


def test_eval_scores_the_others_when_a_mask_is_missing_doubled_or_in_colour(tmp_path):
    images, gt, maps = (tmp_path / name for name in ("img", "gt", "maps"))
    truth = np.zeros((8, 8), np.float32)
    truth[:, :4] = 1.0
    for stem in "abcde":
        write_image(images / f"{stem}.png", np.zeros((8, 8, 3), np.float32))
        write_image(maps / f"{stem}.png", truth)
    write_image(gt / "a.png", truth)
    write_image(gt / "c.png", np.dstack([truth, truth * 0, truth * 0]))  # red = in focus
    write_image(gt / "d.png", truth)
    write_image(gt / "d.jpg", truth)
    write_image(gt / "e.PNG", truth)
    result = runner.invoke(app, ["eval", "--images", str(images), "--gt", str(gt), "--maps",
                                 str(maps), "--json"])
    assert result.exit_code == 1
    assert [row["image"] for row in json.loads(result.stdout)["images"]] == [
        str(images / "a.png"), str(images / "e.png")]
    assert "no file for 'b'" in result.stderr
    assert "c.png: ground-truth mask is in colour" in result.stderr
    assert "several files for 'd' (d.jpg, d.png)" in result.stderr


@pytest.mark.skipif(not DBD.is_dir(), reason="shared dbd-real data not present")
def test_eval_analytic_beats_baselines_on_dbd_real():
    """The issue's bar for the analytic method: MAE <= 0.18 and F05 >= 0.87 on dbd-real."""
    result = runner.invoke(app, ["eval", "--images", str(DBD / "img"), "--gt", str(DBD / "gt"),
                                 "--method", "analytic", "--json"])
    means = json.loads(result.stdout)["mean"]
    assert means["mae"] <= 0.18 and means["f05"] >= 0.87


def test_map_depth_16_needs_a_format_that_holds_it(tmp_path):
    source = tmp_path / "in.png"
    write_image(source, np.random.default_rng(0).random((20, 30, 3)).astype(np.float32))
    result = runner.invoke(app, ["map", str(source), "-o", str(tmp_path / "m.jpg"),
                                 "--depth", "16", "-m", "analytic"])
    assert result.exit_code == 2 and "--depth 16 needs a PNG or TIFF output" in result.stderr
    assert not (tmp_path / "m.jpg").exists()


def test_stylize_in_out_never_replaces_an_existing_file(tmp_path):
    """`stylize A B` with B an existing photo reads like two inputs: refused without
    --overwrite, and B is untouched."""
    photo = tmp_path / "b.png"
    original = (textured(40, 50, seed=9) * 255).astype(np.uint8)
    cv2.imwrite(str(photo), original)
    before = photo.read_bytes()
    source = tmp_path / "a.png"
    cv2.imwrite(str(source), original)
    result = subprocess.run([sys.executable, "-m", "dofkit", "stylize", str(source), str(photo),
                             "-m", "analytic", "--backend", "cpu"], capture_output=True, text=True)
    assert result.returncode != 0 and "--overwrite" in result.stderr
    assert photo.read_bytes() == before


def test_side_outputs_to_stdout_for_one_input(photo, tmp_path):
    """--overlay - writes the picture to stdout for one input; with --json (which takes
    stdout) or beside OUT '-' it is refused naming both; an output written twice for one
    input says which two."""
    shown = runner.invoke(app, ["roi", str(photo), "--overlay", "-", "--method", "analytic"])
    assert shown.exit_code == 0, shown.output
    assert shown.stdout_bytes.startswith(b"\x89PNG")
    both = runner.invoke(app, ["roi", str(photo), "--overlay", "-", "--json", "-m", "analytic"])
    assert both.exit_code == 2
    assert "--overlay '-' and --json would both write to stdout" in both.stderr
    twice = runner.invoke(app, ["stylize", str(photo), "-", "--save-map", "-", "-m", "analytic"])
    assert twice.exit_code == 2 and "two outputs would go to stdout" in twice.stderr
    same = tmp_path / "same.png"
    clash = runner.invoke(app, ["stylize", str(photo), str(same), "--save-map", str(same),
                                "-m", "analytic"])
    assert clash.exit_code == 2 and not same.exists()
    assert f"the styled and the map of {photo} would both be written here" in clash.stderr


def test_a_full_stdout_is_one_line_naming_it(tmp_path):
    image = tmp_path / "a.png"
    cv2.imwrite(str(image), (np.random.default_rng(0).random((40, 60, 3)) * 255).astype(np.uint8))
    with open("/dev/full", "wb") as full:
        result = subprocess.run([sys.executable, "-m", "dofkit", "roi", str(image), "--json",
                                 "--method", "analytic"], stdout=full, stderr=subprocess.PIPE,
                                text=True)
    assert result.returncode == 1, result.stderr
    assert "stdout: cannot write (No space left on device)" in result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr


def test_eval_goes_on_after_a_broken_image_and_exits_1(tmp_path):
    images, gt = tmp_path / "img", tmp_path / "gt"
    images.mkdir(), gt.mkdir()
    truth = np.zeros((8, 8), np.float32)
    truth[:, :4] = 1.0
    for stem in ("a", "b"):
        write_image(images / f"{stem}.png", textured(8, 8))
        write_image(gt / f"{stem}.png", truth)
    (images / "b.png").write_bytes((images / "b.png").read_bytes()[:60])  # truncated
    result = runner.invoke(app, ["eval", "--images", str(images), "--gt", str(gt), "-m",
                                 "analytic", "--json"])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1
    assert errors[0].startswith(f"dofkit: error: {images / 'b.png'}: truncated or corrupt")
    document = json.loads(result.stdout)
    assert document["count"] == 1 and document["images"][0]["image"] == str(images / "a.png")


def test_save_map_into_a_folder_follows_the_name_template(tmp_path):
    """Two inputs of one stem: --name tells their outputs apart, and their maps too."""
    for suffix in (".jpg", ".png"):
        write_image(tmp_path / f"a{suffix}", textured(24, 32))
    result = runner.invoke(app, ["stylize", str(tmp_path / "a.jpg"), str(tmp_path / "a.png"),
                                 "--out-dir", str(tmp_path / "out"), "--name",
                                 "{name}-{style}.png", "--save-map", str(tmp_path / "maps"),
                                 "-m", "analytic", "--backend", "cpu"])
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "maps").iterdir()) == ["a.jpg-toon.png",
                                                                    "a.png-toon.png"]


@pytest.mark.parametrize("setting, problem", [
    ("fade=0.5", None), ("levels=3", None), ("levels=3.0", None), ("edge-sigma=1.5", None),
    ("fade=abc", "fade must be a number in [0, 1]; got 'abc'"),
    ("fade=true", "fade must be a number in [0, 1]; got 'true'"),
    ("levels=2.5", "levels must be a whole number in [0, 32]; got '2.5'"),
    ("fade=nan", "fade must be a number in [0, 1]; got 'nan'")])
def test_set_takes_text_numbers(photo, tmp_path, setting, problem):
    """--set values arrive as text: numbers in range are taken, anything else refused naming
    the parameter (the library itself takes numbers only)."""
    out = tmp_path / "out.png"
    result = runner.invoke(app, ["stylize", str(photo), str(out), "-m", "analytic",
                                 "--backend", "cpu", "--set", setting])
    if problem is None:
        assert result.exit_code == 0, result.output
        assert out.exists()
    else:
        assert result.exit_code == 2 and problem in result.stderr
        assert not out.exists()


def test_parse_setting_gives_numbers():
    from dofkit.errors import ParameterError
    from dofkit.render.styles import parse_setting

    assert parse_setting(" fade = 0.25 ") == ("fade", 0.25)
    assert parse_setting("levels=4") == ("levels", 4)
    assert parse_setting("edge-sigma=2") == ("edge_sigma", 2.0)
    with pytest.raises(ParameterError) as caught:
        parse_setting("radius=x")
    assert caught.value.parameter == "radius"
