"""`dofkit video` on damaged inputs: a video with garbage in its middle, an image sequence
with numbers missing or an unreadable image, a source that fails midway. The frames that can
be read are processed and kept at their times, the user is told in one line naming the input,
and the exit code is 1."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from dofkit.errors import ImageError
from dofkit.io import write_image
from dofkit.video import open_sink, open_source, process
from dofkit.video.io import SequenceSource, VideoSource
from dofkit.video.run import SourceFailed
from test_video import frame_times, leftovers, make_video, probe, run, scene

FRAMES = 100


def damage(source: Path, target: Path, *, at: float = 0.4, size: int = 500) -> Path:
    """A copy of ``source`` with ``size`` bytes at fraction ``at`` of the file set to 0."""
    data = bytearray(source.read_bytes())
    begin = int(len(data) * at)
    data[begin:begin + size] = bytes(size)
    target.write_bytes(bytes(data))
    return target


def decoded_times(path: Path) -> list[float]:
    """The times of the frames FFmpeg decodes from ``path`` (damaged or not: a packet the
    decoder refuses is passed over)."""
    times = []
    with av.open(str(path)) as container:
        for packet in container.demux(video=0):
            try:
                times += [frame.time for frame in packet.decode()]
            except av.InvalidDataError:
                pass
    return times


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    return {suffix: make_video(folder / f"clip{suffix}", FRAMES, size=(64, 48), audio="aac")
            for suffix in (".mkv", ".mp4")}


@pytest.mark.parametrize("suffix, size", [(".mkv", 500), (".mkv", 5000), (".mp4", 5000)])
def test_a_damaged_middle_is_one_line_and_the_frames_that_decode_are_kept_in_sync(
        clips, tmp_path, suffix, size):
    """Matroska resyncs past the garbage (frames lost, no decode error), MP4 conceals it:
    either way the output holds every frame that decodes, each at its own time, and the
    user is told where the damage is."""
    broken = damage(clips[suffix], tmp_path / f"broken{suffix}", size=size)
    target = tmp_path / "out.mkv"
    result = run(broken, target, "--method", "analytic", "-q")
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"dofkit: error: {broken}: damaged data"), lines
    assert "Traceback" not in result.output
    shown, decoded = np.array(frame_times(target)), np.array(decoded_times(broken))
    assert len(shown) == len(decoded) and np.allclose(shown - shown[0], decoded - decoded[0],
                                                      atol=0.002)


def test_damage_is_seen_in_every_file_of_a_process(clips, tmp_path):
    """FFmpeg's message for the same damage is the same text each time; it is not taken for
    a repeat of the one before (PyAV drops repeated messages by default)."""
    broken = damage(clips[".mkv"], tmp_path / "broken.mkv", at=0.2)
    for _ in range(2):
        with VideoSource(str(broken)) as source:
            count = sum(1 for _ in source.frames())
            assert count < FRAMES and source.damage is not None


def test_a_clean_video_has_no_damage(clips):
    with VideoSource(str(clips[".mkv"])) as source:
        assert sum(1 for _ in source.frames(lambda packet: None)) == FRAMES
        assert source.damage is None


# -------------------------------------------------------------------------- image sequences

def make_sequence(folder: Path, numbers: list[int], name: str = "frame_{:03d}.png") -> Path:
    folder.mkdir()
    for number in numbers:
        write_image(folder / name.format(number), scene(number, height=48, width=64))
    return folder


def test_numbers_missing_in_a_sequence_keep_their_places_and_are_reported(tmp_path):
    folder = make_sequence(tmp_path / "in", [1, 2, 3, 6, 7, 9])
    source = folder / "frame_%03d.png"
    result = run(source, tmp_path / "out", "--method", "analytic", "-q")
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines() == [
        f"dofkit: error: {source}: no image numbered 4-5, 8; those frames are skipped, the "
        "others keep their places"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        f"{n:06d}.png" for n in (0, 1, 2, 5, 6, 8)]
    result = run(source, tmp_path / "out.mkv", "--method", "analytic", "-q", "--fps", "10")
    assert result.exit_code == 1, result.output
    assert np.allclose(frame_times(tmp_path / "out.mkv"), [0, 0.1, 0.2, 0.5, 0.6, 0.8],
                       atol=0.002)


def test_a_folder_plays_its_images_in_name_order_with_no_gaps(tmp_path):
    """A folder is not numbered by its names (they may be timestamps: a gap of years)."""
    folder = make_sequence(tmp_path / "in", [1, 2, 1_700_000_000_123], name="cap_{}.png")
    result = run(folder, tmp_path / "out.mkv", "--method", "analytic", "-q", "--fps", "10")
    assert result.exit_code == 0 and result.stderr == "", result.output
    assert np.allclose(frame_times(tmp_path / "out.mkv"), [0, 0.1, 0.2], atol=0.002)


def test_a_huge_gap_in_a_pattern_is_reported_without_walking_it(tmp_path):
    """Numbers 1, 2 and 10^12: the gap is reported as one range (it was listed number by
    number, and every number of it checked against the output, until memory ran out)."""
    folder = make_sequence(tmp_path / "in", [1, 2, 10**12], name="f{}.png")
    with SequenceSource(str(folder / "f%d.png")) as source:
        assert source.damage.startswith(f"no image numbered 3-{10**12 - 1};")
    result = run(folder / "f%d.png", tmp_path / "out" / "%d.png", "--method", "analytic", "-q")
    assert result.exit_code == 1 and "no image numbered 3-999999999999" in result.stderr


def test_unreadable_images_are_skipped_and_the_frames_around_them_written(tmp_path):
    """Every other frame is written, those just before the bad ones too (they were queued
    for writing when the first was met); one line names the first bad image (the sequence
    did not 'end early')."""
    folder = make_sequence(tmp_path / "in", list(range(12)))
    bad = folder / "frame_007.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"x" * 50)
    (folder / "frame_010.png").write_bytes(b"")
    result = run(folder / "frame_%03d.png", tmp_path / "out", "--method", "analytic", "-q")
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert f"{bad}: truncated or corrupt image" in lines[0] and "and 1 more unreadable" in lines[0]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        f"{n:06d}.png" for n in range(12) if n not in (7, 10)]


def test_unreadable_images_at_the_end_are_one_line_not_also_an_early_end(tmp_path):
    folder = make_sequence(tmp_path / "in", list(range(6)))
    for number in (4, 5):
        (folder / f"frame_{number:03d}.png").write_bytes(b"")
    result = run(folder / "frame_%03d.png", tmp_path / "out", "--method", "analytic", "-q")
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "and 1 more unreadable" in lines[0], lines


def test_a_complete_sequence_reports_nothing(tmp_path):
    folder = make_sequence(tmp_path / "in", [4, 5, 6])
    result = run(folder, tmp_path / "out", "--method", "analytic", "-q")
    assert result.exit_code == 0 and result.stderr == "", result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        f"{n:06d}.png" for n in range(3)]


# ------------------------------------------------------------------- a source failing midway

class FailingSource:
    """The first frames of a clip, then an ImageError (a video that cannot be read on)."""

    def __init__(self, clip: Path, good: int):
        self._source = open_source(str(clip))
        self.name, self.size, self.rate = "failing.mp4", self._source.size, self._source.rate
        self.audio, self._good = None, good

    def frames(self, on_audio=None):
        for frame in self._source.frames():
            if frame.index == self._good:
                self._source.close()
                raise ImageError("failing.mp4: cannot decode (broken)")
            yield frame


@pytest.mark.parametrize("prepared", [False, True])
def test_a_source_failing_midway_keeps_every_frame_before_it(clips, tmp_path, prepared):
    """Like an interrupted run: the frames before the failure (those still queued for the
    encoder too) are kept in a playable <name>.partial file, and the error says so."""
    source = FailingSource(clips[".mp4"], 9)
    target = tmp_path / "out.mp4"
    sink = open_sink(str(target), records=False, size=source.size, rate=source.rate)
    with pytest.raises(SourceFailed, match="cannot decode.*the 9 frames before it are kept"):
        if prepared:
            process(source, sink, lambda frame, map_: frame.rgb, prepare=lambda frame: None)
        else:
            process(source, sink, lambda frame: frame.rgb)
    kept = tmp_path / "out.partial.mp4"
    assert not target.exists() and probe(kept)["count"] == 9 and not leftovers(tmp_path)


def test_a_source_failing_at_once_leaves_nothing(clips, tmp_path):
    source = FailingSource(clips[".mp4"], 0)
    sink = open_sink(str(tmp_path / "out.mp4"), records=False, size=source.size,
                     rate=source.rate)
    with pytest.raises(ImageError, match="broken") as caught:
        process(source, sink, lambda frame: frame.rgb)
    assert not isinstance(caught.value, SourceFailed) and not any(tmp_path.iterdir())



def test_error_logs_of_videos_read_at_once_reach_each_and_settings_come_back():
    """Two reads whose blocks open A, B and close A first (interleaved generators, or
    threads): B still hears FFmpeg's errors, and the log settings are restored when the last
    closes, not while B reads (PyAV's own captures hand messages to the last one opened and
    drop the last one on any close)."""
    import av.logging

    from dofkit.video.ffmpeg_log import ffmpeg_errors

    before = av.logging.get_level(), av.logging.get_skip_repeated()
    first, second = ffmpeg_errors(), ffmpeg_errors()
    a, b = first.__enter__(), second.__enter__()
    av.logging.log(av.logging.ERROR, "h264", "one")
    assert len(a) == len(b) == 1
    first.__exit__(None, None, None)
    assert av.logging.get_level() == av.logging.ERROR  # B still reads
    av.logging.log(av.logging.ERROR, "h264", "two")
    assert [message for _, _, message in b] == ["one", "two"]
    b.clear()
    assert not b
    second.__exit__(None, None, None)
    assert (av.logging.get_level(), av.logging.get_skip_repeated()) == before
