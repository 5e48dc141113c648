"""The exceptions dofkit raises on purpose: each carries a one-line message for people."""


class DofkitError(Exception):
    """Base class: a failure the user can act on (bad input, bad option, missing resource)."""


class InputError(DofkitError, ValueError):
    """An input file cannot be used: unreadable, or not in the form it should have (e.g. a
    ``--detections`` file that is not JSON). The message names the file."""


class ImageError(InputError):
    """An input image cannot be used: missing, empty, truncated, not an image, too large.

    The message names the file and the problem, e.g. ``photo.jpg: truncated or corrupt image``.
    """


class ImageTooLargeError(ImageError):
    """An input image has more pixels than the limit in force (HTTP answers it with 413)."""


class OutputError(DofkitError, OSError):
    """An output cannot be written: folder missing or read-only, disk full, name too long, or
    it would replace an input. The message names the file, e.g. ``out.png: No space left``."""


class ClosedPipeError(OutputError, BrokenPipeError):
    """Output to a pipe whose reader has gone (``dofkit ... | head``): an OutputError where
    a failure is reported per input, a BrokenPipeError where the command ends quietly."""


class ParameterError(DofkitError, ValueError):
    """An argument is outside its accepted range; the message names it and the range.

    ``parameter`` holds the name of the library argument (e.g. ``"strength"``) when one is
    at fault, so that a front end can name its own option instead.
    """

    def __init__(self, message: str, parameter: str | None = None):
        super().__init__(message)
        self.parameter = parameter


class ResourceError(DofkitError, RuntimeError):
    """Something dofkit needs is unavailable: weights, a GL context, a device, a detector file."""


class InputInterrupted(KeyboardInterrupt):
    """An interrupt (Ctrl-C, or SIGTERM turned into one) that came after some of an input's
    outputs were written: ``status`` is that input's status record, listing them, so that a
    batch can report them before it stops (it is still a KeyboardInterrupt)."""

    def __init__(self, status: dict):
        super().__init__()
        self.status = status
