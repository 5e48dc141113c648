"""Choose a response type from the request's ``Accept`` header.

A header listing no media range (empty, or only separators: ``,,,;;;``) asks for nothing in
particular, as no header does. A weight that is not a number from 0 to 1 (``q=abc``,
``q=nan``, ``q=inf``, ``q=-1``, ``q=2``: RFC 9110 allows 0 to 1 only) counts as ``q=0``: that
range is not acceptable."""

from __future__ import annotations

import math

from .errors import ApiError

#: Media type -> suffix of :func:`dofkit.io.encode_image` (None: the JSON record).
SUFFIXES = {"image/png": ".png", "image/jpeg": ".jpg", "application/json": None}


def _qvalue(text: str) -> float | None:
    """The weight ``q`` in [0, 1]; None when ``text`` is not such a number."""
    try:
        quality = float(text)
    except ValueError:
        return None
    return quality if math.isfinite(quality) and 0.0 <= quality <= 1.0 else None


def _ranges(accept: str) -> tuple[list[tuple[str, float]], list[str]]:
    """The media ranges with their weights, and the weights that were malformed."""
    ranges, malformed = [], []
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                quality = _qvalue(value)
                if quality is None:
                    malformed.append(value.strip())
                    quality = 0.0
        if media:
            ranges.append((media.lower(), quality))
    return ranges, malformed


def _quality(offer: str, ranges: list[tuple[str, float]]) -> float:
    kind = offer.split("/")[0]
    best, specificity = 0.0, -1
    for media, quality in ranges:
        rank = {offer: 2, f"{kind}/*": 1, "*/*": 0}.get(media, -1)
        if rank > specificity:
            best, specificity = quality, rank
    return best


def choose(accept: str | None, offers: tuple[str, ...]) -> str:
    """The offer the client prefers (the first offer when ``Accept`` lists no media range, or
    on a tie); 406 when it accepts none of them.

    >>> choose("image/jpeg, image/png;q=0.5", ("image/png", "image/jpeg"))
    'image/jpeg'
    >>> choose("image/jpeg;q=nan, image/png;q=0.5", ("image/jpeg", "image/png"))
    'image/png'
    """
    ranges, malformed = _ranges(accept or "")
    if not ranges:
        return offers[0]
    scored = [(_quality(offer, ranges), -index, offer) for index, offer in enumerate(offers)]
    quality, _, offer = max(scored)
    if quality <= 0:
        why = (f" (q={malformed[0]} is not a number from 0 to 1: it counts as 0)"
               if malformed else "")
        raise ApiError(406, f"cannot answer Accept {accept!r}{why}; this endpoint gives "
                            f"{', '.join(offers)}")
    return offer
