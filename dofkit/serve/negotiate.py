"""Choose a response type from the request's ``Accept`` header."""

from __future__ import annotations

from .errors import ApiError

#: Media type -> suffix of :func:`dofkit.io.encode_image` (None: the JSON record).
SUFFIXES = {"image/png": ".png", "image/jpeg": ".jpg", "application/json": None}


def _ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media:
            ranges.append((media.lower(), quality))
    return ranges


def _quality(offer: str, ranges: list[tuple[str, float]]) -> float:
    kind = offer.split("/")[0]
    best, specificity = 0.0, -1
    for media, quality in ranges:
        rank = {offer: 2, f"{kind}/*": 1, "*/*": 0}.get(media, -1)
        if rank > specificity:
            best, specificity = quality, rank
    return best


def choose(accept: str | None, offers: tuple[str, ...]) -> str:
    """The offer the client prefers (the first offer when there is no ``Accept``, or on a
    tie); 406 when it accepts none of them.

    >>> choose("image/jpeg, image/png;q=0.5", ("image/png", "image/jpeg"))
    'image/jpeg'
    """
    if not accept or not accept.strip():
        return offers[0]
    ranges = _ranges(accept)
    scored = [(_quality(offer, ranges), -index, offer) for index, offer in enumerate(offers)]
    quality, _, offer = max(scored)
    if quality <= 0:
        raise ApiError(406, f"cannot answer with {accept!r}; this endpoint gives "
                            f"{', '.join(offers)}")
    return offer
