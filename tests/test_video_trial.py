"""`dofkit video`: colours of HD and SD video, a second Ctrl-C, over-long names, focus options
that a method does not read, variable frame rates cut by --start/--duration, re-used sequence
folders, and a few messages. Clips are made here with PyAV, a few frames each."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from typer.testing import CliRunner

from dofkit.cli import app
from dofkit.video import open_sink, open_source, process
from tests.test_video import writing

runner = CliRunner()
#: Colour bars: red, green, blue, yellow, cyan, magenta, an orange-brown, grey (8-bit RGB).
BARS = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [0, 255, 255],
                 [255, 0, 255], [200, 120, 60], [128, 128, 128]], np.uint8)


def run(*args: str):
    return runner.invoke(app, ["video", *map(str, args)])


def bars(width: int, height: int) -> np.ndarray:
    """uint8 RGB (H, W, 3): the eight :data:`BARS` side by side."""
    image = np.zeros((height, width, 3), np.uint8)
    for k, colour in enumerate(BARS):
        image[:, k * width // 8:(k + 1) * width // 8] = colour
    return image


def bar_colours(rgb: np.ndarray) -> np.ndarray:
    """The colour (int RGB) at the middle of each of the eight bars of ``rgb``."""
    height, width = rgb.shape[:2]
    return np.array([rgb[height // 2, k * width // 8 + width // 16] for k in range(8)], int)


def make_bars(path: Path, size: tuple[int, int], matrix: str, *, tagged: bool,
              frames: int = 2) -> Path:
    """A clip of colour bars whose YUV is made with ``matrix`` ("ITU709", "ITU601"),
    limited range, and tagged with it when ``tagged`` (else no colour tags at all)."""
    tag = 1 if matrix == "ITU709" else 6
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=10, options={"crf": "10"})
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        if tagged:
            context = video.codec_context
            context.colorspace = context.color_primaries = context.color_trc = tag
            context.color_range = 1
        for index in range(frames):
            picture = av.VideoFrame.from_ndarray(bars(*size), "rgb24").reformat(
                format="yuv420p", dst_colorspace=matrix, dst_color_range="MPEG")
            picture.colorspace = tag if tagged else 2
            picture.color_range = 1 if tagged else 0
            picture.pts = index
            container.mux(video.encode(picture))
        container.mux(video.encode(None))
    return path


def as_a_player_shows(path: Path) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The first frame of ``path`` decoded by FFmpeg as its tags say (uint8 RGB), and the
    stream's (matrix, primaries, transfer, range) tags."""
    with av.open(str(path)) as container:
        context = container.streams.video[0].codec_context
        tags = (context.colorspace, context.color_primaries, context.color_trc,
                context.color_range)
        frame = next(container.decode(video=0))
    return frame.to_ndarray(format="rgb24"), tags


# ----------------------------------------------------------------------------------- colours

@pytest.mark.parametrize("size, matrix, tags", [
    ((1280, 720), "ITU709", (1, 1, 1, 1)),   # HD: BT.709 everywhere, limited range
    ((320, 240), "ITU601", (6, 6, 6, 1)),    # SD: BT.601 (SMPTE 170M)
])
def test_colours_survive_a_run_and_the_output_says_its_colours(tmp_path, size, matrix, tags):
    """Bars made and tagged as cameras do come out the same colours in a player that reads
    the tags (FFmpeg), and the output is tagged with the matrix players assume for its size,
    so those that guess agree; 0,255,0 stays green, not 0,214,0."""
    source = make_bars(tmp_path / "bars.mp4", size, matrix, tagged=True)
    target = tmp_path / "out.mp4"
    with open_source(str(source)) as video:
        sink = open_sink(str(target), records=False, size=video.size, rate=video.rate)
        process(video, sink, lambda frame: frame.rgb)
    shown, written = as_a_player_shows(target)
    assert written == tags
    assert np.abs(bar_colours(shown) - BARS).max() <= 4, bar_colours(shown)


@pytest.mark.parametrize("size, matrix", [((1280, 720), "ITU709"), ((320, 240), "ITU601"),
                                          ((640, 360), "ITU601")])
@pytest.mark.parametrize("tagged", [True, False])
def test_frames_are_read_with_their_own_matrix_or_the_one_players_assume(tmp_path, size,
                                                                         matrix, tagged):
    """A tagged clip is read with its tags; an untagged one with the matrix players assume
    for its size (BT.709 from 1280 wide or 577 high, else BT.601)."""
    source = make_bars(tmp_path / "bars.mp4", size, matrix, tagged=tagged)
    with open_source(str(source)) as video:
        rgb = next(video.frames()).rgb
    got = bar_colours(np.round(rgb * 255))
    assert np.abs(got - BARS).max() <= 4, got


# ------------------------------------------------------------------------ a second Ctrl-C

def make_clip(path: Path, frames: int = 12, size: tuple[int, int] = (64, 48),
              times_ms: list[int] | None = None) -> Path:
    """A small clip of random texture at 10 frames/s (or shown at ``times_ms``)."""
    rng = np.random.default_rng(3)
    times_ms = times_ms or [100 * index for index in range(frames)]
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=10)
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        video.codec_context.time_base = Fraction(1, 1000)
        for at in times_ms:
            picture = av.VideoFrame.from_ndarray(
                rng.integers(0, 256, (size[1], size[0], 3), np.uint8), "rgb24")
            picture.pts, picture.time_base = at, Fraction(1, 1000)
            container.mux(video.encode(picture))
        container.mux(video.encode(None))
    return path


def test_a_second_stop_signal_aborts_also_when_the_signal_was_ignored(tmp_path):
    """A background job of a script starts with SIGINT ignored: the first Ctrl-C stops
    cleanly, the second must still abort (not be ignored) and drop the unfinished file."""
    from dofkit.video import interrupt_flag

    source = make_clip(tmp_path / "clip.mp4")
    target = tmp_path / "out" / "out.mp4"

    def work(frame):
        if frame.index == 2:
            for _ in range(2):
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)  # the handler runs between the two
        return frame.rgb

    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with open_source(str(source)) as video, interrupt_flag() as stopped:
            sink = open_sink(str(target), records=False, size=video.size, rate=video.rate)
            with pytest.raises(KeyboardInterrupt):
                process(video, sink, work, stop=stopped)
    finally:
        signal.signal(signal.SIGINT, before)
    assert list(target.parent.iterdir()) == []


def test_two_stop_signals_end_the_command_at_once_and_delete_the_output(tmp_path):
    """SIGINT ignored at start (a script's background job), then HUP and INT arriving
    together (held while the process is stopped): the second aborts the run, the process
    ends at once (exit 130), one line, nothing left."""
    source = make_clip(tmp_path / "long.mp4", 400)
    folder = tmp_path / "out"
    folder.mkdir()
    command = [sys.executable, "-m", "dofkit", "video", str(source), str(folder / "out.mp4"),
               "--method", "analytic", "--mode", "stylize", "--backend", "cpu"]
    child = subprocess.Popen(command, stderr=subprocess.PIPE, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not writing(child.pid, folder):
        time.sleep(0.02)
    time.sleep(0.5)
    child.send_signal(signal.SIGSTOP)
    child.send_signal(signal.SIGINT)
    child.send_signal(signal.SIGHUP)  # handled first (lower number), so INT is the second
    child.send_signal(signal.SIGCONT)
    began = time.monotonic()
    _, stderr = child.communicate(timeout=30)
    assert child.returncode == 130, stderr
    assert time.monotonic() - began < 5
    assert stderr.strip() == ("dofkit: error: interrupted twice: stopped at once; the "
                              "unfinished output is deleted")
    assert list(folder.iterdir()) == []


# ---------------------------------------------------------------------------- long names

LONG = "n" * 300


@pytest.mark.parametrize("name, mode", [
    (f"{LONG}.mp4", "map"), (f"{LONG}.jsonl", "roi"), (f"seq/{LONG}%04d.png", "map"),
    (f"{LONG}/out.mp4", "map"), (f"a/{LONG}/b/out.mp4", "map"), (LONG, "map"),
])
def test_an_output_name_too_long_is_one_line_naming_it_and_nothing_is_made(tmp_path, name,
                                                                           mode):
    source = make_clip(tmp_path / "clip.mp4", 3)
    target = tmp_path / name
    result = run(source, target, "--method", "analytic", "--mode", mode)
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"dofkit: error: {target}: cannot write "
                                                   "(File name too long"), lines
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]


def test_an_input_name_too_long_is_one_line_naming_it(tmp_path):
    for name in (f"{LONG}.mp4", f"{LONG}%04d.png"):
        result = run(tmp_path / name, tmp_path / "out.mp4", "--method", "analytic")
        assert result.exit_code == 1, result.output
        assert result.stderr.strip() == (f"dofkit: error: {tmp_path / name}: cannot read "
                                         "(File name too long)")


# ------------------------------------------------------- network options with analytic maps

@pytest.mark.parametrize("method", ["analytic", "paper"])
@pytest.mark.parametrize("option", [("--threads", "2"), ("--weights", "w.safetensors"),
                                    ("--device", "cuda")])
def test_network_options_are_refused_with_a_method_without_network(tmp_path, method, option):
    """As `dofkit map` refuses them: exit 2, one line, nothing written."""
    source = make_clip(tmp_path / "clip.mp4", 3)
    result = run(source, tmp_path / "out.mp4", "--method", method, *option)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == (f"dofkit: error: {option[0]} does nothing with --method "
                                     f"{method} (it sets the network: --method srcnn or auto)")
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]


# ------------------------------------------------------- a variable frame rate, trimmed

GAPPED_MS = [100 * i for i in range(30)] + [6000 + 100 * i for i in range(30)]


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
@pytest.mark.parametrize("window", [("--duration", "5"), ("--start", "1", "--duration", "3"),
                                    ("--start", "2.5", "--duration", "1")])
def test_a_window_ending_in_a_long_frame_gap_is_not_called_truncated(tmp_path, suffix,
                                                                     window):
    """Frames every 0.1 s, none from 2.9 s to 6 s (a phone in the dark, a paused screen
    recording): a window that ends in that gap holds every frame there is."""
    source = make_clip(tmp_path / f"gapped{suffix}", times_ms=GAPPED_MS)
    target = tmp_path / "out.mp4"
    result = run(source, target, "--method", "analytic", *window)
    assert result.exit_code == 0, result.output
    assert "ended early" not in result.stderr


# ------------------------------------------------------------- a sequence folder re-used

def test_a_sequence_folder_holding_frames_is_refused_unless_overwrite(tmp_path):
    """A second run into the folder of a longer first one: refused before anything is
    written; with --overwrite the folder holds the new run's frames only."""
    long, short = make_clip(tmp_path / "long.mp4", 8), make_clip(tmp_path / "short.mp4", 3)
    frames = tmp_path / "frames"
    assert run(long, frames, "--method", "analytic").exit_code == 0
    (frames / "notes.txt").write_text("mine")
    before = {p.name: p.stat().st_mtime_ns for p in frames.iterdir()}
    assert len(before) == 9

    result = run(short, frames, "--method", "analytic")
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == (
        f"dofkit: error: {frames}: the folder already holds 8 images of this pattern (an "
        "earlier run?); pass --overwrite to replace them (those this run does not write are "
        "deleted), or choose another folder")
    assert {p.name: p.stat().st_mtime_ns for p in frames.iterdir()} == before

    result = run(short, frames, "--method", "analytic", "--overwrite")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in frames.iterdir()) == ["000000.png", "000001.png",
                                                        "000002.png", "notes.txt"]
    pattern = tmp_path / "seq" / "f-%03d.png"
    assert run(long, pattern, "--method", "analytic").exit_code == 0
    assert run(short, pattern, "--method", "analytic").exit_code == 2
    assert run(short, pattern, "--method", "analytic", "--overwrite").exit_code == 0
    assert sorted(p.name for p in pattern.parent.iterdir()) == ["f-000.png", "f-001.png",
                                                                "f-002.png"]


def test_overwrite_is_refused_where_it_does_nothing(tmp_path):
    source = make_clip(tmp_path / "clip.mp4", 3)
    for target, mode in (("out.mp4", "map"), ("out.jsonl", "roi")):
        result = run(source, tmp_path / target, "--method", "analytic", "--mode", mode,
                     "--overwrite")
        assert result.exit_code == 2, result.output
        assert "--overwrite applies to an image-sequence output only" in result.stderr


# ------------------------------------------------------------------------------- messages

def test_stdin_and_the_input_as_output_are_usage_errors(tmp_path):
    source = make_clip(tmp_path / "clip.mp4", 3)
    result = run("-", tmp_path / "out.mp4", "--method", "analytic")
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == ("dofkit: error: '-': video is not read from stdin (it "
                                     "is read in several passes); give a file, a folder or a "
                                     "printf pattern")
    result = run(source, source, "--method", "analytic")
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == (f"dofkit: error: {source}: is the input; write the "
                                     "output under another name")
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]


def test_sinks_refuse_frames_and_records_they_would_write_changed(tmp_path):
    """A frame of another size was stretched to the video's, a uint8 one written near white;
    a record with a numpy number failed with a TypeError and NaN wrote invalid JSON."""
    from dofkit.errors import ParameterError
    from dofkit.video import Frame

    video = open_sink(str(tmp_path / "out.mp4"), records=False, size=(32, 24), rate=Fraction(25))
    for values in (np.zeros((24, 30, 3), np.float32), np.zeros((24, 32, 3), np.uint8)):
        with pytest.raises(ParameterError, match="^values "):
            video.write(Frame(0, 0.0, None), values)
    video.discard()
    lines = open_sink(str(tmp_path / "out.jsonl"), records=True, size=(32, 24),
                      rate=Fraction(25))
    lines.write(Frame(0, 0.0, None), {"score": np.float32(0.5), "box": np.array([1, 2])})
    with pytest.raises(ParameterError, match="is not JSON"):
        lines.write(Frame(1, 0.04, None), {"score": float("nan")})
    written = lines.finish().read_text().splitlines()
    assert [json.loads(line) for line in written] == [
        {"frame": 0, "time": 0.0, "score": 0.5, "box": [1, 2]}]
