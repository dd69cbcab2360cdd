"""`newsletter run`: the web app and the scheduler in one process."""

from __future__ import annotations

import logging
import signal
from types import FrameType
from typing import Any

import uvicorn

from newsletter.domain.settings import WebSection
from newsletter.runtime import wiring
from newsletter.runtime.config import Config
from newsletter.runtime.logs import configure_logging
from newsletter.runtime.scheduler import SchedulerService
from newsletter.web import create_app


def server_settings(web: WebSection) -> dict[str, Any]:
    """uvicorn's settings for the app (keyword arguments of `uvicorn.run` / `uvicorn.Config`).

    uvicorn must not read proxy headers itself (by default it believes X-Forwarded-For from
    127.0.0.1): the app decides the client address from `[web] forwarded_allow_ips`
    (`web.forwarded`). uvicorn's access log would print link tokens: the app writes its own
    (`web.access`)."""
    return {
        "host": web.host,
        "port": web.port,
        "log_config": None,
        "proxy_headers": False,
        "forwarded_allow_ips": [],
        "access_log": False,
    }


def run_forever(config: Config, log_json: bool = False) -> None:
    """Migrate the database, start the scheduler, serve the web app until interrupted."""
    configure_logging(json_lines=log_json)
    log = logging.getLogger("newsletter")
    services = wiring.build(config)
    services.store.migrate()
    services.store.feeds.sync(config.feed_sources())
    scheduler = SchedulerService(services)
    try:
        scheduler.start()
    except BaseException:
        services.close()
        raise
    web = config.settings.web
    log.info("serving on http://%s:%s", web.host, web.port)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        services.stopping.set()

    # uvicorn shuts the web app down on SIGTERM/SIGINT, then re-raises the signal to the
    # handlers it found: these, so that the process stops the scheduler gracefully (a send
    # finishes its batch in flight) instead of dying with the default handler.
    previous = {number: signal.signal(number, stop) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        uvicorn.run(create_app(services), **server_settings(web))
    finally:
        services.stopping.set()
        log.info("stopping: letting the job in flight finish")
        scheduler.stop(wait=True)
        services.close()
        for number, handler in previous.items():
            signal.signal(number, handler)
        log.info("stopped")
