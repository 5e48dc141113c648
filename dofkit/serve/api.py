"""The HTTP API: ``POST /v1/map|stylize|roi|detect`` and ``GET /v1/health``, ``/v1/styles``."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from .. import __version__
from ..errors import ParameterError
from ..focus import METHODS
from ..pipeline import MapStep, RoiStep
from ..render.styles import DEFAULT_STYLE, PARAMETERS, STYLES
from .errors import ERROR_SCHEMA
from .negotiate import SUFFIXES, choose
from .params import (COLORMAP, DEPTH, METHOD, OVERLAY, STYLE, Depth, MethodName, StyleName,
                     detect_options, roi_options, style_overrides)
from .timing import Timer
from .upload import REQUEST_BODY, read_upload



def known_parameters(request: Request) -> None:
    """Refuse a query parameter the endpoint does not take, or one given twice: a typo
    (``fades=0.5``) or the second value would otherwise be ignored without a word, as the CLI
    never does."""
    route = request.scope.get("route")
    if route is None:
        return
    known = _query_names(route.dependant)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise ParameterError(f"unknown parameter {unknown[0]!r}; parameters are "
                             f"{', '.join(sorted(known)) or 'none'}", unknown[0])
    names = [name for name, _ in request.query_params.multi_items()]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:  # one would be ignored without a word
        raise ParameterError(f"parameter {repeated[0]!r} given {names.count(repeated[0])} "
                             "times; give it once", repeated[0])


def _query_names(dependant) -> set[str]:
    """Names of the query parameters an endpoint's dependant (and its sub-dependencies) take."""
    names = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


router = APIRouter(prefix="/v1", dependencies=[Depends(known_parameters)])

IMAGES = ("image/png", "image/jpeg")
RECORD_OR_IMAGES = ("application/json", *IMAGES)
_BINARY = {"schema": {"type": "string", "format": "binary"}}
_ERRORS = {status: {"description": meaning, "content": {"application/json": {
    "schema": ERROR_SCHEMA}}} for status, meaning in (
        (400, "bad image or option"), (406, "no acceptable response type"),
        (408, "upload stalled (no bytes for the server's idle time)"),
        (413, "upload or image too large"), (422, "invalid parameter"),
        (503, "server busy or request timed out (see Retry-After)"))}


def _openapi(kinds: tuple[str, ...], description: str) -> dict:
    content = {kind: ({"schema": {"type": "object"}} if kind == "application/json" else _BINARY)
               for kind in kinds}
    return dict(response_class=Response, openapi_extra={"requestBody": REQUEST_BODY},
                responses={200: {"description": description, "content": content}, **_ERRORS})


#: The status of a request whose client left before its answer (nginx's; no one reads it).
CLIENT_GONE = 499


async def _run(request: Request, media: str, job, *args) -> Response:
    """Read the upload, run ``job(upload, *args, suffix, timer)`` on the worker, answer; a
    job still queued when its client disconnects is dropped, not run for no one, and one
    running stops at its next step (decode, map, stylise, encode)."""
    upload = await read_upload(request)
    timer = Timer()
    about = {"path": request.url.path, "bytes": len(upload.data)}
    work = asyncio.ensure_future(request.app.state.worker.run(
        job, upload, *args, SUFFIXES[media], timer, about=about))
    gone = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({work, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:  # (also when the server, stopping, cancels this request)
        gone.cancel()
        work.cancel()  # nothing happens to a finished job
        timer.stop()  # nor to this: a job still running stops at its next step
    if not work.done() or work.cancelled():  # the client left first (a cancelled task is
        return Response(status_code=CLIENT_GONE)  # done only once the loop has run it)
    result = work.result()
    headers = {"Server-Timing": timer.header()}
    if media == "application/json":
        return JSONResponse(result, headers=headers)
    return Response(result, media_type=media, headers=headers)


@router.post("/map", summary="Focus map, as dofkit map",
             **_openapi(IMAGES, "the focus map (white = in focus), same size as the image"))
async def map_image(request: Request, method: MethodName = METHOD,
                    colormap: Literal["none", "rainbow"] = COLORMAP, overlay: bool = OVERLAY,
                    depth: Depth = DEPTH) -> Response:
    """The focus map: grey (8- or 16-bit), the rainbow view, or an overlay on the photo."""
    media = choose(request.headers.get("accept"), IMAGES)
    step = MapStep("overlay" if overlay else "rainbow" if colormap == "rainbow" else "grey",
                   int(depth))
    if depth == 16 and media != "image/png":
        raise ParameterError("depth 16 needs a PNG response (Accept: image/png)", "depth")
    return await _run(request, media, request.app.state.engine.consume, method, step, "map")


@router.post("/stylize", summary="Focus-weighted stylisation, as dofkit stylize",
             **_openapi(IMAGES, "the stylised image, same size (alpha kept in PNG)"))
async def stylize_image(request: Request, style: StyleName = STYLE, method: MethodName = METHOD,
                        overrides: dict = Depends(style_overrides)) -> Response:
    """Stylise the image; any style parameter given overrides the preset's value."""
    media = choose(request.headers.get("accept"), IMAGES)
    return await _run(request, media, request.app.state.engine.stylize, method, style,
                      overrides)


@router.post("/roi", summary="In-focus regions, as dofkit roi --json (or --overlay)",
             **_openapi(RECORD_OR_IMAGES, "the JSON record of `dofkit roi --json`, or the "
                                          "photo with the boxes drawn (Accept: image/*)"))
async def roi(request: Request, method: MethodName = METHOD,
              options: dict = Depends(roi_options)) -> Response:
    """Boxes around the in-focus regions, sorted by focus mass."""
    media = choose(request.headers.get("accept"), RECORD_OR_IMAGES)
    if options["aspect"] is not None:
        _refuse(request, ("pad", "max", "min_area", "merge"), "with aspect (it gives one window)")
    else:
        _refuse(request, ("fraction",), "without aspect")
    step = RoiStep(**options, overlay=media != "application/json")
    return await _run(request, media, request.app.state.engine.consume, method, step,
                      "overlay")


@router.post("/detect", summary="Focus-gated detection, as dofkit detect --json",
             **_openapi(RECORD_OR_IMAGES, "the JSON record of `dofkit detect --json`, or the "
                                          "photo with kept (green) and dropped (red) boxes"))
async def detect(request: Request, method: MethodName = METHOD,
                 options: tuple = Depends(detect_options)) -> Response:
    """Run a built-in detector and keep the detections in focus."""
    media = choose(request.headers.get("accept"), RECORD_OR_IMAGES)
    name, settings = options
    if not settings["on_rois"]:
        _refuse(request, ("pad", "min_area", "merge"), "without on_rois (they shape the "
                "regions the detector runs on)")
    return await _run(request, media, request.app.state.engine.detect, method, name, settings)


async def _disconnected(request: Request) -> None:
    """Return when the client disconnects (its body has been read: nothing else comes)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _refuse(request: Request, names: tuple[str, ...], reason: str) -> None:
    """ParameterError when a query parameter of ``names`` was given: it would be ignored."""
    for name in names:
        if name in request.query_params:
            raise ParameterError(f"{name} does nothing {reason}", name)


@router.get("/health", summary="Version, focus method and stylise backend of this process")
async def health(request: Request) -> dict:
    """Liveness and what this process runs; ``queue`` counts requests waiting or running
    and names the one running (``path``, upload ``bytes``, ``seconds`` so far; null when
    idle); ``max_upload_bytes`` is the largest upload accepted."""
    state = request.app.state
    cache = state.engine.cache
    worker = state.worker
    return {"status": "ok", "version": __version__, **state.info,
            "max_upload_bytes": state.max_upload_bytes,
            "queue": {"pending": worker.pending, "capacity": worker.capacity,
                      "running": worker.running()},
            "cache": {"maps": len(cache), "bytes": cache.size, "hits": cache.hits,
                      "misses": cache.misses}}


@router.get("/styles", summary="Presets, style parameters with ranges and help, methods")
async def styles() -> dict:
    """What the page builds its controls from (``dofkit.render.PARAMETERS`` and ``STYLES``)."""
    return {"default": DEFAULT_STYLE, "styles": STYLES, "methods": list(METHODS),
            "parameters": [{"name": p.name, "low": p.low, "high": p.high, "help": p.help,
                            "integer": p.integer, "pixel_power": p.pixel_power}
                           for p in PARAMETERS.values()]}
