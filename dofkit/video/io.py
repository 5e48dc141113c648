"""Streaming video input and output: a few frames in memory at a time, audio carried across.

Sources yield :class:`Frame` objects (float32 RGB (H, W, 3) in [0, 1]) from a video file
(PyAV) or an image sequence (a folder, or a printf pattern such as ``frames/%05d.png``).
Sinks take results frame by frame: a video file (written to a hidden temporary file in the
target folder and renamed when complete), an image sequence, or JSON lines.

Frames of a video are turned upright as its display matrix says (phones record portrait video
as landscape frames with a rotation to apply), as players show them; the output is written
upright, with no rotation of its own. Output video has one output frame per input frame,
each shown at its time in the source (a variable frame rate stays variable, and the picture in
sync with the sound), with the source's average rate as its nominal rate (H.264, CRF 18;
yuv420p, or yuv444p when a side is odd; limited range, BT.709 for HD and BT.601 below, tagged
so). Video is read with the colour matrix it is tagged with, else the one players assume. The audio track is remuxed packet by packet when the
output container takes its codec, else re-encoded to the container's default audio codec;
either way it keeps its place against the video.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from io import BytesIO
from pathlib import Path
from typing import Callable, Iterator

import av
import numpy as np

from ..errors import DofkitError, ImageError, OutputError, ParameterError
from ..io import (STDIO, AtomicFile, check_output_path, max_pixels_default, open_image, to_uint,
                  write_image, write_stdout)
from ..io.atomic import make_folder, os_reason
from ..io.encode import check_samples
from ..io.decode import check_pixel_count
from ..io.inputs import file_kind
from .ffmpeg_log import Errors, ffmpeg_errors
from .orientation import UPRIGHT_STEPS, display_matrix, transposes, upright_steps

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
#: Video suffixes we write (all as H.264 with :data:`H264_OPTIONS`).
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv")
#: FFmpeg container of each video suffix.
CONTAINERS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}
H264_OPTIONS = {"crf": "18", "preset": "veryfast"}
#: Frame rate of an image-sequence input unless told otherwise.
DEFAULT_SEQUENCE_RATE = 25
#: Frame rates accepted for an image sequence (frames per second): what a video stream can
#: carry (its time base limits the rate to a fraction with denominator <= 1001).
MIN_SEQUENCE_RATE, MAX_SEQUENCE_RATE = 0.01, 1000.0
#: Clock of the video we write: ticks per frame at its nominal rate (so a constant-rate source
#: stays exactly constant, and a variable one keeps its times to a thousandth of a frame).
TICKS_PER_FRAME = 1000
#: Smallest step (s) between two frames we write (Matroska's clock): a frame whose time is not
#: that far after the one before (timestamps that repeat or go back a little) is written that
#: far after it, so the frames after it keep their times (and the sound its sync).
MIN_FRAME_STEP = 0.001
#: How far (s) the time of a decoded frame may go back: further is a reset clock (streams
#: joined end to end), an error rather than frames dropped or squeezed.
MAX_STEP_BACK = 1.0
#: Latest ``start`` (s) accepted: about 31 years, far past any video, and well within
#: FFmpeg's clock (64-bit microseconds) where seeking is done.
MAX_START = 1e9
#: FFmpeg's flag of a container format that has no timestamps (raw elementary streams).
AVFMT_NOTIMESTAMPS = 0x80
#: How many names (``.partial``, ``.partial-2``, ...) an interrupted run may try for the
#: output it keeps; the longest is checked before anything is written.
MAX_PARTIALS = 999
#: Sequence output written into a folder is named by this pattern.
FOLDER_PATTERN = "%06d.png"
#: FFmpeg's words for a frame over the decoder's bound (:func:`bound_decoder`).
_OVERSIZED = re.compile(r"Picture size (\d+x\d+) exceeds specified max pixel count")
#: FFmpeg's colour tags (AVColorSpace, AVColorPrimaries, AVColorTransferCharacteristic share
#: these numbers): BT.709 (HD), SMPTE 170M (BT.601, SD), and "not said".
BT709, SMPTE170M, UNSPECIFIED = 1, 6, 2
#: FFmpeg's tag of limited ("TV", "MPEG") range: Y' in 16-235.
LIMITED_RANGE = 1
#: FFmpeg's tag of the PQ transfer (SMPTE ST 2084) of HDR video.
SMPTE2084 = 16
#: A name that starts with a URL scheme or an FFmpeg protocol (``http:``, ``concat:``).
_PROTOCOL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:")
_PRINTF_FIELD = re.compile(r"%0?(\d*)d")


@dataclass(frozen=True)
class Frame:
    """One decoded frame: ``index`` counts from 0 at the first frame processed, ``time`` is
    seconds from the start of the source, ``rgb`` is float32 (H, W, 3) in [0, 1]."""

    index: int
    time: float
    rgb: np.ndarray


AudioHandler = Callable[[av.Packet], None]


class Damage:
    """Where a video stream was damaged: spans (s) from the last clean frame before a decoding
    problem (an FFmpeg error, a packet or frame marked corrupt) to the first clean frame after
    it, which covers the frames lost or concealed there."""

    def __init__(self, start: float):
        self.spans: list[tuple[float, float | None]] = []
        self._clean = start  # time of the last clean frame

    def problem(self) -> None:
        """Note a problem at the current place of the stream (a span touching the one
        before, or overlapping it, is joined to it)."""
        if self.spans and (self.spans[-1][1] is None or self.spans[-1][1] >= self._clean):
            self.spans[-1] = (self.spans[-1][0], None)
        else:
            self.spans.append((self._clean, None))

    def frame(self, time: float, corrupt: bool) -> None:
        """Note a frame decoded at ``time`` (s), ``corrupt`` when marked so."""
        if corrupt:
            self.problem()
            return
        if self.spans and self.spans[-1][1] is None:
            self.spans[-1] = (self.spans[-1][0], time)
        self._clean = time

    def describe(self) -> str | None:
        """One line saying where the damage is, or None when there was none."""
        if not self.spans:
            return None
        places = ", ".join(f"{begin:.2f}-{f'{end:.2f} s' if end is not None else 'the end'}"
                           for begin, end in self.spans[:5])
        more = f" and {len(self.spans) - 5} more" if len(self.spans) > 5 else ""
        return (f"damaged data: frames lost or concealed at {places}{more}; the output holds "
                "the frames that decoded, at their times")


def is_hd(width: int, height: int) -> bool:
    """Whether a picture of ``width`` x ``height`` stored pixels is HD as players judge an
    untagged video (mpv, VLC, browsers): then its YUV is read with the BT.709 matrix, else
    with BT.601."""
    return width >= 1280 or height > 576


def bound_decoder(stream, width: int, height: int) -> None:
    """Make the decoder of video ``stream`` (not yet decoding) refuse, before it allocates
    them, frames of more than a few times the ``width`` x ``height`` its stream announces:
    a small file can hold a frame that decodes to gigabytes (FFmpeg's own bound is about
    16000 x 16000). The margin leaves room for coded sizes (aligned to 16 or 64 px); any
    size other than the announced one is refused later anyway."""
    limit = 4 * width * height + 256 * 256
    stream.codec_context.options = {**stream.codec_context.options, "max_pixels": str(limit)}


def first_display_matrix(path: str, stream: int, size: tuple[int, int]) -> np.ndarray | None:
    """The display matrix of the first decodable frame of video stream ``stream`` (its
    index) of the file at ``path``, whose stream announces ``size`` (width, height) (None
    when there is none or no frame decodes: reading the stream then reports the error)."""
    try:
        with av.open(path, "r") as container:
            bound_decoder(container.streams[stream], *size)
            for decoded in container.decode(container.streams[stream]):
                return display_matrix(decoded)
    except av.FFmpegError:
        pass
    return None


def is_sequence(path: str) -> bool:
    """True when ``path`` names an image sequence: a printf pattern, or a folder."""
    return bool(_PRINTF_FIELD.search(Path(path).name)) or Path(path).is_dir()


def frame_path(pattern: str, index: int) -> Path:
    """The file of frame ``index`` of the printf ``pattern``: its one ``%d`` / ``%0Nd`` field
    filled in (any other ``%`` in the name is kept as it is); ParameterError when the name
    holds more than one field."""
    path = Path(pattern)
    fields = list(_PRINTF_FIELD.finditer(path.name))
    if len(fields) != 1:
        raise ParameterError(f"{pattern}: an image-sequence pattern needs exactly one frame "
                             f"number field (%d or %0Nd); found {len(fields)}", "pattern")
    field = fields[0]
    return path.with_name(path.name[:field.start()] + field.group(0) % index
                          + path.name[field.end():])


def check_range(start: float, duration: float | None) -> None:
    """Refuse a ``start`` that is negative or past :data:`MAX_START`, or a ``duration`` that
    is not a finite positive number of seconds."""
    if not 0 <= start < math.inf:
        raise ParameterError(f"start must be a finite number of seconds >= 0; got {start:g}",
                             "start")
    if start > MAX_START:
        raise ParameterError(f"start must be at most {MAX_START:g} s; got {start:g}", "start")
    if duration is not None and not 0 < duration < math.inf:
        raise ParameterError(f"duration must be a finite number of seconds > 0; got "
                             f"{duration:g}", "duration")


def range_edges(start: float, duration: float | None) -> tuple[float, float]:
    """The range [start, start + duration) (s) narrowed by a margin at each end: 1 ms, or a
    quarter of ``duration`` when that is shorter. A frame is in the range when the time it is
    shown, [t, t + 1 / rate), overlaps the narrowed one: frames that only touch the range
    are out, also when their timestamps are rounded to the millisecond (Matroska)."""
    margin = MIN_FRAME_STEP if duration is None else min(MIN_FRAME_STEP, duration / 4)
    return start + margin, math.inf if duration is None else start + duration - margin


def frame_slots(begin: float, end: float, rate: Fraction) -> tuple[int, float]:
    """The number of the first frame of a constant ``rate`` (frame n shown over
    [n / rate, (n + 1) / rate)) that overlaps [begin, end), and the one after the last
    (``math.inf`` when ``end`` is)."""
    return math.floor(begin * rate), end if end == math.inf else math.ceil(end * rate)


# ---------------------------------------------------------------------------------- sources

class _Source:
    """Sources are context managers that call their ``close``."""

    def close(self) -> None:
        """Release the input (nothing to do by default)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class VideoSource(_Source):
    """Frames of a video file, decoded one at a time, from ``start`` for ``duration`` seconds.

    Attributes: ``name``, ``size`` ((width, height) of the upright frames), ``rate``
    (Fraction, frames per second), ``count`` (expected number of frames, or None when the
    container does not say; an estimate for a variable frame rate), ``start`` (when the range
    read starts, s from the source's start: the audio handed on is moved to start there, or
    at the first frame's time when that is earlier, as a sink given it shows its frames),
    ``end`` (when the range read ends, or None), ``length`` (when the whole video ends, or
    None), ``reached_end`` (True once a frame at or past the end of the range was decoded:
    the range was read whole),
    ``audio`` (the input audio stream, or None), ``aspect`` (Fraction: width of a pixel of the
    upright frames over its height, 1 unless the video is anamorphic).
    """

    def __init__(self, path: str, *, start: float = 0.0, duration: float | None = None):
        check_range(start, duration)
        self.name = path
        _check_file(path)
        try:
            self._container = av.open(path, "r")
        except av.FFmpegError as exc:
            raise ImageError(f"{path}: not a video ({_reason(exc)})") from None
        try:
            self._inspect(path)
        except BaseException:
            self._container.close()
            raise
        self.start = start
        self._range = range_edges(start, duration)
        self.length = self._video_end()
        self.end = min((end for end in (self.length, None if duration is None
                                        else start + duration) if end is not None),
                       default=None)
        self.count = self._expected_count()
        self.reached_end = False
        self._damage = Damage(start)

    def _inspect(self, path: str) -> None:
        """The video stream, its upright size and rate, the audio stream and the time of the
        first frame; ImageError when there is no video dofkit can read."""
        self._video = _main_video(self._container, path)
        context = self._video.codec_context
        if context is None:  # codec unknown to FFmpeg, or its header cut off (truncated)
            raise ImageError(f"{path}: no video codec dofkit can read in it (unsupported "
                             "codec, or a truncated or corrupt file)")
        if not context.width or not context.height:  # e.g. text named x.png
            raise ImageError(f"{path}: not a video dofkit can read (no frame size in its "
                             f"{context.name} data)")
        if context.color_trc == SMPTE2084:
            raise ImageError(f"{path}: HDR video (PQ, SMPTE ST 2084) is not supported; "
                             "convert it to SDR first")
        check_pixel_count(path, context.width, context.height, max_pixels_default(),
                          what="video frames", advice="DOFKIT_MAX_PIXELS")
        self._announced = (context.width, context.height)  # as coded, before any turn
        bound_decoder(self._video, *self._announced)
        self._video.thread_type = "AUTO"
        self.size = (context.width, context.height)
        self.aspect = Fraction(self._video.sample_aspect_ratio
                               or context.sample_aspect_ratio or 1)
        # PyAV cannot read the stream's display matrix, only a decoded frame's: one frame is
        # decoded from a second opening of the file (about the cost of opening it)
        matrix = first_display_matrix(path, self._video.index, self.size)
        if transposes(upright_steps(matrix, path)):
            self.size, self.aspect = (context.height, context.width), 1 / self.aspect
        self.rate = _frame_rate(self._container, self._video)
        if self.rate <= 0:
            raise ImageError(f"{path}: no frame rate in the video stream")
        audio = self._container.streams.audio
        self.audio = audio[0] if audio else None
        origin = self._video.start_time
        self._origin = float(origin * self._video.time_base) if origin is not None else 0.0

    def _video_end(self) -> float | None:
        """When the video stream ends, in s from its first timestamp, or None: its duration;
        else the DURATION tag Matroska writers give each track; else the container's
        duration (it covers every stream: later than the video's end when the audio runs
        longer). Tags and containers differ on what they count from (0 or their start): the
        earlier reading is taken, so a truncation may go unnoticed rather than be invented."""
        stream = self._video
        if stream.duration:
            return float(stream.duration * stream.time_base)
        tag = _seconds(stream.metadata.get("DURATION", ""))
        if tag is not None:
            return _earliest_end(tag, self._origin, self._origin)
        if self._container.duration:
            return _earliest_end(self._container.duration / av.time_base,
                                 (self._container.start_time or 0) / av.time_base, self._origin)
        return None

    def _expected_count(self) -> int | None:
        """The frames of the range at the nominal rate (:func:`frame_slots`), or None."""
        first, last = frame_slots(*self._range, self.rate)
        total = self._video.frames or (None if self.length is None
                                       else round(self.length * self.rate))
        if total is not None:
            last = min(last, total)
        return None if last == math.inf else max(last - first, 0)

    @property
    def damage(self) -> str | None:
        """Where the frames read so far were damaged (see :class:`Damage`), or None."""
        return self._damage.describe()

    def frames(self, on_audio: AudioHandler | None = None) -> Iterator[Frame]:
        """Decode frames in order; audio packets in the range go to ``on_audio`` with their
        timestamps moved so that ``start`` becomes 0 (the first frame's time, when earlier:
        a frame shown from before ``start`` on). Damaged data the decoder skips or
        conceals is noted in :attr:`damage`, and the frames that decode go on."""
        try:
            with ffmpeg_errors() as errors:
                yield from self._frames(on_audio if self.audio is not None else None, errors)
        except av.FFmpegError as exc:
            raise ImageError(f"{self.name}: cannot decode ({_reason(exc)})") from None

    def _decode(self, packet: av.Packet, errors: Errors) -> list[av.VideoFrame]:
        """The frames of ``packet``; a problem (the packet marked corrupt, data the decoder
        refuses, an error FFmpeg logged since the last call) is noted in the damage. A frame
        the decoder will not make (larger than its bound: :func:`bound_decoder`)
        is an ImageError saying what FFmpeg said."""
        try:
            decoded = packet.decode()
        except av.InvalidDataError:
            decoded = []
            self._damage.problem()
        except av.ArgumentError as exc:  # (with threads, a packet or two after the frame's)
            said = errors.last or _reason(exc)
            oversized = _OVERSIZED.match(said)
            if oversized:
                width, height = self._announced
                said = (f"{oversized.group(1)} px, far larger than the {width}x{height} the "
                        "stream announces: refused before it is made")
            raise ImageError(f"{self.name}: cannot decode a frame ({said})") from None
        if errors or packet.is_corrupt:
            errors.clear()
            self._damage.problem()
        return decoded

    def _frames(self, on_audio: AudioHandler | None, errors: Errors) -> Iterator[Frame]:
        target = int((self._origin + self.start) * av.time_base)
        if self.start > 0 and _seek_lands(self.name, self._video.index, target,
                                          self.start + self._origin):
            self._container.seek(target, backward=True)  # else read from the start: slower
        streams = [self._video] + ([self.audio] if on_audio else [])
        index, video_done, latest, heard = 0, False, -math.inf, -math.inf
        interval = 1 / float(self.rate)
        begin, end = self._range
        zero, held = None, []  # where the output starts (the first frame says), audio before
        for packet in self._container.demux(*streams):
            if packet.stream.type == "audio":
                if packet.pts is not None:
                    heard = self._onwards(float(packet.pts * packet.time_base) - self._origin,
                                          heard, "in the audio")
                if zero is None:
                    if self._audio_in_range(packet, self.start - interval):
                        held.append(packet)
                elif self._audio_in_range(packet, zero):
                    on_audio(self._moved(packet, zero))
                elif video_done and packet.pts is not None:
                    return  # audio is past the end too
                continue
            if video_done:
                if on_audio is None:
                    return
                continue
            for decoded in self._decode(packet, errors):
                time = self._time(decoded, index)
                latest = self._onwards(time, latest, f"at frame {index}")
                if time + interval <= begin:
                    self._damage = Damage(self.start)  # problems before the range: not ours
                    continue
                self._damage.frame(time, decoded.is_corrupt)
                if time >= end:
                    video_done = self.reached_end = True
                    if zero is None:
                        return  # no frame in the range
                    break
                if zero is None:
                    zero = min(self.start, time)
                    for early in held:
                        if self._audio_in_range(early, zero):
                            on_audio(self._moved(early, zero))
                    held.clear()
                self._check_size(decoded, time)
                rgb = _upright_rgb(decoded, self.name)
                yield Frame(index, time,
                            rgb.astype(np.float32, order="C") * np.float32(1 / 255))
                index += 1

    def _check_size(self, decoded: av.VideoFrame, time: float) -> None:
        """ImageError when ``decoded``, turned upright, is not :attr:`size`; checked before its
        samples are converted, so a frame far larger than announced is never expanded."""
        width, height = decoded.width, decoded.height
        if transposes(upright_steps(display_matrix(decoded), self.name)):
            width, height = height, width
        if (width, height) != self.size:
            raise ImageError(f"{self.name}: frame size changes at {time:.2f} s ({width}x{height}, "
                             f"was {self.size[0]}x{self.size[1]})")

    def _onwards(self, time: float, latest: float, where: str) -> float:
        """The latest time seen once ``time`` (s) is: ImageError when it lies more than
        :data:`MAX_STEP_BACK` before ``latest``."""
        if time < latest - MAX_STEP_BACK:
            raise ImageError(f"{self.name}: timestamps jump back {where} (to {time:.2f} s after "
                             f"{latest:.2f} s): streams joined end to end, or a broken file; "
                             "remux it with fresh timestamps")
        return max(latest, time)

    def _time(self, decoded: av.VideoFrame, index: int) -> float:
        """Seconds from the start of the stream (from the timestamp, else the index)."""
        if decoded.time is None:
            return self.start + index / float(self.rate)
        return decoded.time - self._origin

    def _audio_in_range(self, packet: av.Packet, zero: float) -> bool:
        """Whether audio ``packet`` overlaps the range, taken from ``zero`` (s) on (from
        before the video when ``start`` is 0)."""
        if packet.pts is None:
            return False
        base = packet.time_base
        begin = float(packet.pts * base) - self._origin
        if begin + float((packet.duration or 0) * base) <= zero and self.start > 0:
            return False
        return begin < self._range[1]

    def _moved(self, packet: av.Packet, zero: float) -> av.Packet:
        """``packet`` with its timestamps moved so that ``zero`` (s) becomes 0."""
        shift = round((self._origin + zero) / packet.time_base)  # the video's timeline too
        packet.pts -= shift
        if packet.dts is not None:
            packet.dts -= shift
        return packet

    def close(self) -> None:
        self._container.close()


def _check_file(path: str) -> None:
    """ImageError naming ``path`` unless it is a regular file that is not empty (a named
    pipe is not opened: that would block)."""
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        if _PROTOCOL.match(path):
            raise ImageError(f"{path}: URLs and ffmpeg protocols are not read; give a "
                             "file") from None
        raise ImageError(f"{path}: no such file") from None
    if not stat.S_ISREG(info.st_mode):
        raise ImageError(f"{path}: not a regular file ({file_kind(info.st_mode)})")
    if info.st_size == 0:
        raise ImageError(f"{path}: empty file (0 bytes)")


def _main_video(container: av.container.InputContainer,
                path: str) -> av.video.stream.VideoStream:
    """The video stream FFmpeg would take: the default one, else the largest; cover art
    (an attached picture) is no video. ImageError naming ``path`` when there is none."""
    streams = [stream for stream in container.streams.video
               if av.stream.Disposition.attached_pic not in stream.disposition]
    if not streams:
        art = " (only cover art)" if container.streams.video else ""
        raise ImageError(f"{path}: no video stream{art}")

    def rank(stream: av.video.stream.VideoStream) -> tuple[bool, int]:
        context = stream.codec_context  # None for a codec FFmpeg does not know
        return (av.stream.Disposition.default in stream.disposition,
                context.width * context.height if context is not None else 0)

    return max(streams, key=rank)


def _frame_rate(container: av.container.InputContainer,
                stream: av.video.stream.VideoStream) -> Fraction:
    """The frame rate of ``stream`` (0 when unknown): the average of its timestamps; in a
    format without timestamps (a raw H.264 or HEVC elementary stream, where FFmpeg assumes
    25/s), the rate its bitstream states, when it states one."""
    stated = stream.codec_context.framerate
    if container.format.flags & AVFMT_NOTIMESTAMPS and stated:
        return Fraction(stated)
    return Fraction(stream.average_rate or stream.guessed_rate or 0)


def _upright_rgb(decoded: av.VideoFrame, name: str) -> np.ndarray:
    """The uint8 RGB (H, W, 3) samples of ``decoded``, turned upright as its display matrix
    says (``name`` names the video in an error). YUV is read with the matrix and range the
    frame is tagged with; an untagged one with the matrix players assume (:func:`is_hd`)."""
    matrix = {}
    if decoded.colorspace == UNSPECIFIED:  # untagged: the matrix players assume by size
        matrix["src_colorspace"] = "ITU709" if is_hd(decoded.width, decoded.height) else "ITU601"
    rgb = decoded.to_ndarray(format="rgb24", **matrix)
    for step in upright_steps(display_matrix(decoded), name):
        rgb = UPRIGHT_STEPS[step](rgb)
    return rgb


def _seek_lands(path: str, stream: int, target: int, time: float) -> bool:
    """Whether seeking the video at ``path`` back to ``target`` (AV_TIME_BASE units) gives a
    first frame of video stream ``stream`` (its index) at or before ``time`` (s), tried on a
    second opening of the file: without an index (MPEG-TS) a seek can land past the end, and
    the range would look empty."""
    try:
        with av.open(path, "r") as container:
            container.seek(target, backward=True)
            decoded = next(container.decode(container.streams[stream]), None)
    except av.FFmpegError:
        return False
    return decoded is not None and decoded.time is not None and decoded.time <= time


def _seconds(text: str) -> float | None:
    """``"HH:MM:SS.fraction"`` (a Matroska DURATION tag) -> seconds, None if not that."""
    match = re.fullmatch(r"(\d+):(\d\d):(\d\d(?:\.\d*)?)", text.strip())
    if match is None:
        return None
    hours, minutes, seconds = match.groups()
    return 3600 * int(hours) + 60 * int(minutes) + float(seconds)


def _earliest_end(total: float, start: float, origin: float) -> float | None:
    """The end, in s from ``origin``, of data said to last ``total`` s, counted either from 0
    or from ``start``: the earlier reading that lies after ``origin``, None if neither does."""
    readings = [end for end in (total - origin, start + total - origin) if end > 0]
    return min(readings) if readings else None


class SequenceSource(_Source):
    """Frames of an image sequence (a folder of images, or a printf pattern), in numeric
    order, at ``rate`` frames per second. Same attributes as :class:`VideoSource`.

    Each image keeps its place: the frame numbered ``n`` (counted from the first image of the
    sequence) is shown at ``n / rate``, and its ``index`` is ``n`` less the number of the first
    frame read. Numbers missing within the range and images that cannot be read (or are not
    the size of the others) are skipped, the other frames go on, and :attr:`damage` says
    which.
    """

    audio = None
    aspect = Fraction(1)

    def __init__(self, path: str, *, rate: float = DEFAULT_SEQUENCE_RATE, start: float = 0.0,
                 duration: float | None = None):
        check_range(start, duration)
        if not MIN_SEQUENCE_RATE <= rate <= MAX_SEQUENCE_RATE:
            raise ParameterError(f"rate must be in [{MIN_SEQUENCE_RATE:g}, "
                                 f"{MAX_SEQUENCE_RATE:g}] frames per second; got {rate:g}",
                                 "rate")
        self.name = path
        self.rate = Fraction(rate).limit_denominator(1001)
        numbered = number_sequence(path)
        first, last = frame_slots(*range_edges(start, duration), self.rate)
        origin = numbered[0][0]
        self._files = [(n - origin, file) for n, file in numbered if first <= n - origin < last]
        if not self._files:
            raise ImageError(f"{path}: no frames in the range asked (the sequence has "
                             f"{len(numbered)} images)")
        self.count = len(self._files)
        self.start = start
        self.end = float((self._files[-1][0] + 1) / self.rate)  # after the last image
        self.length = float((numbered[-1][0] - origin + 1) / self.rate)
        self._missing = _gaps([n + origin for n, _ in self._files])
        self._unreadable: list[str] = []
        self.size = self._first_size()

    def _first_size(self) -> tuple[int, int]:
        """The size of the first image that can be read; the error of the first image when
        none can."""
        errors = []
        for _, file in self._files:
            try:
                return open_image(file).size
            except ImageError as exc:
                errors.append(exc)
        raise errors[0]

    def frames(self, on_audio: AudioHandler | None = None) -> Iterator[Frame]:
        self._unreadable = []
        begin = self._files[0][0]
        for number, file in self._files:
            try:
                picture = open_image(file)
                if picture.size != self.size:
                    raise ImageError(f"{file}: image is {picture.size[0]}x{picture.size[1]}, "
                                     f"the sequence is {self.size[0]}x{self.size[1]}")
            except ImageError as exc:
                self._unreadable.append(str(exc))
                continue
            yield Frame(number - begin, float(number / self.rate), picture.rgb)
            # the range ends after the last image read: unreadable ones after it are damage,
            # already said, not an early end
            self.end = float((number + 1) / self.rate)

    @property
    def damage(self) -> str | None:
        """Which frames were skipped so far (numbers missing, images unreadable), or None."""
        parts = []
        if self._missing:
            parts.append(f"no image numbered {_number_ranges(self._missing)}")
        if self._unreadable:
            more = (f" and {len(self._unreadable) - 1} more unreadable"
                    if len(self._unreadable) > 1 else "")
            parts.append(f"{self._unreadable[0]}{more}")
        if not parts:
            return None
        return "; ".join(parts) + "; those frames are skipped, the others keep their places"


def _gaps(numbers: list[int]) -> list[tuple[int, int]]:
    """(first, last) of each run of numbers missing between the sorted ``numbers``."""
    return [(a + 1, b - 1) for a, b in zip(numbers, numbers[1:]) if b - a > 1]


def _number_ranges(gaps: list[tuple[int, int]], most: int = 5) -> str:
    """``[(3, 5), (9, 9)]`` -> ``"3-5, 9"`` (at most ``most`` ranges, then how many more)."""
    text = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in gaps[:most])
    return text + (f" and {len(gaps) - most} more ranges" if len(gaps) > most else "")


def number_sequence(path: str) -> list[tuple[int, Path]]:
    """(frame number, file) of each image, in order: a folder's images numbered 0, 1, ... in
    name order (numbers in names compared as numbers), a printf pattern's by the number in
    their names (only the names the pattern writes: ``%03d`` takes 007 and 1234, not 7 or
    000100; numbers it lacks are gaps). Raises ImageError when there are none."""
    target = Path(path)
    if target.is_dir():
        files = [p for p in target.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
        files.sort(key=lambda p: [int(part) if part.isdigit() else part
                                  for part in re.split(r"(\d+)", p.name)])
        numbered = list(enumerate(files))
    else:
        folder = target.parent
        frame_path(path, 0)  # exactly one field
        match = _PRINTF_FIELD.search(target.name)
        head, tail = target.name[:match.start()], target.name[match.end():]
        field = re.compile(re.escape(head) + r"(\d+)" + re.escape(tail) + "$")
        if not folder.is_dir():
            raise ImageError(f"{path}: folder {folder} does not exist")
        numbered = sorted((int(m.group(1)), p) for p in folder.iterdir()
                          if (m := field.match(p.name))
                          and p.name == head + match.group(0) % int(m.group(1)) + tail)
    if not numbered:
        raise ImageError(f"{path}: no images found")
    return numbered


def open_source(path: str, *, start: float = 0.0, duration: float | None = None,
                rate: float | None = None):
    """A :class:`SequenceSource` for a folder or printf pattern, else a :class:`VideoSource`.
    ``rate`` (frames per second) applies to sequences only. An OS error met while the name
    is checked (a name too long for the file system) is an ImageError naming ``path``."""
    try:
        return _open_source(path, start=start, duration=duration, rate=rate)
    except OSError as exc:
        raise ImageError(f"{path}: cannot read ({os_reason(exc)})") from None


def _open_source(path: str, *, start: float, duration: float | None, rate: float | None):
    if path == STDIO:
        raise ParameterError("'-': video is not read from stdin (it is read in several "
                             "passes); give a file, a folder or a printf pattern")
    if is_sequence(path):
        return SequenceSource(path, rate=DEFAULT_SEQUENCE_RATE if rate is None else rate,
                              start=start,
                              duration=duration)
    if rate is not None:
        raise ParameterError("rate applies to image-sequence input only; a video keeps its "
                             "own frame rate", "rate")
    return VideoSource(path, start=start, duration=duration)


# ------------------------------------------------------------------------------------ sinks

class VideoSink:
    """Encode frames into a video file, with the source's audio; see the module docstring.

    Each frame is shown at its ``time`` less ``start`` (the source's ``start``, which its
    audio is moved by too), or less the first frame's time when ``start`` is None or later
    (a frame shown from before ``start`` on shows whole, from 0); ``aspect``: the pixels'
    width over their height (the source's: an anamorphic clip is shown as it was).
    Frames go to an atomic output (:class:`dofkit.io.AtomicFile`:
    nothing is left if the process is killed). :meth:`finish` names it ``target``;
    :meth:`keep_partial` closes it properly (a playable file) and names it
    ``<stem>.partial<suffix>`` (a free name: see :func:`_partial_names`); :meth:`discard`
    drops it.
    """

    def __init__(self, target: str, *, size: tuple[int, int], rate: Fraction,
                 audio: av.audio.stream.AudioStream | None = None, inputs: tuple[str, ...] = (),
                 start: float | None = None, aspect: Fraction = Fraction(1)):
        self.target = Path(target)
        if self.target.suffix.lower() not in VIDEO_SUFFIXES:
            raise ParameterError(f"{target}: cannot write '{self.target.suffix}' video; use one "
                                 f"of {', '.join(VIDEO_SUFFIXES)}, an image pattern such as "
                                 f"frames/%05d.png, or a folder")
        check_writable(self.target, inputs)
        self.written = 0
        self._audio_encoder = None
        self._start = start
        self._tick = (1 / (rate * TICKS_PER_FRAME)).limit_denominator(2 ** 31 - 1)
        self._last_pts: int | None = None
        self._output = AtomicFile(self.target)
        try:
            self._container = av.open(self._output.file, "w",
                                      format=CONTAINERS[self.target.suffix.lower()])
        except (av.FFmpegError, OSError) as exc:
            self._output.discard()
            raise OutputError(f"{target}: cannot write ({_reason(exc)})") from None
        try:
            with self._encoding():
                self._video = self._container.add_stream("libx264", rate=rate,
                                                         options=H264_OPTIONS)
                self._video.width, self._video.height = size
                even = size[0] % 2 == 0 and size[1] % 2 == 0
                self._video.pix_fmt = "yuv420p" if even else "yuv444p"
                self._tag_colours(size)
                self._video.codec_context.time_base = self._tick
                if aspect != 1:
                    self._video.codec_context.sample_aspect_ratio = aspect
                self.on_audio = None if audio is None else self._audio_route(audio)
        except BaseException:
            self.discard()
            raise

    def _tag_colours(self, size: tuple[int, int]) -> None:
        """Encode with the matrix players assume for a video of ``size`` (BT.709 for HD,
        BT.601 for SD: :func:`is_hd`), limited range, and say so in the stream (matrix,
        primaries, transfer, range), so that players that read the tags and those that guess
        agree."""
        hd = is_hd(*size)
        self._matrix = "ITU709" if hd else "ITU601"
        context = self._video.codec_context
        tag = BT709 if hd else SMPTE170M
        context.colorspace = context.color_primaries = context.color_trc = tag
        context.color_range = LIMITED_RANGE

    @contextmanager
    def _encoding(self) -> Iterator[None]:
        """Turn FFmpeg errors into an ImageError, and OS errors of the file (a full disk) into
        an OutputError, naming the target."""
        try:
            yield
        except av.FFmpegError as exc:
            raise ImageError(f"{self.target}: cannot encode ({_reason(exc)})") from None
        except OSError as exc:  # raised through PyAV by the file it writes to
            raise OutputError(f"{self.target}: cannot write ({os_reason(exc)})") from None

    def _audio_route(self, source: av.audio.stream.AudioStream) -> AudioHandler:
        """Remux the packets of ``source`` when the container takes its codec, else decode and
        re-encode them to the container's default audio codec."""
        if _takes_copy(self._container.format.name, source):
            stream = self._container.add_stream_from_template(source)

            def remux(packet: av.Packet) -> None:
                packet.stream = stream
                with self._encoding():
                    self._container.mux(packet)

            return remux
        context = source.codec_context  # encoders refuse a layout of unknown channel order
        layout = {1: "mono", 2: "stereo"}.get(context.channels, context.layout)
        rate = context.sample_rate
        stream = self._container.add_stream(self._container.default_audio_codec, rate=rate,
                                            layout=layout)
        self._audio_encoder = stream
        placed = False  # the first samples are put where their (moved) packet says

        def reencode(packet: av.Packet) -> None:
            nonlocal placed
            with self._encoding():
                for decoded in packet.decode():
                    if placed:  # the rest follow on, sample after sample
                        decoded.pts = None
                    else:
                        at = 0 if decoded.pts is None else round(decoded.pts
                                                                 * decoded.time_base * rate)
                        if at + decoded.samples <= 0:
                            continue  # all of it before the first video frame
                        decoded.pts, decoded.time_base, placed = at, Fraction(1, rate), True
                    self._container.mux(stream.encode(decoded))

        return reencode

    def write(self, frame: Frame, values: np.ndarray) -> None:
        """Encode float32 RGB (H, W, 3) or grey (H, W) in [0, 1] as the next frame, of the
        stream's size (ParameterError naming ``values`` otherwise: never stretched)."""
        check_samples(values)
        size = (self._video.width, self._video.height)
        if values.shape[1::-1] != size:
            raise ParameterError(f"values must be a frame of the video's size {size[0]}x"
                                 f"{size[1]}; got {values.shape[1]}x{values.shape[0]}",
                                 "values")
        samples = to_uint(values, 8)
        picture = av.VideoFrame.from_ndarray(samples, format="gray" if samples.ndim == 2
                                             else "rgb24")
        picture = picture.reformat(format=self._video.pix_fmt, dst_colorspace=self._matrix,
                                   dst_color_range="MPEG")
        picture.pts = self._pts(frame.time)
        with self._encoding():
            self._container.mux(self._video.encode(picture))
        self.written += 1

    def _pts(self, time: float) -> int:
        """The timestamp (ticks) of a frame shown at ``time`` (s in the source): its own, or
        :data:`MIN_FRAME_STEP` after the frame before when that is not so far before it
        (timestamps that repeat or go back); never below 0."""
        if self._last_pts is None:  # the first frame shows at 0 when it is before start
            self._start = time if self._start is None else min(self._start, time)
        pts = round((time - self._start) / self._tick)
        step = math.ceil(MIN_FRAME_STEP / self._tick)
        if self._last_pts is not None and pts < self._last_pts + step:
            pts = self._last_pts + step
        self._last_pts = pts
        return pts

    def _close(self) -> None:
        """Flush the encoders and write the trailer (what makes the file playable)."""
        with self._encoding():
            try:
                self._container.mux(self._video.encode(None))
                if self._audio_encoder is not None:
                    self._container.mux(self._audio_encoder.encode(None))
            finally:
                self._container.close()

    def finish(self) -> Path:
        """Flush and close the file and give it its final name."""
        try:
            self._close()
        except BaseException:
            self._output.discard()
            raise
        return self._output.commit()

    def keep_partial(self) -> Path | None:
        """Close properly what was written and keep it under the first free one of
        :func:`_partial_names`; None (and no file) when no frame was written."""
        if not self.written:
            self.discard()
            return None
        self._close()
        return self._output.commit_new(_partial_names(self.target))

    def discard(self) -> None:
        """Close and drop the output."""
        try:
            self._container.close()
        except (av.FFmpegError, OSError):  # e.g. the trailer on a full disk
            pass
        self._output.discard()


class SequenceSink:
    """Write frame ``i`` to :func:`frame_path` of the pattern (each file atomically). A
    folder gets :data:`FOLDER_PATTERN`. Frames already written stay when the run stops
    early. A folder already holding images of the pattern is refused (ParameterError),
    unless ``overwrite``: they are then replaced, and those the run does not write are
    deleted when it ends (however it ends), so the folder holds this run's frames only."""

    on_audio = None

    def __init__(self, target: str, *, inputs: tuple[str, ...] = (), overwrite: bool = False):
        path = Path(target)
        if not _PRINTF_FIELD.search(path.name):
            if path.exists() and not path.is_dir():
                raise ImageError(f"{target}: exists and is not a folder")
            make_folder(path, path)
            path = path / FOLDER_PATTERN
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            raise ParameterError(f"{target}: image sequence needs one of "
                                 f"{', '.join(IMAGE_SUFFIXES)}; got '{path.suffix}'")
        frame_path(str(path), 0)  # exactly one field
        check_writable(path, inputs)
        if any(is_sequence(source) and _folder_of(source) == _folder_of(str(path))
               for source in inputs):
            raise ImageError(f"{target}: refusing to write over the input sequence (it is in "
                             "the same folder); choose another folder")
        try:
            self._earlier = number_sequence(str(path))  # frames of an earlier run
        except ImageError:
            self._earlier = []
        if self._earlier and not overwrite:
            raise ParameterError(f"{target}: the folder already holds {len(self._earlier)} "
                                 f"image{'s' * (len(self._earlier) != 1)} of this pattern "
                                 "(an earlier run?); pass --overwrite to replace them (those "
                                 "this run does not write are deleted), or choose another "
                                 "folder", "overwrite")
        self.pattern = str(path)
        self.target = Path(target)
        self.written = 0
        self._numbers: set[int] = set()

    def write(self, frame: Frame, values: np.ndarray) -> None:
        write_image(frame_path(self.pattern, frame.index), values)
        self._numbers.add(frame.index)
        self.written += 1

    def _delete_earlier(self) -> None:
        """Delete the images of an earlier run (``overwrite``) that this run did not write."""
        for number, file in self._earlier:
            if number not in self._numbers:
                try:
                    file.unlink()
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    raise OutputError(f"{file}: cannot delete the frame of an earlier run "
                                      f"({os_reason(exc)})") from None
        self._earlier = []

    def finish(self) -> Path:
        self._delete_earlier()
        return self.target

    def keep_partial(self) -> Path | None:
        self._delete_earlier()
        return self.target if self.written else None

    def discard(self) -> None:
        """Frames written so far are complete files and stay."""
        self._delete_earlier()


def _folder_of(sequence: str) -> Path:
    """The folder the images of ``sequence`` (a folder or a printf pattern) are in, links
    and ``..`` resolved."""
    path = Path(sequence)
    return (path if path.is_dir() else path.parent).resolve()


def _partial_name(target: Path, number: int) -> Path:
    """``<stem>.partial<suffix>`` beside ``target`` (``number`` 1), else
    ``<stem>.partial-<number><suffix>``."""
    tag = "" if number == 1 else f"-{number}"
    return target.with_name(f"{target.stem}.partial{tag}{target.suffix}")


def _partial_names(target: Path) -> Iterator[Path]:
    """Where an interrupted run may keep its output, in order: :func:`_partial_name` 1 to
    :data:`MAX_PARTIALS` (the first free one is taken by
    :meth:`~dofkit.io.atomic.AtomicFile.commit_new`: no file is replaced)."""
    return (_partial_name(target, number) for number in range(1, MAX_PARTIALS + 1))


class JsonLinesSink:
    """One JSON object per frame, ``{"frame": i, "time": seconds, ...record}``, to stdout
    (``-``, flushed per line) or to a file written beside its target and renamed at the end."""

    on_audio = None

    def __init__(self, target: str, *, inputs: tuple[str, ...] = ()):
        self.written = 0
        if target == STDIO:
            self.target = None
            return
        self.target = Path(target)
        check_writable(self.target, inputs)
        self._output = AtomicFile(self.target)

    def write(self, frame: Frame, record: dict) -> None:
        try:  # numpy numbers as plain ones; NaN and infinities are not JSON
            line = json.dumps({"frame": frame.index, "time": round(frame.time, 6), **record},
                              allow_nan=False, default=_plain)
        except (TypeError, ValueError) as exc:
            raise ParameterError(f"record of frame {frame.index} is not JSON: {exc}",
                                 "record") from None
        data = (line + "\n").encode("utf-8")
        if self.target is None:
            write_stdout(data)
        else:
            self._output.write(data)
        self.written += 1

    def finish(self) -> Path | None:
        return None if self.target is None else self._output.commit()

    def keep_partial(self) -> Path | None:
        if self.target is None:
            return None
        return self._output.commit_new(_partial_names(self.target))

    def discard(self) -> None:
        if self.target is not None:
            self._output.discard()


def _plain(value):
    """A numpy number or array as the Python one JSON takes (for ``json.dumps``)."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def open_sink(target: str, *, records: bool, size: tuple[int, int], rate: Fraction,
              audio: av.audio.stream.AudioStream | None = None, inputs: tuple[str, ...] = (),
              start: float | None = None, aspect: Fraction = Fraction(1),
              overwrite: bool = False):
    """The sink for ``target``: JSON lines when ``records`` (``-`` = stdout), else a video
    file (by suffix; ``start``, ``aspect``: the source's, see :class:`VideoSink`), or an image
    sequence (printf pattern, folder, or a name with no suffix, made as a folder; a folder
    holding images of the pattern only with ``overwrite``: see :class:`SequenceSink`). An OS
    error met while the name is checked (a name or folder name too long for the file
    system) is an OutputError naming ``target``."""
    try:
        return _open_sink(target, records=records, size=size, rate=rate, audio=audio,
                          inputs=inputs, start=start, aspect=aspect, overwrite=overwrite)
    except DofkitError:
        raise
    except OSError as exc:
        raise OutputError(f"{target}: cannot write ({os_reason(exc)})") from None


def check_name_lengths(target: str, path: Path, *, partial: bool = False) -> None:
    """OutputError naming ``target`` when a name in ``path`` (a file or folder) is longer
    than the file system takes, checked before anything is made (a missing folder hides the
    error of a name in it); with ``partial``, also the longest name a stopped run may keep
    the file under (:func:`_partial_names`)."""
    folder = Path(os.path.abspath(path)).parent
    while not os.path.exists(folder):  # the nearest existing folder holds the file system
        folder = folder.parent
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    longest = max(len(os.fsencode(part)) for part in path.parts)
    if longest > limit:
        raise OutputError(f"{target}: cannot write (File name too long: a name in it has "
                          f"{longest} bytes, the file system takes {limit})")
    kept = len(os.fsencode(_partial_name(path, MAX_PARTIALS).name))
    if partial and kept > limit:
        raise OutputError(f"{target}: name too long: a stopped run keeps its output as "
                          f"<name>.partial-{MAX_PARTIALS}{path.suffix} at most, {kept} bytes, "
                          f"and the file system takes {limit}; give a shorter name")


def _open_sink(target: str, *, records: bool, size: tuple[int, int], rate: Fraction,
               audio: av.audio.stream.AudioStream | None, inputs: tuple[str, ...],
               start: float | None, aspect: Fraction, overwrite: bool):
    path = Path(target)
    if _PRINTF_FIELD.search(path.name):
        check_name_lengths(target, frame_path(target, 0))
    elif target != STDIO:  # a file (a name with a suffix) is kept as .partial when stopped
        check_name_lengths(target, path, partial=records or bool(path.suffix))
    if records:
        if Path(target).suffix.lower() in VIDEO_SUFFIXES + IMAGE_SUFFIXES:
            raise ParameterError(f"{target}: roi and detect records write JSON lines; give a "
                                 f".jsonl file or '-' (stdout)")
        return JsonLinesSink(target, inputs=inputs)
    if target == STDIO:
        raise ParameterError("'-' (stdout) takes JSON lines only (roi or detect records); "
                             "give a video file, an image pattern or a folder")
    if path.suffix.lower() in VIDEO_SUFFIXES and path.is_dir():
        raise OutputError(f"{target}: is a folder; give the name of a video file, or a "
                          "folder name without a video suffix for images")
    if is_sequence(target) or not path.suffix:
        return SequenceSink(target, inputs=inputs, overwrite=overwrite)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        raise ParameterError(f"{target}: one image cannot hold a video; use a pattern such as "
                             f"{path.with_name(path.stem + '-%05d' + path.suffix)} or a folder")
    return VideoSink(target, size=size, rate=rate, audio=audio, inputs=inputs, start=start,
                     aspect=aspect)


def _takes_copy(container_format: str, source: av.audio.stream.AudioStream) -> bool:
    """Whether a container of ``container_format`` (FFmpeg's name) takes the packets of
    ``source`` as they are: its header is written on a throw-away container in memory, as
    some muxers list a codec as supported and then refuse it there (FLAC or Opus in MOV).
    Raw PCM in MP4 passes that and fails when the file is closed: it is re-encoded."""
    if container_format == "mp4" and source.codec_context.name.startswith("pcm_"):
        return False
    try:
        with av.open(BytesIO(), "w", format=container_format) as probe:
            probe.add_stream_from_template(source)
            probe.start_encoding()
    except (av.FFmpegError, ValueError):
        return False
    return True


def check_writable(target: Path, inputs: tuple[str, ...]) -> None:
    """Refuse an output in a read-only folder, a folder, or one of ``inputs`` (that one a
    ParameterError: a usage error; a missing folder is made when the output is written)."""
    folder = Path(os.path.realpath(target)).parent  # where a link's file is written
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        raise ImageError(f"{target}: cannot write in folder {folder} (permission denied)")
    if target.exists() and any(source != STDIO and Path(source).exists()
                               and os.path.samefile(source, target) for source in inputs):
        raise ParameterError(f"{target}: is the input; write the output under another "
                             "name")
    check_output_path(target, inputs=inputs)


def _reason(exc: BaseException) -> str:
    """The short reason of an FFmpeg or OS error, without the file name repeated."""
    return getattr(exc, "strerror", None) or str(exc).split(": '")[0]
