"""The exceptions dofkit raises on purpose: each carries a one-line message for people."""


class DofkitError(Exception):
    """Base class: a failure the user can act on (bad input, bad option, missing resource)."""


class ImageError(DofkitError, ValueError):
    """An input image cannot be used: missing, empty, truncated, not an image, too large.

    The message names the file and the problem, e.g. ``photo.jpg: truncated or corrupt image``.
    """


class ImageTooLargeError(ImageError):
    """An input image has more pixels than the limit in force (HTTP answers it with 413)."""


class ParameterError(DofkitError, ValueError):
    """An option is outside its accepted range; the message names it and the range."""


class ResourceError(DofkitError, RuntimeError):
    """Something dofkit needs is unavailable: weights, a GL context, a device, a detector file."""
