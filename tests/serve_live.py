"""A live `dofkit serve` app for the tests that need real HTTP: uvicorn on a free port of
127.0.0.1, in a daemon thread, stopped on exit."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def live_server(app, **config) -> Iterator[str]:
    """Serve ``app`` (with uvicorn ``config`` options); yields its base URL,
    ``http://127.0.0.1:PORT``."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 300  # the warm-up runs the network and GL once
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
