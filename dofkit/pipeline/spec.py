"""A picklable recipe of a :class:`Pipeline`, to build the same one in worker processes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PipelineSpec:
    """``consumer`` is one of ``"map"``, ``"stylize"``, ``"roi"``, ``"detect"``; ``settings``
    its keyword arguments (see :mod:`.consumers`); ``focus`` those of the Pipeline
    (method, device, threads, weights, max_pixels)."""

    consumer: str
    settings: dict = field(default_factory=dict)
    focus: dict = field(default_factory=dict)

    def build(self, notify=None):
        """A new :class:`Pipeline` (the network loaded now, the GL context on first use)."""
        from .consumers import DetectStep, MapStep, RoiStep, StylizeStep
        from .runner import Pipeline

        kinds = {"map": MapStep, "stylize": StylizeStep, "roi": RoiStep, "detect": DetectStep}
        settings = dict(self.settings)
        extra = {} if notify is None else {"notify": notify}
        if self.consumer == "stylize" and notify is not None:
            settings["notify"] = notify
        return Pipeline(kinds[self.consumer](**settings), **self.focus, **extra)
