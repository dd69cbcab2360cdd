"""The editors' desk in a real browser: Playwright drives Debian's Chromium against a live
uvicorn server. An editor logs in, opens the draft, reorders two articles by drag (and one
more with the keyboard), rewrites a summary (saved on its own), previews and schedules; the
scheduler tick then sends the issue with that order and summary. Screenshots of every page go
to tests/artifacts/.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from newsletter.curate.editors import add_editor
from newsletter.deliver import sender_of
from newsletter.deliver.memory import MemoryProvider
from newsletter.domain.clock import FrozenClock
from newsletter.domain.model import IssueState
from newsletter.render.screenshot import LAUNCH_ARGS
from newsletter.runtime import config as config_module
from newsletter.runtime import jobs, wiring
from newsletter.runtime.process import server_settings
from newsletter.runtime.wiring import Services
from newsletter.web import create_app
from tests.conftest import ROOT, write_config
from tests.desk_support import EDITOR, EDITOR_EMAIL, PASSWORD, newsroom

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"
ARGS = LAUNCH_ARGS  # the flags the project's own screenshots use
NEW_SUMMARY = "Résumé réécrit par la rédaction pour l’e-mail de la semaine."


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def desk_server(tmp_path: Path, database_url: str) -> Iterator[tuple[str, Services]]:
    """A live server on a loopback port whose base_url is that address, in a thread."""
    if not CHROMIUM.exists() or shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    (tmp_path / "templates").symlink_to(ROOT / "templates")
    path = write_config(tmp_path, database_url)
    path.write_text(path.read_text().replace("https://news.example.org", base))
    config = config_module.load(path, {"NEWSLETTER_SECRET_KEY": "browser-test"})
    clock = FrozenClock(datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    services = wiring.build(config, clock=clock, provider=MemoryProvider(sender_of(config)))
    services.store.migrate()
    settings = {**server_settings(config.settings.web), "host": "127.0.0.1", "port": port}
    server = uvicorn.Server(uvicorn.Config(create_app(services), **settings, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the desk server did not start")
        time.sleep(0.05)
    try:
        yield base, services
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        services.close()


def shoot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"desk-{name}.png"), full_page=True)


def log_in(page: Any) -> None:
    page.fill("#name", EDITOR)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def plain(markup: str) -> str:
    """Entities decoded, typographic spaces and line breaks made plain, for text searches."""
    return " ".join(unescape(markup).replace("\u00a0", " ").replace("\u202f", " ").split())


def order_on_page(page: Any) -> list[int]:
    ids: list[str] = page.eval_on_selector_all(
        "#items li.item", "items => items.map(item => item.dataset.id)"
    )
    return [int(i) for i in ids]


def test_editor_curates_previews_schedules_and_the_tick_sends(
    desk_server: tuple[str, Services],
) -> None:
    """Log in, drag to reorder, move with the keyboard, rewrite a summary, preview, schedule;
    the dispatch tick then mails the issue in the new order with the new summary."""
    from playwright.sync_api import sync_playwright

    base, services = desk_server
    issue = newsroom(services, articles=5, subscribers=3)
    add_editor(services.store.editors, services.clock(), EDITOR, PASSWORD, email=EDITOR_EMAIL)
    a, b, c, d = (item.article.id for item in issue.items[:4])

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="fr-FR")
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{base}/desk")
            assert "/desk/login" in page.url
            shoot(page, "login")
            log_in(page)
            page.wait_for_url(f"{base}/desk")
            shoot(page, "dashboard")

            page.click(f"a[href='/desk/issues/{issue.id}'] >> text=Ouvrir le brouillon")
            page.wait_for_url(f"{base}/desk/issues/{issue.id}")
            assert order_on_page(page)[:4] == [a, b, c, d]
            shoot(page, "issue-draft")

            # Drag the first article below the second (same section), by its handle: the
            # HTML5 drag events a browser fires (Playwright's synthetic mouse drag does not
            # start a native drag in Debian's Chromium build, so they are dispatched as the
            # browser would).
            target = page.locator(f"#item-{b}").bounding_box()
            assert target is not None
            transfer = page.evaluate_handle("() => new DataTransfer()")
            below_middle = {
                "dataTransfer": transfer,
                "clientX": target["x"] + target["width"] / 2,
                "clientY": target["y"] + target["height"] - 4,
            }
            page.dispatch_event(f"#item-{a} .handle", "dragstart", {"dataTransfer": transfer})
            page.dispatch_event(f"#item-{b} summary", "dragover", below_middle)
            page.dispatch_event(f"#item-{b} summary", "drop", below_middle)
            page.dispatch_event(f"#item-{a} .handle", "dragend", {"dataTransfer": transfer})
            assert order_on_page(page)[:4] == [b, a, c, d]
            # The keyboard way: Alt+↑ on the third article's row (the last of its section).
            page.focus(f"#item-{c}")
            page.keyboard.press("Alt+ArrowUp")
            assert order_on_page(page)[:4] == [b, c, a, d]
            assert page.get_attribute("#save-state", "data-state") in ("dirty", "saving")

            page.click(f"#item-{b} summary")
            page.fill(f"#summary-{b}", NEW_SUMMARY)
            page.wait_for_selector("#save-state[data-state=saved]")
            saved = services.store.issues.get(issue.id)
            assert saved is not None
            assert [item.article.id for item in saved.items][:4] == [b, c, a, d]
            assert saved.items[0].summary == NEW_SUMMARY
            live = page.frame_locator("#live-frame")
            assert NEW_SUMMARY[:40] in live.locator("body").inner_text()

            page.click("a.btn >> text=Aperçu pleine page")
            page.wait_for_url(f"{base}/desk/issues/{issue.id}/preview")
            desktop = page.frame_locator("#frame-desktop")
            assert NEW_SUMMARY[:40] in desktop.locator("body").inner_text()
            mobile = page.frame_locator("#frame-mobile")
            assert NEW_SUMMARY[:40] in mobile.locator("body").inner_text()
            assert "sur 102 Ko" in page.inner_text("main")
            shoot(page, "preview")

            page.goto(f"{base}/desk/inbox")
            shoot(page, "inbox")
            page.goto(f"{base}/desk/subscribers")
            shoot(page, "subscribers")

            page.goto(f"{base}/desk/issues/{issue.id}")
            page.fill("#send-date", "2026-11-30")
            page.fill("#send-time", "08:00")
            page.click("button >> text=Programmer l’envoi")
            page.wait_for_url("**ok=scheduled*")
            assert "30 novembre 2026, 08:00" in page.inner_text("main")
            shoot(page, "issue-scheduled")
            page.goto(f"{base}/desk/issues/{issue.id}/send")
            shoot(page, "send-confirm")

            scheduled = services.store.issues.get(issue.id)
            assert scheduled is not None and scheduled.state is IssueState.SCHEDULED
            assert scheduled.send_at == datetime(2026, 11, 30, 7, 0, tzinfo=UTC)

            # The scheduler tick, once the send time has come.
            clock = services.clock
            assert isinstance(clock, FrozenClock)
            jobs.dispatch_due(services)
            assert services.store.issues.get(issue.id).state is IssueState.SCHEDULED  # type: ignore[union-attr]
            clock.now = datetime(2026, 11, 30, 7, 1, tzinfo=UTC)
            jobs.dispatch_due(services)

            provider = services.provider
            assert isinstance(provider, MemoryProvider)
            assert len(provider.sent) == 3
            titles = [services.store.articles.get(i).title for i in (b, c, a, d)]  # type: ignore[union-attr]
            for sent in provider.sent:
                html, text = plain(sent.copy.html), plain(sent.copy.text)
                # The last mention of each title is its heading (the preheader repeats the lead).
                positions = [text.rindex(plain(title)) for title in titles]
                assert positions == sorted(positions), "the email keeps the desk's order"
                assert NEW_SUMMARY[:40] in html and NEW_SUMMARY[:40] in text

            # A week later the session has expired: log in again to see the results.
            page.goto(f"{base}/desk/issues/{issue.id}")
            log_in(page)
            page.wait_for_url(f"{base}/desk/issues/{issue.id}")
            assert "Résultats" in page.inner_text("main")
            shoot(page, "issue-sent")
            page.goto(f"{base}/archive/{issue.id}")
            assert NEW_SUMMARY[:40] in page.inner_text("body")
            shoot(page, "archive-issue")
            page.goto(f"{base}/archive")
            shoot(page, "archive")
            assert errors == []
        finally:
            browser.close()
