"""Every failure as a JSON ``{"error": "<one line>"}`` with a 4xx (or 503) status, never a
traceback: dofkit's own errors, FastAPI's validation errors and Starlette's HTTP errors; a
client gone mid-upload is one line in the log, and the log holds no other library's lines."""

from __future__ import annotations

import logging
import sys

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from ..errors import DofkitError, ImageTooLargeError, ResourceError

#: The error body, as documented in the OpenAPI schema.
ERROR_SCHEMA = {"type": "object", "required": ["error"],
                "properties": {"error": {"type": "string"}}}


class ApiError(Exception):
    """A refusal with its HTTP status, one-line message and extra headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def error_response(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    """The JSON error response."""
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def status_of(exc: DofkitError) -> int:
    """HTTP status of a library error: 413 over the pixel limit, 422 for a resource this
    server lacks (e.g. a detector's files), 400 for any other bad input or option."""
    if isinstance(exc, ImageTooLargeError):
        return 413
    if isinstance(exc, ResourceError):
        return 422
    return 400


def validation_message(exc: RequestValidationError) -> str:
    """The first validation error as one line naming the parameter, e.g.
    ``radius: Input should be less than or equal to 16; got '20'``."""
    error = exc.errors()[0]
    where = [str(part) for part in error.get("loc", ()) if part not in ("query", "body")]
    name = ".".join(where) or "request"
    given = error.get("input")
    got = f"; got {given!r}" if isinstance(given, (str, int, float)) else ""
    return f"{name}: {error.get('msg', 'invalid')}{got}"


#: Loggers of libraries that log a refused request before raising (the multipart parser:
#: "Expected boundary character 45, ..."); the reason reaches the client in the error.
#: (``multipart``: python-multipart's name before 0.0.13.)
QUIET_LOGGERS = ("python_multipart", "multipart")


def quiet_library_logs() -> None:
    """Keep the :data:`QUIET_LOGGERS` out of the server's log: process-wide, so called by
    `dofkit serve` (which owns the process), never by the app; other loggers are left as the
    process has them."""
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        logger.propagate = False
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())


def install(app: FastAPI) -> None:
    """Register the handlers that turn every exception into a JSON error."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        return error_response(exc.status, exc.message, exc.headers)

    @app.exception_handler(DofkitError)
    async def dofkit_error(request: Request, exc: DofkitError):
        return error_response(status_of(exc), str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        return error_response(422, validation_message(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        return error_response(exc.status_code, str(exc.detail).lower(), exc.headers)

    @app.exception_handler(ClientDisconnect)
    async def gone(request: Request, exc: ClientDisconnect):  # no one to answer: one line
        print(f"dofkit: {request.url.path}: the client disconnected before its upload was "
              "complete", file=sys.stderr)
        return error_response(400, "client disconnected")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        print(f"dofkit: internal error on {request.url.path}: {type(exc).__name__}: {exc}",
              file=sys.stderr)
        return error_response(500, f"internal error ({type(exc).__name__})")


__all__ = ["ApiError", "ERROR_SCHEMA", "error_response", "install", "quiet_library_logs"]
