"""The image of a request: the multipart field ``image``, or the raw body."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import UploadFile

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


async def read_upload(request: Request) -> Upload:
    """The uploaded image; an upload without bytes is refused as the CLI refuses an empty
    file. The name is the multipart file name, else ``-`` (as the CLI names stdin)."""
    name = "-"
    if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        async with request.form(max_files=1, max_fields=8) as form:
            image = form.get("image")
            if not isinstance(image, UploadFile):
                raise ApiError(400, "multipart body needs a file field 'image'")
            name = (image.filename or "-")[-200:]
            data = await image.read()
    else:
        data = await request.body()
    if not data:
        raise ApiError(400, f"{name}: empty file (0 bytes)")
    return Upload(data, name)
