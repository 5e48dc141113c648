"""`dofkit serve`: an HTTP API and a local web app over the library (needs the ``serve``
extra: FastAPI and uvicorn).

>>> from dofkit.serve import Settings, create_app      # doctest: +SKIP
>>> app = create_app(Settings(queue=16))                # an ASGI app for uvicorn

The server holds no image logic: every request goes through :mod:`.engine`, which runs the
library on one worker thread (one model and one GL context per process).
"""

from .app import create_app
from .settings import Settings

__all__ = ["create_app", "Settings"]
