"""A live server: the real app under uvicorn on a loopback port, in a thread, with the memory
provider and a frozen clock, driven over HTTP with httpx or in Chromium (`browser`)."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from newsletter.audience.outbox import RenderEmail
from newsletter.deliver import sender_of
from newsletter.deliver.memory import MemoryProvider, SentCopy
from newsletter.domain.clock import FrozenClock
from newsletter.domain.delivery import Placeholders, RenderedMessage
from newsletter.domain.settings import WebSection
from newsletter.render.screenshot import LAUNCH_ARGS
from newsletter.runtime import wiring
from newsletter.runtime.config import Config
from newsletter.runtime.process import server_settings
from newsletter.runtime.wiring import Services
from newsletter.web import create_app
from tests.conftest import BASE_URL, free_port

CHROMIUM = Path("/usr/bin/chromium")
CONFIRM_LINK = re.compile(r"https?://\S+/confirm/[A-Za-z0-9_.-]+")


def fake_render(
    name: str, context: Mapping[str, object], placeholders: Placeholders
) -> RenderedMessage:
    """A stand-in for the email renderer: the link and the placeholders, nothing else."""
    url = context.get("confirm_url") or ""
    reader, unsubscribe = placeholders.name, placeholders.unsubscribe_url
    return RenderedMessage(
        subject=f"[{name}] MaddyNews",
        preheader="",
        html=f'<p>{name} {reader} <a href="{url}">link</a> <a href="{unsubscribe}">x</a></p>',
        text=f"{name} {reader}\n{url}\nunsubscribe: {unsubscribe}\n",
        placeholders=placeholders,
    )


@contextmanager
def serving(
    app: FastAPI, web: WebSection, port: int = 0, log_level: str = "warning"
) -> Iterator[str]:
    """The app under uvicorn with the production settings (no proxy headers read by uvicorn
    itself, the app's own access log) on a loopback port, a free one when 0, in a thread;
    yields its base URL and stops it after."""
    settings = {**server_settings(web), "host": "127.0.0.1", "port": port}
    server = uvicorn.Server(uvicorn.Config(app, **settings, log_level=log_level, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20  # a loaded machine starts slowly
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class LiveServer:
    url: str
    services: Services
    provider: MemoryProvider
    clock: FrozenClock
    app: FastAPI
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, **options: Any) -> httpx.Client:
        client = httpx.Client(base_url=self.url, timeout=10, follow_redirects=False, **options)
        self.clients.append(client)
        return client

    def close_clients(self) -> None:
        for client in self.clients:
            client.close()

    def mail_to(self, email: str, count: int = 1, timeout: float = 10.0) -> list[SentCopy]:
        """The copies sent to `email`, once there are `count` of them (the worker is async)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            copies = self.provider.to(email)
            if len(copies) >= count:
                return copies
            time.sleep(0.02)
        raise AssertionError(f"{count} email(s) to {email} expected, got {self.provider.to(email)}")

    def stored(self) -> None:
        """Wait until every sign-up answered so far is in the database (they are stored
        after the answer)."""
        deadline = time.monotonic() + 10
        while self.app.state.public.signups.waiting and time.monotonic() < deadline:
            time.sleep(0.01)

    def settle(self) -> None:
        """Wait until sign-ups are stored and the outbox worker has nothing left to send."""
        self.stored()
        deadline = time.monotonic() + 10
        while self.services.store.outbox.count() and time.monotonic() < deadline:
            time.sleep(0.02)

    def confirm_link(self, email: str, count: int = 1) -> str:
        copy = self.mail_to(email, count)[count - 1]
        found = CONFIRM_LINK.search(copy.copy.text)
        assert found, copy.copy.text
        return found.group(0)


@pytest.fixture
def live_server(
    make_config: Callable[..., Any], clock: FrozenClock
) -> Iterator[Callable[..., LiveServer]]:
    """Start the app on a free loopback port; `extra` TOML and `environ` tune its config;
    `log_level` is uvicorn's own; with `own_base_url` the config's base_url is the server's
    address, so that a browser following the app's links stays on it."""
    with ExitStack() as stack:

        def start(
            extra: str = "",
            environ: dict[str, str] | None = None,
            render_email: RenderEmail | None = fake_render,
            log_level: str = "warning",
            own_base_url: bool = False,
        ) -> LiveServer:
            port = free_port() if own_base_url else 0
            base_url = f"http://127.0.0.1:{port}" if own_base_url else BASE_URL
            config = make_config(extra, environ=environ, base_url=base_url)
            provider = MemoryProvider(sender=sender_of(config))
            services = wiring.build(config, clock=clock, provider=provider)
            stack.callback(services.close)
            services.store.migrate()
            app = create_app(services, render_email=render_email)
            url = stack.enter_context(serving(app, config.settings.web, port, log_level))
            live = LiveServer(url, services, provider, clock, app)
            stack.callback(live.close_clients)
            return live

        yield start


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright with the flags of the project's own screenshots;
    a skip where either is missing."""
    if not CHROMIUM.exists() or shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def desk_server(live_server: Callable[..., LiveServer]) -> tuple[str, Services]:
    """A live server with the real templates whose base_url is its own address (the desk's
    links and redirects stay on it), and its services."""
    live = live_server(render_email=None, own_base_url=True)
    return live.url, live.services


@pytest.fixture
def feed_services(
    make_config: Callable[..., Config], clock: FrozenClock
) -> Iterator[Callable[..., Services]]:
    """Services on a migrated database whose configuration lists `feeds` (name -> URL) with the
    given `[collect]` settings and, when given, one section for every feed; closed at the end."""
    opened: list[Services] = []

    def make(
        feeds: Mapping[str, str], collect: Mapping[str, Any], section: str | None = None
    ) -> Services:
        section_line = f'section = "{section}"\n' if section else ""
        toml_feeds = "".join(
            f'[[feeds]]\nname = "{name}"\nurl = "{url}"\n{section_line}\n'
            for name, url in feeds.items()
        )
        toml_collect = "[collect]\n" + "".join(
            f"{key} = {json.dumps(value)}\n" for key, value in collect.items()
        )
        built = wiring.build(make_config(extra=toml_collect, feeds=toml_feeds), clock=clock)
        built.store.migrate()
        opened.append(built)
        return built

    yield make
    for built in opened:
        built.close()
