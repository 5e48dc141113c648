"""One input -> its outputs and a status record: the path every front end takes.

>>> from dofkit.pipeline import MapStep, Pipeline          # doctest: +SKIP
>>> pipeline = Pipeline(MapStep("grey"), method="analytic")  # made once: holds the network
>>> pipeline.process("a.jpg", {"map": "maps/a.png"})
{'input': 'a.jpg', 'outputs': ['maps/a.png'], 'ok': True, 'error': None, 'seconds': 0.05}
>>> result = pipeline.run(dofkit.read_image("a.jpg"))    # in memory, nothing written
>>> result.images["map"].values.shape                     # (H, W) float32 in [0, 1]

Consumers (:mod:`.consumers`): :class:`MapStep` (grey / rainbow / overlay map),
:class:`StylizeStep`, :class:`RoiStep`, :class:`DetectStep`; each returns a :class:`Result`
(pictures by role, plus a JSON-ready record). :class:`PipelineSpec` rebuilds the same pipeline
in another process (``--jobs``, Ray actors).
"""

from .consumers import DetectStep, MapStep, RoiSettings, RoiStep, StylizeStep
from .result import Rendered, Result
from .runner import Pipeline, target_for
from .spec import PipelineSpec

__all__ = ["Pipeline", "PipelineSpec", "MapStep", "StylizeStep", "RoiStep", "DetectStep",
           "RoiSettings", "Rendered", "Result", "target_for"]
