"""`dofkit video`, third trial: inputs that are not one plain video stream in a regular file
(cover art, two video streams, HDR, pipes, devices, URLs), outputs that cannot hold what is
asked (a folder named like a video, a sequence in its input's folder, a name too long for
its .partial form), and the frames a --start/--duration range takes and where they show."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from dofkit.errors import OutputError
from dofkit.io import write_image
from dofkit.video import open_sink, open_source, process
from dofkit.video.io import Damage
from test_video import frame_times, run

RATE = 25


def make_clip(path: Path, frames: int = 30, *, rate: int = RATE, size: tuple[int, int] = (32, 24),
              audio: bool = False, transfer: int | None = None) -> Path:
    """A clip of ``frames`` grey-ramp frames at ``rate``; ``audio``: AAC (16 kHz mono, as long
    as the video); ``transfer``: the transfer tag (FFmpeg's number) of the video."""
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=rate)
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        if transfer is not None:
            video.codec_context.color_trc = transfer
        sound = container.add_stream("aac", rate=16000, layout="mono") if audio else None
        for index in range(frames):
            grey = np.full((size[1], size[0], 3), index * 255 // frames, np.uint8)
            picture = av.VideoFrame.from_ndarray(grey, "rgb24")
            picture.pts, picture.time_base = index, Fraction(1, rate)
            container.mux(video.encode(picture))
        container.mux(video.encode(None))
        if sound is not None:
            for begin in range(0, 16000 * frames // rate, 1024):
                block = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32),
                                                   format="fltp", layout="mono")
                block.sample_rate, block.pts = 16000, begin
                container.mux(sound.encode(block))
            container.mux(sound.encode(None))
    return path


def one_error_line(result, *words: str) -> str:
    """The one line of a run that failed with exit code 1, checked to hold ``words``."""
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1, result.output
    assert all(word in lines[0] for word in words), lines[0]
    return lines[0]


# ------------------------------------------------------------------------------- inputs

def test_cover_art_is_no_video_stream(tmp_path):
    """An audio file with a picture (attached_pic) was read as a one-frame video at 90000/s
    that "ended early"."""
    song = tmp_path / "song.mp4"
    with av.open(str(song), "w") as container:
        sound = container.add_stream("aac", rate=16000, layout="mono")
        cover = container.add_stream("mjpeg", rate=1)
        cover.width, cover.height, cover.pix_fmt = 32, 32, "yuvj420p"
        cover.disposition = av.stream.Disposition.attached_pic
        picture = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), "rgb24")
        for packet in [*cover.encode(picture.reformat(format="yuvj420p")), *cover.encode(None)]:
            container.mux(packet)
        for begin in range(0, 16000, 1024):
            block = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp",
                                               layout="mono")
            block.sample_rate, block.pts = 16000, begin
            container.mux(sound.encode(block))
        container.mux(sound.encode(None))
    result = run(song, tmp_path / "out.mp4", "--method", "analytic")
    one_error_line(result, f"{song}: no video stream (only cover art)")
    assert not (tmp_path / "out.mp4").exists()


@pytest.mark.parametrize("default", [None, 0, 1])
def test_the_video_stream_ffmpeg_would_take_is_read(tmp_path, default):
    """Of a 16x16 stream and a 32x24 one, the default one is read, else the larger (the
    first was taken)."""
    path = tmp_path / "two.mkv"
    sizes = [(16, 16), (32, 24)]
    with av.open(str(path), "w") as container:
        streams = []
        for number, size in enumerate(sizes):
            stream = container.add_stream("libx264", rate=RATE)
            stream.width, stream.height = size
            stream.pix_fmt = "yuv420p"
            stream.disposition = (av.stream.Disposition.default if number == default
                                  else av.stream.Disposition(0))
            streams.append(stream)
        for index in range(5):
            for stream, (width, height) in zip(streams, sizes):
                picture = av.VideoFrame.from_ndarray(np.zeros((height, width, 3), np.uint8),
                                                     "rgb24")
                picture.pts, picture.time_base = index, Fraction(1, RATE)
                container.mux(stream.encode(picture))
        for stream in streams:
            container.mux(stream.encode(None))
    expected = sizes[1 if default is None else default]
    with open_source(str(path)) as source:
        assert source.size == expected
        shapes = {frame.rgb.shape[1::-1] for frame in source.frames()}
    assert shapes == {expected}


def test_hdr_pq_video_is_refused_and_hlg_read(tmp_path):
    """PQ (SMPTE ST 2084) was decoded as SDR: washed out, wrong colours, no word said."""
    pq = make_clip(tmp_path / "pq.mp4", 3, transfer=16)
    result = run(pq, tmp_path / "out.mp4", "--method", "analytic")
    one_error_line(result, f"{pq}: HDR video", "not supported")
    assert not (tmp_path / "out.mp4").exists()
    hlg = make_clip(tmp_path / "hlg.mp4", 3, transfer=18)  # SDR-compatible: read as it is
    assert run(hlg, tmp_path / "out.mp4", "--method", "analytic", "-q").exit_code == 0


def test_pipes_devices_and_urls_are_named_for_what_they_are(tmp_path):
    """All of these said "no such file"; a named pipe must not be opened (it would block)."""
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    for name, said in ((fifo, "not a regular file (a named pipe)"),
                       ("/dev/null", "not a regular file (a device)"),
                       ("http://10.255.255.1/x.mp4", "URLs and ffmpeg protocols are not read"),
                       ("concat:a.mp4|b.mp4", "URLs and ffmpeg protocols are not read"),
                       (tmp_path / "missing.mp4", "no such file")):
        result = run(name, tmp_path / "out.mp4", "--method", "analytic")
        one_error_line(result, f"{name}: {said}")


# ------------------------------------------------------------------------------ outputs

def test_a_folder_named_like_a_video_is_refused_as_the_output(tmp_path):
    """`out/dir.mp4` made as a folder got 50 PNGs."""
    clip = make_clip(tmp_path / "clip.mp4", 3)
    folder = tmp_path / "dir.mp4"
    folder.mkdir()
    one_error_line(run(clip, folder, "--method", "analytic"), f"{folder}: is a folder")
    assert not any(folder.iterdir())


@pytest.mark.parametrize("output", ["frames/o_%03d.png", "frames/sub/../o_%03d.png",
                                    "link/o_%d.png", "frames/"])
def test_a_sequence_written_in_its_input_folder_is_refused(tmp_path, output):
    """Maps written among their input images were read as frames by the next run."""
    frames = tmp_path / "frames"
    for number in range(3):
        write_image(frames / f"{number:03d}.png", np.full((8, 8, 3), 0.5, np.float32))
    (frames / "sub").mkdir()
    (tmp_path / "link").symlink_to(frames)
    before = sorted(frames.iterdir())
    target = f"{tmp_path}/{output}"
    one_error_line(run(frames, target, "--method", "analytic"),
                   "refusing to write over the input sequence")
    one_error_line(run(frames / "%03d.png", target, "--method", "analytic"),
                   "refusing to write over the input sequence")
    assert sorted(frames.iterdir()) == before


@pytest.mark.parametrize("suffix, mode", [(".mp4", "map"), (".jsonl", "roi")])
def test_a_name_too_long_for_its_partial_form_is_refused_up_front(tmp_path, suffix, mode):
    """A 248-character name was taken, and a stop then lost the work: `<name>.partial.mp4`
    was too long to be written."""
    clip = make_clip(tmp_path / "clip.mp4", 3)
    target = tmp_path / ("d" * 248 + suffix)
    result = run(clip, target, "--mode", mode, "--method", "analytic")
    one_error_line(result, f"{target}: name too long", "partial")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]


def test_the_longest_name_accepted_can_be_kept_when_stopped(tmp_path):
    """The name whose last .partial form just fits is taken, and a stopped run keeps it."""
    clip = make_clip(tmp_path / "clip.mp4", 3)
    target = tmp_path / ("d" * (255 - len(".partial-999.mp4")) + ".mp4")
    with open_source(str(clip)) as source:
        sink = open_sink(str(target), records=False, size=source.size, rate=source.rate)
        outcome = process(source, sink, lambda frame: frame.rgb, stop=lambda: True)
    assert outcome.path == target.with_name(target.stem + ".partial.mp4")
    assert outcome.path.exists()
    with pytest.raises(OutputError, match="name too long"):
        open_sink(str(target.with_name("d" + target.name)), records=False, size=source.size,
                  rate=source.rate)


# ------------------------------------------------------------------- --start, --duration

def times_read(path: Path, start: float, duration: float | None) -> list[float]:
    """The times of the frames the source of ``path`` gives for the range (rounded)."""
    with open_source(str(path), start=start, duration=duration) as source:
        return [round(frame.time, 3) for frame in source.frames()]


@pytest.mark.parametrize("start, duration, shown", [
    (0, 0.01, [0.0]),               # "no video frames to process"
    (1, 0.01, [1.0]),               # "no video frames ... (it ends at 1.01 s)"
    (0.99, 0.02, [0.96, 1.0]),      # failed though a frame starts at 1.00
    (0.5, 0.01, [0.48]),            # shown over [0.48, 0.52)
    (0.52, 0.08, [0.52, 0.56]),     # the frames only touching the range are out
    (0.5, None, [round(0.48 + 0.04 * n, 2) for n in range(18)]),
])
def test_a_frame_is_read_when_the_time_it_shows_overlaps_the_range(tmp_path, start, duration,
                                                                   shown):
    clip = make_clip(tmp_path / "clip.mp4")  # 30 frames, 0.04 s apart
    assert times_read(clip, start, duration) == shown
    with open_source(str(clip), start=start, duration=duration) as source:
        assert source.count == len(shown) and source.length == pytest.approx(1.2)


def test_millisecond_timestamps_touching_the_range_stay_out(tmp_path):
    """Matroska rounds 5/12 s to 0.417: that frame (shown until 0.5) is not in [0.5, 1)."""
    clip = make_clip(tmp_path / "clip.mkv", 24, rate=12)
    assert times_read(clip, 0.5, 0.5) == [0.5, 0.583, 0.667, 0.75, 0.833, 0.917]


def test_a_sequence_range_takes_the_frames_it_overlaps(tmp_path):
    for number in range(30):
        write_image(tmp_path / f"{number:03d}.png", np.full((8, 8, 3), 0.5, np.float32))
    assert times_read(tmp_path, 0.99, 0.02) == [0.96, 1.0]
    assert times_read(tmp_path, 1, 0.01) == [1.0]


def test_the_first_frame_of_a_range_shows_a_whole_frame_and_the_audio_moves_with_it(tmp_path):
    """From 0.5 s of a 25/s clip, the frame at 0.48 (shown over [0.48, 0.52)) is the first:
    it showed for 20 ms (times 0, 0.02, 0.06, ...: an average of 27.08/s); it now shows from
    0 for 40 ms, and the audio is moved by its time too (in sync)."""
    clip = make_clip(tmp_path / "clip.mp4", audio=True)
    out = tmp_path / "out.mp4"
    result = run(clip, out, "--method", "analytic", "--start", "0.5", "--duration", "0.5", "-q")
    assert result.exit_code == 0, result.output
    assert np.allclose(frame_times(out), np.arange(13) * 0.04, atol=0.002)
    with av.open(str(clip)) as container:
        heard = {round(float(p.pts * p.time_base), 4) for p in container.demux(audio=0)
                 if p.pts is not None}
    moved = []
    with open_source(str(clip), start=0.5, duration=0.5) as source:
        for _ in source.frames(lambda packet: moved.append(float(packet.pts
                                                                 * packet.time_base))):
            pass
    assert moved and {round(time + 0.48, 4) for time in moved} <= heard


# ------------------------------------------------------------------------------- damage

def test_touching_damaged_spans_are_one():
    """"frames lost or concealed at 0.20-0.24 s, 0.24-0.28 s" is one span."""
    damage = Damage(0.0)
    damage.frame(0.2, corrupt=False)
    for time in (0.24, 0.28):
        damage.problem()
        damage.frame(time, corrupt=False)
    damage.frame(0.32, corrupt=True)
    damage.frame(0.36, corrupt=False)
    damage.frame(0.6, corrupt=False)
    damage.problem()
    damage.frame(0.64, corrupt=False)
    assert "at 0.20-0.36 s, 0.60-0.64 s;" in damage.describe()
