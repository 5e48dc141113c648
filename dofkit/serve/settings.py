"""What a server process is started with (the options of `dofkit serve`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """Limits and the heavy objects' settings of one server process.

    Attributes
    ----------
    max_upload_mb : largest request body accepted (413 above it).
    upload_idle : seconds an upload may send nothing before it is answered 408 (a stalled
        client no longer holds its connection and partial body).
    max_pixels : largest image accepted, as ``--max-pixels`` (None: the CLI's default).
    queue : requests waiting or running at once; one more gets 503 with ``Retry-After``.
    timeout : seconds a request may wait and run before it is answered 503.
    cache_mb : memory for focus maps kept by content hash (least recently used dropped).
    backend, device, threads, weights : as the CLI options of the same names.
    """

    max_upload_mb: float = 40.0
    upload_idle: float = 30.0
    max_pixels: int | None = None
    queue: int = 64
    timeout: float = 300.0
    cache_mb: float = 64.0
    backend: str = "auto"
    device: str = "cpu"
    threads: int | None = None
    weights: str | None = None
