"""`dofkit serve`: the web app and HTTP API on 127.0.0.1 (needs the ``serve`` extra)."""

from __future__ import annotations

import socket
from enum import Enum
from typing import Optional

import typer

from ..errors import ResourceError
from . import options
from .common import guarded, notice


class Backend(str, Enum):
    auto = "auto"
    gl = "gl"
    cpu = "cpu"


@guarded
def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (keep "
                             "127.0.0.1 and put a proxy in front to serve others)."),
    port: int = typer.Option(8000, "--port", "-p", min=1, max=65535, help="TCP port."),
    max_upload_mb: float = typer.Option(40.0, "--max-upload-mb", min=0.001,
                                        help="Largest upload accepted (413 above)."),
    upload_idle: float = typer.Option(30.0, "--upload-idle", min=0.1, max=3600.0,
                                      help="Seconds an upload may send nothing before it is "
                                           "answered 408 and its connection closed."),
    max_pixels: Optional[int] = options.MaxPixels,
    queue: int = typer.Option(64, "--queue", min=1, help="Requests waiting or running at "
                              "once; more get 503 with Retry-After."),
    timeout: float = typer.Option(300.0, "--timeout", min=1.0, help="Seconds a request may "
                                  "wait and run (503 after)."),
    cache_mb: float = typer.Option(64.0, "--cache-mb", min=0.0, help="Memory for focus maps "
                                   "cached by image content."),
    backend: Backend = typer.Option(Backend.auto, "--backend", help="Stylise backend: gl, "
                                    "cpu, or auto (gl, else cpu)."),
    device: str = options.Device,
    threads: Optional[int] = options.Threads,
    weights: Optional[str] = options.Weights,
) -> None:
    """Serve the web app (http://127.0.0.1:8000/) and the HTTP API (/docs) until Ctrl-C.

    One process holds one model and one GL context; its work runs on one thread.
    """
    try:
        import uvicorn

        from ..serve import Settings, create_app
        from ..serve.errors import quiet_library_logs
    except ImportError as exc:
        raise ResourceError(f"dofkit serve needs the serve extra ({exc.name} missing): "
                            "pip install 'dofkit[serve]'") from None
    settings = Settings(max_upload_mb=max_upload_mb, upload_idle=upload_idle, max_pixels=max_pixels, queue=queue,
                        timeout=timeout, cache_mb=cache_mb, backend=backend.value,
                        device=device, threads=threads, weights=weights)
    listener = _listen(host, port)
    quiet_library_logs()  # the command owns the process; create_app leaves its logging alone
    notice(f"serving on http://{host}:{port}/ (API reference at /docs; Ctrl-C stops)")
    config = uvicorn.Config(create_app(settings), log_level="warning", access_log=False,
                            timeout_graceful_shutdown=5)
    try:
        uvicorn.Server(config).run(sockets=[listener])
    except KeyboardInterrupt:  # Ctrl-C or a stop signal, after uvicorn's graceful shutdown
        pass
    notice("server stopped")


def _listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host``:``port``; ResourceError naming them if it cannot be had
    (port in use, address not on this machine), before anything says it is serving."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as exc:
        raise ResourceError(f"cannot listen on {host}:{port} "
                            f"({exc.strerror or type(exc).__name__})") from None
