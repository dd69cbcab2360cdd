"""The web app: public pages and endpoints, the editors' desk, the archive.

`create_app(services)` builds a FastAPI app around already-built services; nothing is created at
import time.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from newsletter import __version__
from newsletter.bootstrap import Services


def create_app(services: Services) -> FastAPI:
    app = FastAPI(
        title=f"{services.config.settings.newsletter.name} newsletter",
        version=__version__,
        docs_url=None,
        redoc_url=None,
    )
    app.state.services = services
    _include_desk_and_archive(app, services)

    @app.get("/healthz", summary="Liveness: 200 when the database answers")
    def healthz() -> JSONResponse:
        try:
            healthy = services.store.ping()
        except Exception:  # any database failure means unhealthy, never a 500 page
            healthy = False
        if healthy:
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "unavailable"}, status_code=503)

    return app


def _include_desk_and_archive(app: FastAPI, services: Services) -> None:
    from newsletter.web.archive import archive_router
    from newsletter.web.desk import desk_router

    app.include_router(desk_router(services))
    app.include_router(archive_router(services))
