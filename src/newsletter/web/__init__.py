"""The web app: public pages and endpoints, the editors' desk, the archive.

`create_app(services)` builds a FastAPI app around already-built services; nothing is created at
import time. The routers are module-level; what their handlers share is built here, once, and
kept in `app.state`: `services`, `templates` (the one Jinja environment of every page),
`public`, `desk`. Security headers are set in one place, the `SecurityHeaders` middleware. The
app owns the outbox worker that sends confirmation and welcome emails: it starts and stops with
the app.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from newsletter import __version__
from newsletter.audience.outbox import OutboxWorker, RenderEmail
from newsletter.runtime.audience import outbox_mailer
from newsletter.runtime.wiring import Services
from newsletter.web import archive, desk, links, public, readers, webhooks
from newsletter.web.access import AccessLog
from newsletter.web.desk.requests import AdminsOnly, Desk, admins_only
from newsletter.web.forwarded import ForwardedHeaders, trusted_networks
from newsletter.web.guard import BodyLimit, HostHeader, SecurityHeaders
from newsletter.web.pages import environment


def create_app(
    services: Services,
    render_email: RenderEmail | None = None,
    outbox_worker: bool = True,
) -> FastAPI:
    """The app. `render_email` replaces the email renderer (tests); `outbox_worker=False`
    leaves owed emails to another process's worker."""
    worker = OutboxWorker(outbox_mailer(services, render_email)) if outbox_worker else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            app.state.public.close()  # first: its sign-ups may owe confirmation emails
            if worker is not None:
                worker.stop()

    app = FastAPI(
        title=f"{services.config.settings.newsletter.name} newsletter",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    settings = services.config.settings
    templates = environment(settings.newsletter.timezone)
    # Every public page's layout (templates/base.html) wears the newsletter's theme.
    templates.globals["theme"] = settings.theme
    templates.globals["base_url"] = settings.newsletter.base_url
    app.state.services = services
    app.state.templates = templates
    app.state.desk = Desk(services, templates)
    for router in desk.ROUTERS:
        app.include_router(router)
    app.add_exception_handler(AdminsOnly, admins_only)
    app.include_router(archive.router)
    app.state.public = public.Public.build(services, templates, worker)
    app.state.outbox_worker = worker

    @app.get(
        "/healthz",
        summary="Liveness: 200 when the database answers",
        responses={
            200: {"content": {"application/json": {"example": {"status": "ok"}}}},
            503: {"description": "The database does not answer"},
        },
    )
    def healthz() -> JSONResponse:
        try:
            healthy = services.store.ping()
        except Exception:  # any database failure means unhealthy, never a 500 page
            healthy = False
        if healthy:
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "unavailable"}, status_code=503)

    app.include_router(public.router)
    app.include_router(links.router)
    app.include_router(readers.router)
    app.include_router(webhooks.router)

    web = services.config.settings.web
    messages = app.state.public.t
    app.add_middleware(
        BodyLimit,
        limit_for=_desk_forms_allowed(public.limit_for(web.max_body_bytes)),
        message=lambda key, limit: messages(key, limit=limit),
    )
    app.add_middleware(SecurityHeaders, embeddable=lambda path: path == "/subscribe")
    if web.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=web.cors_origins,
            allow_methods=["POST"],
            allow_headers=["Content-Type"],
            max_age=3600,
        )
    app.add_middleware(HostHeader, message=messages("bad_host"))
    app.add_middleware(AccessLog)
    # Outermost: everything inside sees the client address it decides.
    app.add_middleware(ForwardedHeaders, trusted=trusted_networks(web.forwarded_allow_ips))
    return app


# An issue form carries every item's title and summary: far more than a sign-up form.
DESK_MAX_BODY_BYTES = 1_000_000


def _desk_forms_allowed(limit: Callable[[str], int]) -> Callable[[str], int]:
    def limit_for(path: str) -> int:
        return DESK_MAX_BODY_BYTES if path.startswith("/desk/") else limit(path)

    return limit_for
