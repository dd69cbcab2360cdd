"""The editors' desk in a real browser: Playwright drives Debian's Chromium against a live
uvicorn server. An editor logs in, opens the draft, reorders two articles by drag (and one
more with the keyboard), rewrites a summary (saved on its own), previews and schedules; the
scheduler tick then sends the issue with that order and summary. Screenshots of every page go
to tests/artifacts/.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import unescape
from typing import Any

import pytest

from newsletter.curate.editors import add_editor
from newsletter.deliver.memory import MemoryProvider
from newsletter.domain.clock import FrozenClock
from newsletter.domain.model import IssueState
from newsletter.runtime import jobs
from newsletter.runtime.wiring import Services
from tests.conftest import ROOT
from tests.desk_support import EDITOR, EDITOR_EMAIL, PASSWORD, newsroom

pytestmark = pytest.mark.integration

ARTIFACTS = ROOT / "tests" / "artifacts"
NEW_SUMMARY = "Résumé réécrit par la rédaction pour l’e-mail de la semaine."


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
    desk_server: tuple[str, Services], browser: Any
) -> None:
    """Log in, drag to reorder, move with the keyboard, rewrite a summary, preview, schedule;
    the dispatch tick then mails the issue in the new order with the new summary."""
    base, services = desk_server
    issue = newsroom(services, articles=5, subscribers=3)
    add_editor(services.store.editors, services.clock(), EDITOR, PASSWORD, email=EDITOR_EMAIL)
    a, b, c, d = (item.article.id for item in issue.items[:4])

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
