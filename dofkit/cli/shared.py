"""The options every image command shares (inputs, focus map, batch), declared once and
added to each command's signature by :func:`shared_options`; their values arrive as one
:class:`~dofkit.cli.batch_run.Shared`."""

from __future__ import annotations

import functools
import inspect
from typing import Optional

from . import options
from .batch_run import Shared


_DECLARED = {"recursive": options.Recursive, "from_list": options.FromList,
             "method": options.Method, "device": options.Device, "threads": options.Threads,
             "weights": options.Weights, "max_pixels": options.MaxPixels,
             "overwrite": options.Overwrite, "skip_existing": options.SkipExisting,
             "report": options.Report, "jobs": options.Jobs, "engine": options.Engine,
             "ray_address": options.RayAddress, "quiet": options.Quiet,
             "verbose": options.Verbose}
_TYPES = {"recursive": bool, "from_list": Optional[str], "method": str, "device": str,
          "threads": Optional[int], "weights": Optional[str], "max_pixels": Optional[int],
          "overwrite": bool, "skip_existing": bool, "report": Optional[str], "jobs": Optional[int],
          "engine": str, "ray_address": Optional[str], "quiet": bool, "verbose": bool}


def shared_options(command):
    """Give ``command`` the shared options (after its own) and pass their values as its
    ``shared`` parameter, a :class:`Shared`."""
    signature = inspect.signature(command, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "shared"]
    added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option,
                               annotation=_TYPES[name]) for name, option in _DECLARED.items()]

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        values = {name: kwargs.pop(name) for name in _DECLARED if name in kwargs}
        return command(*args, shared=Shared(**values), **kwargs)

    wrapper.__signature__ = signature.replace(
        parameters=[p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + added)
    wrapper.__annotations__ = {**{p.name: p.annotation for p in own}, **_TYPES}
    return wrapper


__all__ = ["Shared", "shared_options"]
