"""`dofkit video` and dofkit.video on short clips the tests make themselves with PyAV: a
textured square moving over a blurred background (96x64, 12 frames/s), with or without audio.

Stability criterion: on a static shot with independent per-frame noise, the mean absolute
frame-to-frame change of the map with the default smoothing (0.7) is at least 3x lower than
without smoothing (theory for an exponential average at full confidence: 4.3x).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import run_on_terminal, textured
from dofkit.cli import app
from dofkit.errors import ImageError, ParameterError
from dofkit.focus import FocusEstimator
from dofkit.io import read_image
from dofkit.synth import defocus
from dofkit.video import Frame, FrameMaps, TemporalSmoother, open_sink, open_source, process
from dofkit.video.io import frame_path

H, W, RATE = 64, 96, 12
runner = CliRunner()


def scene(index: int, *, moving: bool = True, seed: int = 0, height: int = H,
          width: int = W) -> np.ndarray:
    """Frame ``index`` (float32 RGB (H, W, 3)): a sharp 32x32 texture square moving 2 px per
    frame to the right over a disc-blurred background panning 1 px per frame."""
    room = (width - width // 8 - 32) // 2  # steps before the square reaches the right edge
    step = index % (room + 1) if moving else 0
    background = defocus(textured(height, width + 48, seed=seed + 1), 4.0)
    frame = background[:, step:step + width].copy()
    top, left = height // 4, width // 8 + 2 * step
    square = frame[top:top + 32, left:left + 32]  # clipped in frames smaller than the square
    square[:] = textured(32, 32, seed=seed + 2)[:square.shape[0], :square.shape[1]]
    return frame


def make_video(path: Path, frames: int = 24, *, audio: str | None = None, moving: bool = True,
               noise: float = 0.0, size: tuple[int, int] = (W, H), rotation: int = 0,
               hflip: bool = False, vflip: bool = False, offset: int = 0,
               audio_delay: float = 0.0, aspect: Fraction | None = None) -> Path:
    """Write a clip of ``frames`` frames at :data:`RATE`; ``audio`` = an audio codec name
    (a 440 Hz tone, 16 kHz mono, as long as the video); ``noise`` = per-frame Gaussian
    noise sigma (0-1); ``rotation`` (degrees counter-clockwise), ``hflip``, ``vflip``: the
    display matrix; ``offset``: s at which the timestamps of video and audio start;
    ``audio_delay``: s by which the audio starts after the video; ``aspect``: the sample
    (pixel) aspect ratio."""
    rng = np.random.default_rng(7)
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=RATE, options={"crf": "12"})
        video.width, video.height = size
        if rotation or hflip or vflip:
            video.set_display_rotation(rotation, hflip=hflip, vflip=vflip)
        if aspect is not None:
            video.codec_context.sample_aspect_ratio = aspect
        video.pix_fmt = "yuv420p" if size[0] % 2 == 0 and size[1] % 2 == 0 else "yuv444p"
        sound = None if audio is None else container.add_stream(audio, rate=16000,
                                                                 layout="mono")
        for index in range(frames):
            rgb = scene(index, moving=moving, height=size[1], width=size[0])
            rgb = np.clip(rgb + rng.normal(0, noise, rgb.shape), 0, 1) if noise else rgb
            picture = av.VideoFrame.from_ndarray((rgb * 255 + 0.5).astype(np.uint8), "rgb24")
            picture.pts, picture.time_base = index + offset * RATE, Fraction(1, RATE)
            container.mux(video.encode(picture))
        container.mux(video.encode(None))
        if sound is not None:
            samples = 16000 * frames // RATE
            tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(samples) / 16000)
            for begin in range(0, samples, 1024):
                chunk = tone[begin:begin + 1024].astype(np.float32)[None]
                block = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
                block.sample_rate = 16000
                block.pts = begin + round((offset + audio_delay) * 16000)
                container.mux(sound.encode(block))
            container.mux(sound.encode(None))
    return path


def probe(path: Path) -> dict:
    """Frame count, size, rate and audio (codec name, seconds) of a video file."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        info = dict(count=len(frames), size=(stream.width, stream.height),
                    rate=stream.average_rate, frames=frames, audio=None)
    with av.open(str(path)) as container:
        if container.streams.audio:
            stream = container.streams.audio[0]
            seconds = sum(f.samples for f in container.decode(audio=0)) / stream.sample_rate
            info["audio"] = (stream.codec_context.name, seconds)
    return info


def first_frame(path: Path, **options):
    """The first Frame ``open_source(path, **options)`` yields."""
    with open_source(str(path), **options) as source:
        return next(source.frames())


def run(*args: str):
    return runner.invoke(app, ["video", *map(str, args)])


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_video(tmp_path_factory.mktemp("clip") / "clip.mp4", audio="aac")


def leftovers(folder: Path) -> list[str]:
    """Hidden temporary files left in ``folder``."""
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


# ------------------------------------------------------------------------ video in, video out

@pytest.mark.parametrize("view", ["grey", "rainbow", "overlay"])
def test_map_keeps_count_size_rate_and_audio(clip, tmp_path, view):
    out = tmp_path / "map.mp4"
    result = run(clip, out, "--method", "analytic", "--map-view", view)
    assert result.exit_code == 0, result.output
    info = probe(out)
    assert info["count"] == 24 and info["size"] == (W, H) and info["rate"] == RATE
    assert info["audio"][0] == "aac" and info["audio"][1] == pytest.approx(2.0, abs=0.15)
    assert "24 frames" in result.stderr and not result.stdout
    assert not leftovers(tmp_path)


def test_map_shows_the_sharp_square(clip, tmp_path):
    out = tmp_path / "map.mkv"
    assert run(clip, out, "--method", "analytic").exit_code == 0
    last = probe(out)["frames"][-1].astype(np.float32) / 255  # square at x 58..90, y 16..48
    assert last[20:44, 62:86].mean() > last[:, :40].mean() + 0.3


def test_stylize_cpu(clip, tmp_path):
    out = tmp_path / "styled.mov"
    result = run(clip, out, "--mode", "stylize", "--backend", "cpu", "--method", "analytic",
                 "--duration", "0.5")
    assert result.exit_code == 0, result.output
    info = probe(out)
    assert info["count"] == 6 and info["size"] == (W, H)
    assert info["audio"][1] == pytest.approx(0.5, abs=0.1)


@pytest.mark.gl
def test_stylize_gl_matches_one_image_stylize(clip, tmp_path):
    from dofkit.errors import ResourceError
    from dofkit.render import Stylizer

    try:
        Stylizer(backend="gl").close()
    except ResourceError as exc:
        pytest.skip(f"no EGL OpenGL context: {exc}")
    out = tmp_path / "frames"
    result = run(clip, out, "--mode", "stylize", "--backend", "gl", "--method", "analytic",
                 "--smooth", "0", "--duration", "0.25")
    assert result.exit_code == 0, result.output
    frame = first_frame(clip)
    with Stylizer(backend="gl") as stylizer:
        expected = stylizer(frame.rgb, FocusEstimator("analytic")(frame.rgb))
    assert np.abs(read_image(out / "000000.png") - expected).max() <= 1 / 255 + 1e-6


def test_without_audio_and_odd_size(tmp_path):
    source = make_video(tmp_path / "odd.mkv", 5, size=(95, 63))
    out = tmp_path / "out.mp4"
    assert run(source, out, "--method", "analytic").exit_code == 0
    info = probe(out)
    assert info["count"] == 5 and info["size"] == (95, 63) and info["audio"] is None


# The display matrix and how a player shows the frame: rotation counter-clockwise, then mirrors.
UPRIGHT = [
    (dict(rotation=-90), lambda rgb: np.rot90(rgb, -1)),  # a phone's portrait clip
    (dict(rotation=90), lambda rgb: np.rot90(rgb, 1)),
    (dict(rotation=180), lambda rgb: rgb[::-1, ::-1]),
    (dict(hflip=True), lambda rgb: rgb[:, ::-1]),
    (dict(vflip=True), lambda rgb: rgb[::-1]),
    (dict(rotation=90, hflip=True), lambda rgb: np.rot90(rgb, 1)[:, ::-1]),
    (dict(rotation=-90, hflip=True), lambda rgb: np.rot90(rgb, -1)[:, ::-1]),
]


@pytest.mark.parametrize("matrix, shown", UPRIGHT)
def test_frames_are_turned_upright_by_the_display_matrix(tmp_path, matrix, shown):
    plain = first_frame(make_video(tmp_path / "plain.mp4", 3)).rgb
    turned = make_video(tmp_path / "turned.mp4", 3, **matrix)
    with open_source(str(turned)) as source:
        assert source.size == shown(plain).shape[1::-1]
        frame = next(source.frames()).rgb
    assert np.abs(frame - shown(plain)).max() <= 1 / 255 + 1e-6
    out = tmp_path / "out.mp4"
    assert run(turned, out, "--method", "analytic").exit_code == 0
    info = probe(out)
    assert info["size"] == source.size and info["count"] == 3
    with av.open(str(out)) as container:  # written upright, with no rotation of its own
        assert next(container.decode(video=0)).rotation == 0


@pytest.mark.parametrize("angle", [45, -45])
def test_a_display_rotation_off_quarter_turns_is_refused(tmp_path, angle):
    source = make_video(tmp_path / "tilted.mp4", 3, rotation=angle)
    result = run(source, tmp_path / "out.mp4", "--method", "analytic")
    assert result.exit_code == 1
    turn = f"{angle} degrees counter-clockwise" if angle > 0 else f"{-angle} degrees clockwise"
    assert re.search(rf"(?<![-\d]){turn}", result.output)
    assert "Traceback" not in result.output and not (tmp_path / "out.mp4").exists()


def first_times(path: Path) -> dict[str, float]:
    """Time in s of the first decoded video frame and of the first audio sample above 0.1."""
    with av.open(str(path)) as container:
        video = next(container.decode(video=0)).time
    with av.open(str(path)) as container:
        audio = next(frame.time + np.argmax(np.abs(frame.to_ndarray()).max(axis=0) > 0.1)
                     / frame.sample_rate for frame in container.decode(audio=0)
                     if np.abs(frame.to_ndarray()).max() > 0.1)
    return {"video": video, "audio": audio}


@pytest.mark.parametrize("source_suffix, audio, target_suffix", [
    (".mp4", "aac", ".mp4"), (".mkv", "aac", ".mkv"),
    (".mkv", "flac", ".mov")])  # copied, copied, re-encoded (MOV refuses FLAC)
def test_audio_stays_in_sync_when_timestamps_start_late(tmp_path, source_suffix, audio,
                                                         target_suffix):
    source = make_video(tmp_path / f"late{source_suffix}", 12, audio=audio, offset=10,
                        audio_delay=0.25)
    out = tmp_path / f"out{target_suffix}"
    result = run(source, out, "--method", "analytic")
    assert result.exit_code == 0, result.output  # not "ended early"
    times = first_times(out)
    assert abs(times["audio"] - times["video"] - 0.25) < 0.02


@pytest.mark.parametrize("size", [(3, 5), (1, 1), (400, 4)])
def test_frames_too_small_for_the_optical_flow(tmp_path, size):
    source = make_video(tmp_path / "tiny.mkv", 4, size=size)
    for mode in ("map", "stylize"):
        out = tmp_path / f"{mode}.mkv"
        result = run(source, out, "--method", "analytic", "--mode", mode)
        assert result.exit_code == 0, result.output
        assert probe(out)["count"] == 4 and probe(out)["size"] == size


@pytest.mark.parametrize("audio, suffix", [
    ("pcm_u8", ".mp4"),  # not listed by the MP4 muxer
    ("pcm_s16le", ".mp4"),  # listed, and refused when the file is closed
    ("flac", ".mov"),  # listed, and refused when the header is written
])
def test_audio_the_container_refuses_is_reencoded(tmp_path, audio, suffix):
    source = make_video(tmp_path / "in.mkv", 12, audio=audio)
    out = tmp_path / f"out{suffix}"
    result = run(source, out, "--method", "analytic")
    assert result.exit_code == 0, result.output
    codec, seconds = probe(out)["audio"]
    assert codec == "aac" and seconds == pytest.approx(1.0, abs=0.15)


def test_start_and_duration(clip, tmp_path):
    out = tmp_path / "cut.mp4"
    result = run(clip, out, "--method", "analytic", "--start", "0.5", "--duration", "1")
    assert result.exit_code == 0, result.output
    info = probe(out)
    assert info["count"] == 12 and info["audio"][1] == pytest.approx(1.0, abs=0.15)
    whole = probe(clip)["frames"]
    first = first_frame(clip, start=0.5, duration=1)
    assert first.index == 0 and first.time == pytest.approx(0.5)
    assert np.array_equal((first.rgb * 255 + 0.5).astype(np.uint8), whole[6])


def test_start_in_a_stream_without_an_index(tmp_path):
    source = make_video(tmp_path / "clip.ts", 24)  # MPEG-TS: a seek can land past the end
    out = tmp_path / "cut.mkv"
    result = run(source, out, "--method", "analytic", "--start", "0.5")
    assert result.exit_code == 0, result.output
    assert probe(out)["count"] == 18


# -------------------------------------------------------------------------- image sequences

def test_sequences_in_and_out(clip, tmp_path):
    folder = tmp_path / "frames"
    result = run(clip, folder, "--method", "analytic", "--duration", "1")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in folder.iterdir())
    assert names == [f"{i:06d}.png" for i in range(12)]
    assert read_image(folder / "000000.png").shape == (H, W, 3)
    pattern = tmp_path / "styled-%03d.jpg"
    result = run(folder, pattern, "--method", "analytic", "--map-view", "rainbow")
    assert result.exit_code == 0, result.output
    assert len(list(tmp_path.glob("styled-*.jpg"))) == 12
    out = tmp_path / "back.mp4"
    result = run(tmp_path / "styled-%03d.jpg", out, "--fps", "6", "--method", "analytic")
    assert result.exit_code == 0, result.output
    info = probe(out)
    assert info["count"] == 12 and info["rate"] == 6 and info["audio"] is None
    for rate in ("0", "1e-9", "nan", "inf"):
        result = run(tmp_path / "styled-%03d.jpg", tmp_path / "no.mp4", "--fps", rate)
        assert result.exit_code == 2 and "--fps must be in [0.01, 1000]" in result.stderr


def test_sequence_refuses_to_overwrite_its_input(clip, tmp_path):
    folder = tmp_path / "frames"
    assert run(clip, folder, "--method", "analytic", "--duration", "0.25").exit_code == 0
    result = run(folder, folder, "--method", "analytic")
    assert result.exit_code == 1 and "refusing to write over the input" in result.stderr
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    for target in (folder / "%06d.png", folder / "%d.png"):  # same names / other names: a
        result = run(folder, target, "--method", "analytic")  # later run would read them too
        assert result.exit_code == 1 and "refusing to write over the input" in result.stderr
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


# --------------------------------------------------------------------------- stable maps

def frame_to_frame_change(maps: list[np.ndarray]) -> float:
    return float(np.mean([np.abs(b - a).mean() for a, b in zip(maps, maps[1:])]))


def test_smoothing_steadies_a_static_noisy_shot(tmp_path):
    source = make_video(tmp_path / "static.mp4", 24, moving=False, noise=0.04)
    changes = {}
    for strength in ("0", "0.7"):
        out = tmp_path / f"map-{strength}.mp4"
        assert run(source, out, "--method", "analytic", "--smooth", strength).exit_code == 0
        maps = [f[..., 0].astype(np.float32) / 255 for f in probe(out)["frames"]]
        changes[strength] = frame_to_frame_change(maps[4:])  # past the warm-up
    assert changes["0"] > 0.01  # the noise does move the unsmoothed map
    assert changes["0.7"] * 3 < changes["0"], changes


def test_a_moving_subject_leaves_no_trail_with_carried_maps():
    """--every 4 with --smooth 0.7 (the defaults): a textured red square moving 8 px a frame
    over a panning, blurred background, mapped by a colour test (the map is the square). The
    map carried between fresh ones and the smoothed history must not leave the square's old
    places marked: nothing above 0.25 further than 40 px from it (the old smoother left a
    comet tail of thousands of such pixels)."""
    import cv2

    rng = np.random.default_rng(0)
    height, width = 360, 640
    texture = cv2.resize(rng.random((height // 8, (width + 400) // 8, 3)).astype(np.float32),
                         None, fx=8, fy=8, interpolation=cv2.INTER_NEAREST)
    background = cv2.GaussianBlur(texture, (0, 0), 5) * 0.6
    square = rng.random((120, 120, 3)).astype(np.float32) * 0.5
    square[..., 0] = 0.9 + 0.1 * rng.random((120, 120))

    def estimate(rgb):
        return cv2.GaussianBlur((rgb[..., 0] > 0.85).astype(np.float32), (0, 0), 2)

    maps = FrameMaps(estimate, smooth=0.7, every=4)
    for index in range(48):
        frame = background[:, 3 * index:3 * index + width].copy()
        left = 60 + 8 * index
        frame[120:240, left:left + 120] = square
        near = np.zeros((height, width), np.uint8)
        near[120:240, left:left + 120] = 1
        far = cv2.dilate(near, np.ones((81, 81), np.uint8)) == 0
        assert not (maps(frame)[far] > 0.25).any(), index


def test_smoothing_follows_motion():
    """On a moving square, the motion-compensated average stays closer to each frame's own
    map than a plain exponential average (which leaves a trail)."""
    estimate = FocusEstimator("analytic")
    smoother, plain = TemporalSmoother(0.7), None
    follow_error, plain_error = [], []
    for index in range(16):
        rgb = scene(index)
        fresh = estimate(rgb)
        smoother.advance(rgb)
        smoothed = smoother.blend(fresh)
        plain = fresh if plain is None else 0.7 * plain + 0.3 * fresh
        if index >= 4:
            follow_error.append(np.abs(smoothed - fresh).mean())
            plain_error.append(np.abs(plain - fresh).mean())
    assert np.mean(follow_error) < 0.6 * np.mean(plain_error)


def test_scene_cut_resets_the_history():
    estimate = FocusEstimator("analytic")
    smoother = TemporalSmoother(0.9)
    for index in range(5):
        rgb = scene(index)
        assert smoother.advance(rgb) == (index == 0)
        smoother.blend(estimate(rgb))
    other = 0.4 * scene(0, seed=10)  # new content, darker
    assert smoother.advance(other) is True
    fresh = estimate(other)
    assert np.array_equal(smoother.blend(fresh), fresh)


def test_every_carries_the_map_between_fresh_ones():
    calls = []

    def estimate(rgb):
        calls.append(1)
        return FocusEstimator("analytic")(rgb)

    maps = FrameMaps(estimate, smooth=0.5, every=3)
    results = [maps(scene(i)) for i in range(10)]
    assert maps.computed == len(calls) == 4  # frames 0, 3, 6, 9
    assert all(r.shape == (H, W) and r.dtype == np.float32 for r in results)
    assert maps(0.4 * scene(0, seed=10)) is not None and maps.computed == 5  # cut: fresh


def test_every_keeps_the_frame_count(clip, tmp_path):
    out = tmp_path / "every.mp4"
    result = run(clip, out, "--method", "analytic", "--every", "4")
    assert result.exit_code == 0, result.output
    assert probe(out)["count"] == 24 and "6 fresh maps" in result.stderr


# ------------------------------------------------------------------------------- stopping

def test_stop_keeps_a_playable_partial_file(clip, tmp_path):
    target = tmp_path / "out.mp4"
    done = []
    with open_source(str(clip)) as source:
        sink = open_sink(str(target), records=False, size=source.size, rate=source.rate,
                         audio=source.audio)
        outcome = process(source, sink, lambda frame: frame.rgb,
                          advance=lambda: done.append(1), stop=lambda: len(done) >= 7)
    assert not outcome.complete and outcome.frames == 7
    assert outcome.path == tmp_path / "out.partial.mp4" and not target.exists()
    assert probe(outcome.path)["count"] == 7
    assert not leftovers(tmp_path)


def test_error_midway_leaves_no_file(clip, tmp_path):
    def work(frame):
        if frame.index == 3:
            raise ImageError("boom")
        return frame.rgb

    with open_source(str(clip)) as source, pytest.raises(ImageError):
        sink = open_sink(str(tmp_path / "out.mp4"), records=False, size=source.size,
                         rate=source.rate)
        process(source, sink, work)
    assert list(tmp_path.iterdir()) == []


def test_prepare_runs_a_frame_ahead_on_its_own_thread_in_order(clip, tmp_path):
    log = []
    started = [threading.Event() for _ in range(25)]

    def prepare(frame):
        log.append(("prepare", frame.index, threading.current_thread().name))
        started[frame.index].set()
        return frame.index * 10

    def work(frame, prepared):
        log.append(("work", frame.index, threading.current_thread().name))
        assert prepared == frame.index * 10
        if frame.index < 23:  # the next frame is being prepared meanwhile (serial: timeout)
            assert started[frame.index + 1].wait(timeout=10)
        return frame.rgb

    with open_source(str(clip)) as source:
        sink = open_sink(str(tmp_path / "out.mp4"), records=False, size=source.size,
                         rate=source.rate)
        outcome = process(source, sink, work, prepare=prepare)
    assert outcome.complete and outcome.frames == 24
    prepared = [index for kind, index, _ in log if kind == "prepare"]
    worked = [index for kind, index, _ in log if kind == "work"]
    assert prepared == worked == list(range(24))
    assert {thread for kind, _, thread in log if kind == "prepare"} != {
        threading.main_thread().name}
    assert {thread for kind, _, thread in log if kind == "work"} == {threading.main_thread().name}


def test_an_error_in_prepare_is_raised_at_its_frame_and_leaves_no_file(clip, tmp_path):
    worked = []

    def prepare(frame):
        if frame.index == 5:
            raise ImageError("boom")
        return None

    with open_source(str(clip)) as source, pytest.raises(ImageError, match="boom"):
        sink = open_sink(str(tmp_path / "out.mp4"), records=False, size=source.size,
                         rate=source.rate)
        process(source, sink, lambda frame, _: worked.append(frame.index) or frame.rgb,
                prepare=prepare)
    assert worked == [0, 1, 2, 3, 4]
    assert list(tmp_path.iterdir()) == []


def writing(pid: int, folder: Path) -> bool:
    """Whether process ``pid`` holds an unnamed (O_TMPFILE) output open in ``folder``."""
    try:
        links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    except OSError:
        return False
    return any(link.startswith(str(folder)) and "(deleted)" in link for link in links)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_stop_signals_in_a_real_process(tmp_path, stop):
    source = make_video(tmp_path / "long.mp4", 300, size=(64, 48))
    target = tmp_path / "out.mp4"
    command = [sys.executable, "-m", "dofkit", "video", str(source), str(target),
               "--method", "analytic", "--mode", "stylize", "--backend", "cpu"]
    child = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not writing(child.pid, tmp_path):
        time.sleep(0.02)  # the output is opened just before the first frame
    time.sleep(1.0)
    child.send_signal(stop)
    _, stderr = child.communicate(timeout=30)
    assert child.returncode == 130, stderr
    assert "interrupted after" in stderr and "Traceback" not in stderr
    kept = tmp_path / "out.partial.mp4"
    assert not target.exists() and kept.exists() and not leftovers(tmp_path)
    assert 0 < probe(kept)["count"] < 300


def test_truncated_video_is_reported_and_what_was_made_kept(tmp_path):
    source = make_video(tmp_path / "clip.mkv", 100, size=(64, 48))  # index in front: the
    cut = tmp_path / "cut.mkv"                                        # cut file still opens
    data = source.read_bytes()
    cut.write_bytes(data[:len(data) * 6 // 10])
    earlier = tmp_path / "out.mp4"  # a complete output of an earlier run: not replaced
    shutil.copyfile(make_video(tmp_path / "earlier.mp4", 7, size=(64, 48)), earlier)
    result = run(cut, earlier, "--method", "analytic")
    assert result.exit_code == 1, result.output
    line, = [text for text in result.stderr.splitlines() if text.startswith("dofkit: error:")]
    assert "ended early" in line and "out.partial.mp4" in line and "Traceback" not in line
    assert probe(earlier)["count"] == 7
    assert 0 < probe(tmp_path / "out.partial.mp4")["count"] < 100


# --------------------------------------------------------------------------------- errors

def test_bad_inputs(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n" * 100)
    fake = tmp_path / "fake.png"  # named like an image, which ffmpeg reads as a video
    fake.write_text("not an image either\n" * 100)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    nothing = tmp_path / "nothing"
    nothing.mkdir()
    sound = tmp_path / "sound.m4a"
    with av.open(str(sound), "w") as container:
        stream = container.add_stream("aac", rate=16000, layout="mono")
        block = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="flt",
                                           layout="mono")
        block.sample_rate = 16000
        container.mux(stream.encode(block))
        container.mux(stream.encode(None))
    cases = {text: "not a video", fake: "not a video dofkit can read", empty: "empty file",
             nothing: "no images found", sound: "no video stream",
             tmp_path / "missing.mp4": "no such file"}
    for path, message in cases.items():
        result = run(path, tmp_path / "out.mp4", "--method", "analytic")
        assert result.exit_code == 1, (path, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0] and path.name in lines[0], lines
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["notes.mp4", "fake.png", "empty.mp4", "nothing", "sound.m4a"])


@pytest.mark.parametrize("target, args, message, code", [
    ("out.avi", (), "cannot write '.avi' video", 2),
    ("out.png", (), "one image cannot hold a video", 2),
    ("-", (), "JSON lines only", 2),
    ("out.mp4", ("--smooth", "1"), "--smooth must be in [0, 1)", 2),
    ("out.mp4", ("--fps", "10"), "--fps applies to image-sequence input only", 2),
    ("out.mp4", ("--start", "-1"), "--start must be a finite number of seconds >= 0", 2),
    ("out.mp4", ("--start", "nan"), "--start must be a finite number of seconds >= 0", 2),
    ("out.mp4", ("--duration", "inf"), "--duration must be a finite number of seconds > 0", 2),
    ("out.jsonl", ("--mode", "roi", "--pad", "inf"), "--pad must be in [0, 100]", 2),
    ("out.mp4", ("--start", "5"), "no video frames to process from 5 s on (the video ends at ", 1),
])
def test_bad_outputs_and_options(clip, tmp_path, target, args, message, code):
    result = run(clip, tmp_path / target if target != "-" else "-", "--method", "analytic",
                 *args)
    assert result.exit_code == code, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("args, message", [
    (("--style", "sketch"), "--style does nothing with --mode map"),
    (("--mode", "stylize", "--gate", "0.3"), "--gate does nothing with --mode stylize"),
    (("--mode", "roi", "--map-view", "rainbow"), "--map-view does nothing with --mode roi"),
    (("--mode", "detect", "--merge", "0.2"), "--merge does nothing with --mode detect"),
])
def test_options_of_another_mode_are_refused(clip, tmp_path, args, message):
    result = run(clip, tmp_path / "out.mp4", *args)
    assert result.exit_code == 2 and message in result.stderr
    assert not any(tmp_path.iterdir())


def test_library_errors():
    with pytest.raises(ParameterError, match="^every must be"):
        FrameMaps(lambda rgb: rgb[..., 0], every=0)
    with pytest.raises(ImageError, match="does not exist"):
        open_source("/nonexistent-dofkit-folder/%04d.png")


# ------------------------------------------------------------------------------ JSON modes

def test_roi_json_lines_on_stdout(clip):
    # --every 1: the boxes of fresh maps follow the square exactly (carried maps lag on a
    # 96x64 clip, where the flow has little to work with)
    result = run(clip, "-", "--mode", "roi", "--method", "analytic", "--duration", "0.5",
                 "--max-rois", "1", "--every", "1")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["frame"] for r in records] == list(range(6))
    assert [r["time"] for r in records] == pytest.approx([i / RATE for i in range(6)], abs=1e-6)
    for record in records:  # the square: x from 14 + 2 * frame, y 16, 32 px wide
        (roi,) = record["rois"]
        x, y, w, h = roi["bbox"]
        left = 14 + 2 * record["frame"]
        assert abs(x - left) <= 6 and abs(y - 16) <= 6 and abs(w - 32) <= 10
    assert "6 frames" in result.stderr


@pytest.mark.parametrize("stdout_terminal", [True, False])
def test_no_live_progress_bar_among_json_lines_on_a_terminal(clip, stdout_terminal):
    """JSON lines on a terminal come without the live bar (which would draw over them); piped,
    they all reach the pipe while the bar is drawn on the terminal."""
    shown, piped = run_on_terminal("video", str(clip), "-", "--mode", "roi", "--method",
                                   "analytic", "--duration", "0.5",
                                   stdout_terminal=stdout_terminal)
    hidden_cursor = "\x1b[?25l"  # a live bar hides the cursor while it draws
    lines = (shown if stdout_terminal else piped).splitlines()
    assert sum(line.startswith('{"frame": ') for line in lines) == 6, shown
    assert (hidden_cursor in shown) is not stdout_terminal


def test_roi_json_lines_file_with_start(clip, tmp_path):
    out = tmp_path / "rois.jsonl"
    result = run(clip, out, "--mode", "roi", "--method", "analytic", "--start", "1",
                 "--threshold", "otsu")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 12 and records[0]["frame"] == 0
    assert records[0]["time"] == pytest.approx(1.0) and not result.stdout
    assert not leftovers(tmp_path)


def test_roi_bad_threshold_leaves_nothing(clip, tmp_path):
    for target, value, message in (("rois.jsonl", "x", "--threshold must be"),
                                   ("rois.jsonl", "1.5", "threshold must be in"),
                                   ("rois.mp4", "otsu", "write JSON lines")):
        result = run(clip, tmp_path / target, "--mode", "roi", "--threshold", value)
        assert result.exit_code == 2 and message in result.stderr
    assert not any(tmp_path.iterdir())


def test_detect_json_lines_on_stdout(clip):
    result = run(clip, "-", "--mode", "detect", "--detector", "hog", "--method", "analytic",
                 "--duration", "0.25")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["frame"], r["kept"], r["dropped"]) for r in records] == [
        (0, [], []), (1, [], []), (2, [], [])]  # no person 128 px tall in a 64 px frame


def test_detect_gates_by_focus():
    """Two boxes from a stand-in detector: the one on the moving sharp square is kept, the one
    on the blurred background dropped; --on-rois runs the detector on the square's crop."""
    from dofkit.detect import Detection
    from dofkit.io import Picture
    from dofkit.pipeline import DetectStep, RoiSettings

    def detector(rgb):
        return [Detection((20.0, 20.0, 40.0, 40.0), 0.9, "square"),
                Detection((0.0, 0.0, 10.0, 60.0), 0.8, "wall")]

    frame = Frame(0, 0.0, scene(0))
    picture = Picture(frame.rgb, None, 8, "frame")
    focus = FrameMaps(FocusEstimator("analytic"))(frame.rgb)
    result = DetectStep(detector, gate=0.5)(picture, focus).record
    assert [d["label"] for d in result["kept"]] == ["square"]
    assert [d["label"] for d in result["dropped"]] == ["wall"]
    assert result["kept"][0]["focus"]["mean"] > 0.5 > result["dropped"][0]["focus"]["mean"]
    crops = []
    on_rois = DetectStep(lambda rgb: crops.append(rgb.shape[:2]) or [], gate=0.5,
                         regions=RoiSettings("otsu"), on_rois=True)
    assert on_rois(picture, focus).record == {"kept": [], "dropped": []}
    assert len(crops) == 1 and crops[0][0] < H and crops[0][1] < W  # the square's crop only


def test_detect_unknown_detector(clip, tmp_path):
    result = run(clip, "-", "--mode", "detect", "--detector", "nope")
    assert result.exit_code == 2 and "detector must be one of" in result.stderr


def test_frame_names_fill_one_field_and_keep_other_percent_signs(tmp_path):
    assert frame_path(str(tmp_path / "50%-off-%03d.png"), 7) == tmp_path / "50%-off-007.png"
    assert frame_path("f%d.png", 12) == Path("f12.png")
    for pattern in ("%05d%05d.png", "f%d-%d.png"):
        with pytest.raises(ParameterError, match="exactly one frame number field"):
            frame_path(pattern, 0)
    result = run(tmp_path / "in%03d%03d.png", tmp_path / "out.mp4", "--method", "analytic")
    assert result.exit_code == 2 and "exactly one frame number field" in result.stderr


def test_quiet_leaves_stderr_empty(clip, tmp_path):
    result = run(clip, tmp_path / "out.mp4", "--method", "analytic", "-q")
    assert result.exit_code == 0, result.output
    assert result.stderr == "" and probe(tmp_path / "out.mp4")["count"] > 0


def test_a_variable_frame_rate_video_is_not_called_truncated(tmp_path):
    """Frame gaps of 40-300 ms: the frame count the container implies is an estimate; the
    run is judged complete by the time of its last frame."""
    from fractions import Fraction

    path = tmp_path / "vfr.mkv"
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = W, H, "yuv420p"
        video.codec_context.time_base = Fraction(1, 1000)
        pts = 0
        for index in range(15):
            picture = av.VideoFrame.from_ndarray(
                (scene(index, moving=True, height=H, width=W) * 255).astype(np.uint8), "rgb24")
            picture.pts, picture.time_base = pts, Fraction(1, 1000)
            pts += (40, 120, 40, 300, 40)[index % 5]
            container.mux(video.encode(picture))
        container.mux(video.encode(None))
    result = run(path, tmp_path / "out.mp4", "--method", "analytic")
    assert result.exit_code == 0, result.output
    assert "ended early" not in result.stderr and probe(tmp_path / "out.mp4")["count"] == 15


def test_a_stopped_run_keeps_its_partial_output_under_a_free_name(clip, tmp_path):
    """An input (or any file) named <stem>.partial<suffix> is never replaced by the output
    an interrupted run keeps: the next free name is taken."""
    source = tmp_path / "out.partial.mp4"
    source.write_bytes(clip.read_bytes())
    other = tmp_path / "out.partial-2.mp4"
    other.write_bytes(b"someone else's file")
    for target, records in (("out.mp4", False), ("out.jsonl", True)):
        (tmp_path / "out.partial.jsonl").write_text("kept\n")
        with open_source(str(source)) as video:
            sink = open_sink(str(tmp_path / target), records=records, size=video.size,
                             rate=video.rate, audio=video.audio, inputs=(str(source),))
            outcome = process(video, sink, (lambda frame: {}) if records else
                              (lambda frame: frame.rgb), stop=lambda: True)
        assert not outcome.complete and outcome.frames == 1
        assert outcome.path == tmp_path / ("out.partial-3.mp4" if not records
                                           else "out.partial-2.jsonl")
    assert source.read_bytes() == clip.read_bytes()
    assert other.read_bytes() == b"someone else's file"
    assert (tmp_path / "out.partial.jsonl").read_text() == "kept\n"
    assert probe(tmp_path / "out.partial-3.mp4")["count"] == 1 and not leftovers(tmp_path)


def test_an_mp4_cut_in_its_header_is_a_one_line_error(tmp_path):
    """Cut in the stream description (the moov box is at the end of the file), the video
    stream has no codec: a message naming the file, not an internal error."""
    data = make_video(tmp_path / "clip.mp4", 12, size=(64, 48)).read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[:data.rindex(b"stsd") - 4])
    result = run(cut, tmp_path / "out.mp4", "--method", "analytic")
    assert result.exit_code == 1, result.output
    assert result.stderr.strip() == (f"dofkit: error: {cut}: no video codec dofkit can read "
                                     "in it (unsupported codec, or a truncated or corrupt "
                                     "file)")
    assert not (tmp_path / "out.mp4").exists() and not leftovers(tmp_path)


def test_a_printf_pattern_takes_only_the_names_it_writes(tmp_path):
    from dofkit.video.io import number_sequence

    for name in ("001.png", "002.png", "0003.png", "1000.png", "000100.png", "7.png"):
        (tmp_path / name).write_bytes(b"")
    found = [p.name for _, p in number_sequence(str(tmp_path / "%03d.png"))]
    assert found == ["001.png", "002.png", "1000.png"]
    assert [p.name for _, p in number_sequence(str(tmp_path / "%d.png"))] == ["7.png", "1000.png"]


# ------------------------------------------------------------------ timing, limits, full disk

def frame_times(path: Path) -> list[float]:
    """Display times (s) of the decoded frames of a video file."""
    with av.open(str(path)) as container:
        return [f.time for f in container.decode(video=0)]


def make_vfr_video(path: Path, times_ms: list[int], *, audio: bool = False) -> Path:
    """A clip whose frames are shown at ``times_ms`` (ms; a variable frame rate), with a
    16 kHz tone as long as the video when ``audio``."""
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=RATE)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        video.codec_context.time_base = Fraction(1, 1000)
        sound = container.add_stream("aac", rate=16000, layout="mono") if audio else None
        for index, pts in enumerate(times_ms):
            picture = av.VideoFrame.from_ndarray(
                (scene(index, height=48, width=64) * 255).astype(np.uint8), "rgb24")
            picture.pts, picture.time_base = pts, Fraction(1, 1000)
            container.mux(video.encode(picture))
        container.mux(video.encode(None))
        if sound is not None:
            samples = 16 * (times_ms[-1] + 100)
            for begin in range(0, samples, 1024):
                block = av.AudioFrame.from_ndarray(
                    np.zeros((1, min(1024, samples - begin)), np.float32), format="flt",
                    layout="mono")
                block.sample_rate, block.pts = 16000, begin
                container.mux(sound.encode(block))
            container.mux(sound.encode(None))
    return path


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_a_variable_frame_rate_keeps_each_frame_at_its_time(tmp_path, suffix):
    """A clip whose rate drops from 10 to 2 frames/s (a phone in low light; or frames a
    corrupt stretch lost): every frame is shown when the source shows it, so the picture
    stays in sync with the sound, not stretched to the average rate."""
    times = [0, 100, 200, 300, 400, 900, 1400, 1900, 2000, 2100]
    source = make_vfr_video(tmp_path / "vfr.mkv", times, audio=True)
    target = tmp_path / f"out{suffix}"
    result = run(source, target, "--method", "analytic")
    assert result.exit_code == 0, result.output
    assert np.allclose(frame_times(target), np.array(times) / 1000, atol=0.002)
    result = run(source, tmp_path / f"late{suffix}", "--method", "analytic", "--start", "0.85")
    assert result.exit_code == 0, result.output
    assert np.allclose(frame_times(tmp_path / f"late{suffix}"),
                       (np.array(times[5:]) - 850) / 1000, atol=0.002)


def test_timestamps_that_go_back_keep_every_frame_and_the_times_after(tmp_path):
    """Timestamps that repeat or go back a little (a broken muxer): every frame is kept, in
    the order decoded, 1 ms after the one before, and the following frames keep their own
    times (the sound its sync)."""
    from dofkit.video.io import VideoSink

    target = tmp_path / "out.mkv"
    sink = VideoSink(str(target), size=(64, 48), rate=Fraction(10))
    times = [0.0, 0.1, 0.2, 0.2, 0.15, 0.5, 0.6]
    for index, at in enumerate(times):
        sink.write(Frame(index, at, scene(index, height=48, width=64)),
                   scene(index, height=48, width=64))
    sink.finish()
    assert np.allclose(frame_times(target), [0.0, 0.1, 0.2, 0.201, 0.202, 0.5, 0.6],
                       atol=0.0005)


@pytest.mark.parametrize("audio", [None, "aac"])
def test_a_clock_that_jumps_back_is_an_error_not_frames_dropped(tmp_path, audio):
    """Two MPEG-TS clips joined end to end, the second's clock starting again (5 s back):
    a one-line error (the frames of the second clip were dropped silently as 'before the
    start'); the frames of the first clip are kept as a partial output, as when a run is
    stopped."""
    first = make_video(tmp_path / "a.ts", 24, size=(64, 48), offset=5, audio=audio)
    second = make_video(tmp_path / "b.ts", 24, size=(64, 48), audio=audio)
    joined = tmp_path / "joined.ts"
    joined.write_bytes(first.read_bytes() + second.read_bytes())
    result = run(joined, tmp_path / "out" / "out.mp4", "--method", "analytic")
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{joined}: timestamps jump back " in lines[0], lines
    kept = tmp_path / "out" / "out.partial.mp4"
    assert f"before it are kept in {kept}" in lines[0], lines
    assert sorted((tmp_path / "out").iterdir()) == [kept] and 0 < probe(kept)["count"] <= 24


def test_a_video_over_the_pixel_limit_is_refused_before_decoding(clip, tmp_path, monkeypatch):
    monkeypatch.setenv("DOFKIT_MAX_PIXELS", "1000")
    result = run(clip, tmp_path / "out.mp4", "--method", "analytic")
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{clip}: video frames too large (96x64" in lines[0], lines
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_a_full_disk_is_one_line_and_leaves_nothing(tmp_path, suffix):
    """The output cannot grow past 20 kB (RLIMIT_FSIZE, in a child process: the writes fail
    as on a full disk): one line naming the output, exit 1, no file left."""
    import resource

    source = make_video(tmp_path / "clip.mp4", 48, size=(64, 48), noise=0.2, audio="aac")
    target = tmp_path / "out" / f"out{suffix}"
    target.parent.mkdir()

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    child = subprocess.run([sys.executable, "-m", "dofkit", "video", str(source), str(target),
                            "--method", "analytic"], capture_output=True, text=True,
                           preexec_fn=limit, timeout=120,
                           env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    lines = child.stderr.strip().splitlines()
    assert child.returncode == 1 and len(lines) == 1, child.stderr
    assert lines[0].startswith(f"dofkit: error: {target}: cannot write (File too large")
    assert not any(target.parent.iterdir())


def test_a_library_sink_not_told_the_start_shows_the_first_frame_at_zero(tmp_path):
    """open_sink without ``start`` (a library caller reading from 0.85 s): the first frame
    written shows at 0, not after a gap of the source's start."""
    times = [0, 100, 200, 300, 400, 900, 1400, 1900, 2000, 2100]
    source = make_vfr_video(tmp_path / "vfr.mkv", times)
    target = tmp_path / "out.mkv"
    with open_source(str(source), start=0.85) as video:
        sink = open_sink(str(target), records=False, size=video.size, rate=video.rate)
        process(video, sink, lambda frame: frame.rgb)
    assert np.allclose(frame_times(target), (np.array(times[5:]) - 900) / 1000, atol=0.002)


def test_frame_maps_check_their_frames_options_and_the_maps_they_are_given():
    """A float64 or grey frame failed deep in OpenCV; every=1.5 and smooth='0.5' were taken
    or failed with a TypeError; a float64 or out-of-range map from the estimate was passed
    on as if it were a focus map."""
    frame = np.zeros((16, 16, 3), np.float32)
    for bad in (frame.astype(np.float64), frame[..., 0]):
        with pytest.raises(ParameterError, match="^image "):
            FrameMaps(lambda rgb: rgb[..., 0])(bad)
    for options in (dict(every=1.5), dict(every=True), dict(smooth="0.5"), dict(smooth=1)):
        with pytest.raises(ParameterError) as refused:
            FrameMaps(lambda rgb: rgb[..., 0], **options)
        assert refused.value.parameter == next(iter(options))
    for made in (lambda rgb: rgb[..., 0].astype(np.float64), lambda rgb: rgb[..., 0] + 5,
                 lambda rgb: rgb[:8, :, 0]):
        with pytest.raises(ParameterError, match="^estimate gave a map"):
            FrameMaps(made)(frame)
