"""The FastAPI application: routes, limits, error handlers, and the worker's start and stop."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI

from .. import __version__
from . import api, errors, page
from .engine import Engine
from .middleware import BodyLimit, HeadAsGet, SecurityHeaders
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
    errors.install(app)
    app.include_router(api.router)
    app.include_router(page.router)

    app.add_middleware(SecurityHeaders, headers=page.SECURITY_HEADERS)
    app.add_middleware(BodyLimit, limit=int(settings.max_upload_mb * 2**20))
    app.add_middleware(HeadAsGet)
    return app
