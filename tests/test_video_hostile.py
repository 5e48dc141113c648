"""`dofkit video` on oddly made inputs: a frame far larger than the stream says (a tiny file
that would decode to a huge picture), an anamorphic clip (pixels not square), a raw H.264
elementary stream (no timestamps), a start time too large for FFmpeg's clock."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

import dofkit.video.io as video_io
from test_video import RATE, frame_times, make_video, run, scene


def make_png_bomb(path: Path, side: int, frames: int = 4) -> Path:
    """A MOV of PNG frames, 96x64 as its stream says, whose frame 1 is a ``side`` x ``side``
    PNG (a few kB of zeros that decode to a picture far larger than announced)."""
    buffer = io.BytesIO()
    Image.new("L", (side, side)).save(buffer, "PNG", compress_level=9)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("png", rate=RATE)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "rgb24"
        for index in range(frames):
            picture = av.VideoFrame.from_ndarray(np.zeros((64, 96, 3), np.uint8), "rgb24")
            picture.pts, picture.time_base = index, Fraction(1, RATE)
            for packet in stream.encode(picture):
                if index == 1:
                    packet = _with_data(packet, buffer.getvalue(), stream)
                container.mux(packet)
        container.mux(stream.encode(None))
    return path


def _with_data(packet: av.Packet, data: bytes, stream) -> av.Packet:
    """A key packet holding ``data`` at the place of ``packet``."""
    other = av.Packet(data)
    other.pts, other.dts, other.time_base = packet.pts, packet.dts, packet.time_base
    other.stream, other.is_keyframe = stream, True
    return other


@pytest.mark.parametrize("side, said", [
    (120, "frame size changes at 0.08 s (120x120, was 96x64)"),  # made, not converted
    (2000, "cannot decode a frame (2000x2000 px, far larger than the 96x64 the stream "
           "announces: refused before it is made)"),  # not even made by FFmpeg
])
def test_a_frame_larger_than_announced_is_refused_before_it_is_converted(tmp_path, monkeypatch,
                                                                          side, said):
    converted, made = [], []
    real_convert, real_decode = video_io._upright_rgb, av.Packet.decode

    def convert(decoded, name):
        converted.append((decoded.width, decoded.height))
        return real_convert(decoded, name)

    def decode(packet):
        frames = real_decode(packet)
        made.extend((frame.width, frame.height) for frame in frames)
        return frames

    monkeypatch.setattr(video_io, "_upright_rgb", convert)
    monkeypatch.setattr(av.Packet, "decode", decode)
    source = make_png_bomb(tmp_path / "bomb.mov", side)
    result = run(source, tmp_path / "out.mp4", "--method", "analytic")
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"bomb.mov: {said}" in lines[0], lines
    assert "the 1 frame before it is kept" in lines[0]
    assert converted == [(96, 64)]
    assert ((side, side) in made) == (side == 120)


def sample_aspect(path: Path) -> Fraction | None:
    with av.open(str(path)) as container:
        return container.streams.video[0].codec_context.sample_aspect_ratio


@pytest.mark.parametrize("rotation, shown", [(0, Fraction(2)), (90, Fraction(1, 2))])
def test_an_anamorphic_clip_keeps_its_pixel_shape(tmp_path, rotation, shown):
    source = make_video(tmp_path / "wide.mkv", 6, rotation=rotation, aspect=Fraction(2))
    result = run(source, tmp_path / "out.mp4", "--method", "analytic")
    assert result.exit_code == 0, result.output
    assert sample_aspect(tmp_path / "out.mp4") == shown


def test_a_raw_h264_stream_plays_at_the_rate_its_bitstream_states(tmp_path):
    source = tmp_path / "clip.h264"
    with av.open(str(source), "w", format="h264") as container:
        stream = container.add_stream("libx264", rate=RATE)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        for index in range(6):
            picture = av.VideoFrame.from_ndarray((scene(index) * 255).astype(np.uint8), "rgb24")
            picture.pts, picture.time_base = index, Fraction(1, RATE)
            container.mux(stream.encode(picture))
        container.mux(stream.encode(None))
    result = run(source, tmp_path / "out.mp4", "--method", "analytic")
    assert result.exit_code == 0, result.output
    assert frame_times(tmp_path / "out.mp4") == pytest.approx([i / RATE for i in range(6)])


def test_a_start_beyond_any_video_is_a_usage_error_and_a_huge_duration_reads_all(tmp_path):
    source = make_video(tmp_path / "clip.mp4", 4)
    result = run(source, tmp_path / "out.mp4", "--method", "analytic", "--start", "1e300")
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert lines == ["dofkit: error: --start must be at most 1e+09 s; got 1e+300"], lines
    result = run(source, tmp_path / "out.mp4", "--method", "analytic", "--duration", "1e300")
    assert result.exit_code == 0, result.output
    assert len(frame_times(tmp_path / "out.mp4")) == 4
