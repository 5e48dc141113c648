"""The image of a request: the multipart field ``image``, or the raw body."""

from __future__ import annotations

from contextlib import aclosing

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from .engine import Upload
from .errors import ApiError

#: The request body as documented in the OpenAPI schema.
REQUEST_BODY = {
    "required": True,
    "description": "The image (JPEG, PNG, TIFF, BMP, WebP): a multipart/form-data field "
                   "`image`, or the raw bytes as the body.",
    "content": {
        "multipart/form-data": {"schema": {
            "type": "object", "required": ["image"],
            "properties": {"image": {"type": "string", "format": "binary"}}}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        "image/*": {"schema": {"type": "string", "format": "binary"}},
    },
}


class _FormParser(MultiPartParser):
    """Starlette's multipart parser, noting whether the closing boundary arrived:
    python-multipart takes a body cut short as a form without its unfinished part."""

    complete = False

    def on_end(self) -> None:
        self.complete = True


async def read_upload(request: Request) -> Upload:
    """The uploaded image; an upload without bytes is refused as the CLI refuses an empty
    file. The name is the multipart file name, else ``-`` (as the CLI names stdin)."""
    name = "-"
    if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        async with aclosing(request.stream()) as stream:
            parser = _FormParser(request.headers, stream, max_files=1, max_fields=8)
            try:
                form = await parser.parse()
            except MultiPartException as exc:  # python-multipart's reason, if it gave one
                reason = str(exc.__cause__ or exc.message).rstrip(".")
                raise ApiError(400, f"invalid multipart body: {reason[:1].lower()}"
                                    f"{reason[1:]}") from None
        try:
            if not parser.complete:
                raise ApiError(400, "incomplete multipart body: it ends before its closing "
                                    "boundary (upload cut short?)")
            extra = next((key for key in form.keys() if key != "image"), None)
            if extra is not None:  # settings sent as fields would be silently ignored
                raise ApiError(400, f"unknown form field {extra!r}: the body holds only the "
                                    f"file field 'image'; settings go in the query string "
                                    f"(e.g. ?{extra}=...)")
            image = form.get("image")
            if not isinstance(image, UploadFile):
                raise ApiError(400, "multipart body needs a file field 'image'")
            name = (image.filename or "-")[-200:]
            data = await image.read()
        finally:
            await form.close()
    else:
        data = await request.body()
    if not data:
        raise ApiError(400, f"{name}: empty file (0 bytes)")
    return Upload(data, name)
