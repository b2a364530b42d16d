"""`qa serve`: uvicorn running the API, with Verbatim's own progress lines ("exporting the encoder
...", "indexing seeds/ ...") on stderr in uvicorn's format, and one line that says where to go once
the socket listens. The app is named by import string, so the domain never imports the web layer."""

from __future__ import annotations

import copy
import logging
import sys

from qa.config import Settings

log = logging.getLogger("verbatim")


def log_config() -> dict:
    """Uvicorn's own logging setup, plus the `verbatim` logger at INFO through the same handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["verbatim"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def base_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def run(settings: Settings) -> None:
    """Serve until interrupted. "Ready" is said after the socket is bound, not when the models are
    loaded: a port already taken must not be announced as ready. Exits 3 (uvicorn's startup
    failure) when the server never started."""
    import uvicorn

    class _Server(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets)
            if self.started:
                log.info("Verbatim is ready: %s", base_url(settings.host, settings.port))

    config = uvicorn.Config("api.app:create_app", factory=True, host=settings.host, port=settings.port,
                            log_level="info", log_config=log_config())
    server = _Server(config)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    if not server.started:
        sys.exit(3)
