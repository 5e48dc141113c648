"""`dofkit video`: run a focus consumer over every frame of a video or image sequence."""

from __future__ import annotations

import time
from contextlib import ExitStack
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task,
                           TextColumn, TimeRemainingColumn)
from rich.text import Text

from ..errors import ParameterError
from ..io import STDIO
from ..pipeline import RoiSettings
from ..render.styles import parse_setting
from ..roi.regions import parse_threshold
from . import options
from .batch_run import focus_settings
from .common import (console, error_line, exit_at_once, guarded, notice, refuse_unused,
                     stdout_is_terminal)


class Mode(str, Enum):
    map = "map"
    stylize = "stylize"
    roi = "roi"
    detect = "detect"


class MapView(str, Enum):
    grey = "grey"
    rainbow = "rainbow"
    overlay = "overlay"


#: Options that only a mode reads (parameter names); given with another mode they are refused.
ROI_OPTIONS = ("threshold", "min_area", "merge")
MODE_OPTIONS = {
    Mode.map: ("map_view",),
    Mode.stylize: ("style", "settings", "backend", "coherence"),
    Mode.roi: ROI_OPTIONS + ("pad", "max_rois"),
    Mode.detect: ("detector", "gate", "on_rois", "threshold"),
}


class FpsColumn(ProgressColumn):
    """Frames per second of a task, from rich's speed estimate."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed or 0:5.1f} fps")


@guarded
def video_command(
    context: typer.Context,
    source: str = typer.Argument(..., metavar="IN", help="Video file, image folder, or printf "
                                 "pattern such as frames/%05d.png."),
    target: str = typer.Argument(..., metavar="OUT", help="Video file (.mp4, .mov, .mkv), image "
                                 "folder or pattern; for roi/detect a .jsonl file or '-' "
                                 "(stdout)."),
    mode: Mode = typer.Option(Mode.map, "--mode", help="map: the focus map; stylize: "
                              "focus-weighted stylisation; roi, detect: JSON lines per frame."),
    method: str = options.Method,
    map_view: MapView = typer.Option(MapView.grey, "--map-view",
                                     help="--mode map: grey (white = in focus), rainbow (red = "
                                          "in focus), or overlay (rainbow over the frame)."),
    style: options.Style = options.StyleName,
    settings: Optional[List[str]] = options.Settings,
    backend: options.Backend = options.BackendName,
    every: int = typer.Option(4, "--every", min=1,
                              help="Compute a fresh focus map on every N-th frame; the frames "
                                   "between reuse the previous map moved by optical flow (a "
                                   "fresh one at a cut or a poor match). Every frame is still "
                                   "output. 1 = a fresh map on every frame."),
    coherence: float = typer.Option(0.7, "--coherence", help="--mode stylize: weight in [0, 1) "
                                    "of the previous stylised frame, moved along the optical "
                                    "flow, where the motion is trusted (less where it is "
                                    "fast, so moving subjects stay sharp); 0 = off."),
    smooth: float = typer.Option(0.7, "--smooth", help="Temporal smoothing of the map in "
                                 "[0, 1): weight of the motion-compensated past; 0 = off."),
    start: float = typer.Option(0.0, "--start", help="Start this many seconds in."),
    duration: Optional[float] = typer.Option(None, "--duration",
                                             help="Process this many seconds (default: to "
                                                  "the end)."),
    fps: Optional[float] = typer.Option(None, "--fps", help="Frame rate of an image-sequence "
                                        "input (default 25)."),
    threshold: str = options.Threshold,
    min_area: float = options.MinArea,
    merge: float = options.Merge,
    pad: Optional[float] = options.Pad,
    max_rois: Optional[int] = options.MaxRois,
    detector: Optional[str] = options.Detector,
    gate: float = options.Gate,
    on_rois: bool = options.OnRois,
    device: str = options.Device,
    threads: Optional[int] = options.Threads,
    weights: Optional[str] = options.Weights,
    overwrite: bool = typer.Option(False, "--overwrite", help="Write an image sequence into "
                                   "a folder already holding images of its pattern: they are "
                                   "replaced, and those this run does not write are deleted."),
    quiet: bool = options.Quiet,
) -> None:
    """Process every frame of IN into OUT, streaming (a few frames in memory), keeping the frame
    rate, the frame count and the audio track.

    The focus map of each frame is smoothed over time following the motion, and reset at
    scene cuts. Ctrl-C (or SIGTERM, SIGHUP) stops after the current frame and keeps what was
    done: a video (playable) or JSON lines as <name>.partial.<suffix> (or .partial-2, ...:
    no existing file is replaced), images where they are. A second Ctrl-C aborts at once. A
    video that ends before the frame count it announces, damaged data in a video, and frames
    missing or unreadable in a sequence are reported (exit 1), the frames that could be read
    kept, each at its time. A video that cannot be read on past a point, or ends early, keeps
    the frames before it as <name>.partial.<suffix> (exit 1).
    """
    from ..focus import FocusEstimator
    from ..io import Picture
    from ..pipeline import DetectStep, MapStep, RoiStep, StylizeStep
    from ..video import (CoherentStylizer, FrameMaps, interrupt_flag, open_sink, open_source,
                         process)
    from ..video.io import is_sequence

    used = MODE_OPTIONS[mode] + (ROI_OPTIONS + ("pad",) if mode is Mode.detect and on_rois
                                 else ())
    refuse_unused(context, tuple(n for names in MODE_OPTIONS.values() for n in names
                                 if n not in used), f"with --mode {mode.value}")

    focus_settings(method, device, threads, weights, None)  # as the image commands refuse
    records = mode in (Mode.roi, Mode.detect)
    if overwrite and (records or (not is_sequence(target) and Path(target).suffix)):
        raise ParameterError("--overwrite applies to an image-sequence output only (a video "
                             "or JSON lines file is replaced anyway)", "overwrite")
    regions = RoiSettings(parse_threshold(threshold), min_area, merge, pad, max_rois)
    with ExitStack() as resources:
        consumer = {
            Mode.map: lambda: MapStep(map_view.value),
            Mode.stylize: lambda: StylizeStep(
                style.value, backend.value, notify=notice,
                settings=dict(parse_setting(text) for text in settings or ())),
            Mode.roi: lambda: RoiStep(regions),
            Mode.detect: lambda: DetectStep(detector, gate=gate, regions=regions,
                                            on_rois=on_rois),
        }[mode]()
        resources.callback(getattr(consumer, "close", lambda: None))
        video = resources.enter_context(open_source(source, start=start, duration=duration,
                                                    rate=fps))
        maps = FrameMaps(FocusEstimator(method, device=device, threads=threads,
                                         weights=weights, notify=notice),
                         smooth=smooth, every=every)
        role = {Mode.map: "map", Mode.stylize: "styled"}.get(mode)
        coherent = (CoherentStylizer(consumer.stylizer, maps, coherence)
                    if mode is Mode.stylize else None)

        def prepare(frame):  # on a thread of its own, a frame ahead: no GL here
            return coherent.prepare(frame.rgb) if coherent is not None else maps(frame.rgb)

        def work(frame, prepared):
            if coherent is not None:  # blended with the previous stylised frame, moved
                return coherent.render(prepared)
            result = consumer(Picture(frame.rgb, None, 8, source), prepared)
            return result.record if role is None else result.images[role].values

        sink = open_sink(target, records=records, size=video.size,
                         rate=video.rate, audio=video.audio, inputs=(source,),
                         start=video.start, aspect=video.aspect, overwrite=overwrite)
        began = time.perf_counter()
        live = not quiet and not (target == STDIO and stdout_is_terminal())  # not in JSON lines
        outcome = None
        try:
            with _progress(live) as bar, interrupt_flag() as stopped:
                task = bar.add_task(mode.value, total=video.count)
                outcome = process(video, sink, work, prepare=prepare,
                                  advance=lambda: bar.advance(task),
                                  stop=stopped)
                if not outcome.complete:  # said and ended at once: a second signal cannot
                    bar.stop()  # come between the two
                    exit_at_once(_interrupted(outcome, sink))
        except KeyboardInterrupt:
            if stopped():  # a second stop signal
                if outcome is None:  # in the run: the output is already dropped
                    _end_at_once(sink)
                exit_at_once(_interrupted(outcome, sink))  # after it: what was kept
            raise
    rate = outcome.frames / max(time.perf_counter() - began, 1e-9)
    where = f" -> {outcome.path}" if outcome.path is not None else ""
    frames = f"{outcome.frames} frame{'s' * (outcome.frames != 1)}"
    if not quiet:
        notice(f"{frames}{where} (processed at {rate:.1f} frames/s; {maps.computed} fresh "
               f"map{'s' * (maps.computed != 1)})")
    _report_problems(source, outcome)


def _interrupted(outcome, sink) -> str:
    """The line saying what an interrupted run kept."""
    from ..video.io import VideoSink

    frames = f"{outcome.frames} frame{'s' * (outcome.frames != 1)}"
    if outcome.path is None:
        return f"interrupted after {frames}"
    playable = ", playable" if isinstance(sink, VideoSink) else ""
    return f"interrupted after {frames} -> {outcome.path} (complete up to there{playable})"


def _end_at_once(sink) -> None:
    """After a second stop signal, the unfinished output dropped (a sequence keeps the
    images written): say so and end the process now, without waiting for the threads still
    working (a map being made) or for the interpreter's slow wind-down."""
    from ..video.io import SequenceSink

    kept = ("; the images written are kept" if isinstance(sink, SequenceSink)
            else "" if sink.target is None else "; the unfinished output is deleted")
    exit_at_once(f"interrupted twice: stopped at once{kept}")


def _report_problems(source: str, outcome) -> None:
    """One error line naming the problems of the input met on the way (damaged or missing
    frames, a video that ended early), and exit code 1 when there was any."""
    problems = [] if outcome.damage is None else [outcome.damage]
    if outcome.ended_early:
        kept = "" if outcome.path is None else f" in {outcome.path}"
        problems.append(f"the video ended early ({outcome.frames} of the {outcome.expected} "
                        f"frames it announces; truncated?); what was made is kept{kept}")
    if problems:
        error_line(f"{source}: {'; '.join(problems)}")
        raise typer.Exit(1)


def _progress(live: bool) -> Progress:
    """Progress bar on stderr (a terminal only, and ``live``): frames done, frames per second,
    time left; a pulsing bar when the frame count is unknown."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    FpsColumn(), TimeRemainingColumn(), console=console, transient=True,
                    redirect_stdout=False, disable=not (live and console.is_terminal))
