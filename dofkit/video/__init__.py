"""Video: stream the frames of a video or image sequence through a focus-map consumer.

>>> from dofkit.focus import FocusEstimator
>>> from dofkit.video import FrameMaps, open_sink, open_source, process   # doctest: +SKIP
>>> maps = FrameMaps(FocusEstimator("analytic"), smooth=0.7)
>>> with open_source("clip.mp4") as source:
...     sink = open_sink("map.mp4", records=False, size=source.size, rate=source.rate,
...                      audio=source.audio, inputs=("clip.mp4",), start=source.start)
...     outcome = process(source, sink, lambda frame: maps(frame.rgb))

Modules: :mod:`.io` (sources and sinks, PyAV), :mod:`.smoothing` (motion-following temporal
smoothing with scene-cut reset), :mod:`.maps` (fresh/carried/smoothed map per frame),
:mod:`.run` (the frame loop and Ctrl-C handling), :mod:`.coherence` (stylised frames blended
with the previous one moved by the flow). Importing this package imports PyAV.
"""

from .coherence import DEFAULT_COHERENCE, CoherentStylizer
from .io import Frame, open_sink, open_source
from .maps import FrameMaps
from .run import Outcome, SourceFailed, interrupt_flag, process
from .smoothing import TemporalSmoother

__all__ = ["CoherentStylizer", "DEFAULT_COHERENCE", "Frame", "FrameMaps", "Outcome", "SourceFailed", "TemporalSmoother", "interrupt_flag", "open_sink",
           "open_source", "process"]
