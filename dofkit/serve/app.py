"""The FastAPI application: routes, limits, error handlers, and the worker's start and stop."""

from __future__ import annotations

import asyncio
import re
from contextlib import asynccontextmanager

from fastapi import FastAPI

from .. import __version__
from . import api, errors, page
from .engine import Engine
from .middleware import BodyLimit, HeadAsGet, SecurityHeaders, StoppingAnswer
from .settings import Settings
from .worker import Worker


def create_app(settings: Settings = Settings()) -> FastAPI:
    """The app for ``settings``. Its engine (model, GL context) is made on the worker thread
    at start-up, so the first request is not slow and ``/v1/health`` reports what runs."""
    engine = Engine(settings)
    worker = Worker(settings.queue, settings.timeout)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        worker.start()
        await asyncio.wrap_future(worker.submit(engine.warm))
        app.state.info = await asyncio.wrap_future(worker.submit(engine.info))
        yield
        await asyncio.wrap_future(worker.submit(engine.close))
        worker.close()

    app = FastAPI(title="dofkit", version=__version__, lifespan=lifespan, docs_url=None,
                  redoc_url=None, description="Focus maps of photos and the tools that use "
                  "them: stylisation, in-focus regions, focus-gated detection.")
    app.state.engine, app.state.worker, app.state.info = engine, worker, {}
    app.state.max_upload_bytes = int(settings.max_upload_mb * 2**20)
    app.openapi = _markdown_schema(app)
    errors.install(app)
    app.include_router(api.router)
    app.include_router(page.router)

    app.add_middleware(StoppingAnswer)
    app.add_middleware(SecurityHeaders, headers=page.SECURITY_HEADERS)
    app.add_middleware(BodyLimit, limit=app.state.max_upload_bytes,
                       idle=settings.upload_idle)
    app.add_middleware(HeadAsGet)
    return app


#: reStructuredText literals (``x``) and roles (:class:`~a.b`, shown as `b`).
_RST = re.compile(r"``(.+?)``|:[a-z]+:`(~?)([^`]+)`")


def _markdown(match: re.Match) -> str:
    literal, short, target = match.groups()
    if literal is None:
        literal = target.rsplit(".", 1)[-1] if short else target
    return f"`{literal}`"


def _markdown_schema(app: FastAPI):
    """``app.openapi`` with every description and summary turned from the docstrings'
    reStructuredText into the Markdown that OpenAPI readers expect (``x`` would show its
    backticks); converted once, when FastAPI builds and caches the schema."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            _convert(build())
        return app.openapi_schema

    return openapi


def _convert(node: dict | list) -> None:
    """Rewrite, in place, the descriptions and summaries in ``node`` (a schema or a part)."""
    for key, value in (node.items() if isinstance(node, dict) else enumerate(node)):
        if key in ("description", "summary") and isinstance(value, str):
            node[key] = _RST.sub(_markdown, value)
        elif isinstance(value, (dict, list)):
            _convert(value)
