"""The web app: the page at ``/``, the API reference at ``/docs``, their assets and the
bundled sample photos. Everything is served from the package: nothing loads from elsewhere."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from ..resources import resource_dir
from .errors import ApiError

router = APIRouter()
STATIC = Path(__file__).parent / "static"
ASSETS = {"app.css": "text/css", "app.js": "text/javascript", "docs.js": "text/javascript",
          "favicon.svg": "image/svg+xml"}
SAMPLE_SUFFIXES = (".jpg", ".jpeg", ".png")

#: Only this origin: the page works offline and no request leaves the server it came from.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; "
                               "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def samples() -> list[str]:
    """File names of the bundled sample photos (their masks left out)."""
    folder = resource_dir("samples")
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir()
                  if p.suffix.lower() in SAMPLE_SUFFIXES and not p.stem.endswith("-mask"))


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/docs", include_in_schema=False)
async def docs() -> FileResponse:
    return FileResponse(STATIC / "docs.html", media_type="text/html")


@router.get("/static/{name}", include_in_schema=False)
async def asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise ApiError(404, f"no asset {name!r}")
    return FileResponse(STATIC / name, media_type=ASSETS[name])


@router.get("/v1/samples", summary="The bundled sample photos")
async def sample_list() -> list[dict]:
    """Name and URL of every bundled sample photo."""
    return [{"name": name, "url": f"samples/{name}"} for name in samples()]


@router.get("/samples/{name}", include_in_schema=False)
async def sample(name: str) -> FileResponse:
    if name not in samples():
        raise ApiError(404, f"no sample {name!r}")
    return FileResponse(resource_dir("samples") / name)
