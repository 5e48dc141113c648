"""ASGI middleware: the request-body size and idle limits, enforced while the body arrives,
the security headers of every response, HEAD answered wherever GET is, and a request the
stopping server cancels answered 503."""

from __future__ import annotations

import asyncio

from .errors import ApiError, error_response


class BodyLimit:
    """ASGI middleware: 413 with a JSON error when ``Content-Length`` or the bytes actually
    received exceed ``limit``, 408 when a body still due sends nothing for ``idle`` seconds
    (both raised as :class:`ApiError` inside the endpoint)."""

    def __init__(self, app, limit: int, idle: float):
        self.app, self.limit, self.idle = app, limit, idle

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or ()).get(b"content-length", b"").strip()
        if declared and (not declared.isdigit() or int(declared) > self.limit):
            status = 413 if declared.isdigit() else 400
            response = error_response(status, self.message(declared.decode("latin-1")),
                                      {"connection": "close"})
            return await response(scope, receive, send)
        received, complete = 0, False

        async def limited_receive():
            nonlocal received, complete
            if complete:  # the body is in: only the disconnect is left to wait for
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.idle)
            except asyncio.TimeoutError:
                raise ApiError(408, f"upload stalled: no bytes for {self.idle:g} s",
                               {"connection": "close"}) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if received > self.limit:
                    raise ApiError(413, self.message(str(received)))
            return message

        await self.app(scope, limited_receive, send)

    def message(self, size: str) -> str:
        """The refusal for a body of ``size`` bytes (or a malformed header)."""
        if not size.isdigit():
            return f"bad Content-Length header {size!r}"
        return (f"upload too large ({int(size):,} bytes, limit {self.limit:,}; raise it with "
                "dofkit serve --max-upload-mb)")


class SecurityHeaders:
    """ASGI middleware adding ``headers`` (name -> value) to every HTTP response."""

    def __init__(self, app, headers: dict[str, str]):
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *self.headers]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HeadAsGet:
    """ASGI middleware: a HEAD request is answered as the GET of the same URL would be, with
    its status and headers and no body (FastAPI's GET routes refuse HEAD with 405)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)

        async def without_body(message):
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


class StoppingAnswer:
    """ASGI middleware: a request the server cancels as it stops (uvicorn does once its
    graceful wait is over) is answered 503 ``server stopping`` if its answer had not begun;
    uvicorn would log the cancellation's traceback and answer a plain-text 500."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def noting_start(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, noting_start)
        except asyncio.CancelledError:  # the end of this request: nothing else to cancel
            if not started:
                await error_response(503, "server stopping; retry once it is back",
                                     {"connection": "close"})(scope, receive, send)
