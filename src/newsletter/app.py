"""`newsletter run`: the web app and the scheduler in one process."""

from __future__ import annotations

import logging

import uvicorn

from newsletter import bootstrap
from newsletter.config import Config
from newsletter.logs import configure_logging
from newsletter.schedule import SchedulerService
from newsletter.web import create_app


def run_forever(config: Config, log_json: bool = False) -> None:
    """Migrate the database, start the scheduler, serve the web app until interrupted."""
    configure_logging(json_lines=log_json)
    log = logging.getLogger("newsletter")
    services = bootstrap.build(config)
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
    try:
        uvicorn.run(create_app(services), host=web.host, port=web.port, log_config=None)
    finally:
        services.stopping.set()
        scheduler.stop(wait=True)
        services.close()
