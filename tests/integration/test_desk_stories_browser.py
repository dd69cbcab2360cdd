"""The inbox as stories in Chromium: the editor's panel searches the stories, adds one (its
lead article) and dismisses another (all its articles) with no page load; the inbox page shows
each story once with its other sources, the why of its score and its funding facts.
Screenshots at 1280 and 375 px go to tests/artifacts/."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from newsletter.curate.editors import add_editor
from newsletter.domain.model import ArticleDraft
from newsletter.runtime import curation
from newsletter.runtime.wiring import Services
from tests.desk_support import EDITOR, EDITOR_EMAIL, PASSWORD
from tests.integration.test_desk_browser import ARTIFACTS
from tests.integration.test_desk_editor_browser import expect, open_desk, saved, width_on_phone
from tests.test_desk_stories import seed_news

pytestmark = pytest.mark.integration


def stories_inbox(services: Services) -> None:
    """The news of tests/test_desk_stories.py, a second source for the remote-work one, an
    editor and an empty draft."""
    seed_news(services)
    store, now = services.store, services.clock()
    second = ArticleDraft(
        feed_name="frenchweb",
        guid="remote-2",
        url="https://www.frenchweb.example.fr/remote-2/",
        title="Télétravail : les PME bretonnes changent de méthode, selon une enquête",
        summary="Une enquête régionale sur le travail à distance dans les PME bretonnes.",
        content_html="",
        image_url=None,
        author=None,
        published_at=now - timedelta(hours=6),
    )
    store.articles.add(store.feeds.id_of("frenchweb"), [second], now)
    add_editor(store.editors, now, EDITOR, PASSWORD, email=EDITOR_EMAIL)
    curation.open_or_start(services)


def shoot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.mouse.wheel(0, -100_000)
    page.screenshot(path=str(ARTIFACTS / f"stories-{name}.png"), full_page=True)


def test_panel_searches_adds_and_dismisses_stories_without_a_page_load(
    desk_server: tuple[str, Services], browser: Any
) -> None:
    """Search without accents finds the story; "Ajouter" puts its lead in the issue;
    "Écarter" on a two-source story dismisses both its articles; no page load, no JS error."""
    base, services = desk_server
    stories_inbox(services)
    stories = curation.inbox_stories(services)
    nuvela = next(s for s in stories if "Nuvela" in s.lead.title)
    remote = next(s for s in stories if "Télétravail" in s.lead.title)
    assert len(nuvela.articles) == 3 and len(remote.articles) == 2
    draft = services.store.issues.open_draft()
    assert draft is not None

    page, errors, loads = open_desk(browser, base)
    page.goto(f"{base}/desk/inbox")
    expect(page.locator("#inbox-form li.story")).to_have_count(3)
    row = page.locator("#inbox-form li.story", has_text="Nuvela")
    assert "Aussi dans :" in row.inner_text() and "3 sources" in row.inner_text()
    assert "Levée : Nuvela" in row.inner_text()
    shoot(page, "inbox-1280")

    page.goto(f"{base}/desk/issues/{draft.id}")
    loads.clear()
    expect(page.locator("#panel li.story")).to_have_count(3)
    page.fill("#panel-q", "TELETRAVAIL")
    expect(page.locator("#panel li.story")).to_have_count(1)
    expect(page.locator("#panel-total")).to_contain_text("TELETRAVAIL")
    page.fill("#panel-q", "robot AGRICOLE")
    expect(page.locator("#panel-total")).to_contain_text("robot AGRICOLE")
    expect(page.locator("#panel li.story")).to_have_count(1)
    panel_row = page.locator("#panel li.story").first
    assert "Aussi dans :" in panel_row.inner_text()
    panel_row.locator("details.fund-edit summary").click()
    shoot(page, "panel-1280")
    panel_row.locator("button.add-one").click()
    saved(page)
    expect(page.locator("#items li.item")).to_have_count(1)
    page.fill("#panel-q", "")
    expect(page.locator("#panel li.story")).to_have_count(2)  # the added story left the panel
    page.locator("#panel li.story", has_text="Télétravail").locator("button.dismiss-one").click()
    saved(page)
    expect(page.locator("#panel li.story")).to_have_count(1)

    assert loads == [], f"page loads while editing: {loads}"
    assert errors == []
    issue = services.store.issues.get(draft.id)
    assert issue is not None and [i.article.id for i in issue.items] == [nuvela.lead.id]
    left = {a.id for a in services.store.articles.unused(100)}
    assert not left & {a.id for a in remote.articles}
    assert [s.lead.title for s in curation.inbox_stories(services)] == [
        "Le Next40 accueille dix nouveaux membres"
    ]

    small = browser.new_page(viewport={"width": 375, "height": 800}, locale="fr-FR")
    small.context.add_cookies(page.context.cookies())
    curation.dismiss_story(services, [a.id for a in remote.articles], restore=True)
    for url, name in ((f"/desk/issues/{draft.id}", "panel-375"), ("/desk/inbox", "inbox-375")):
        small.goto(base + url)
        width, wide = width_on_phone(small)
        assert width <= 375, f"{url} is {width} px wide on a 375 px screen: {wide}"
        shoot(small, name)
