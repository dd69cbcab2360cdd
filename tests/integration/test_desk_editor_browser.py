"""The editor's week in Chromium: a 12-item issue built from a 600-article inbox with no page
load while editing, autosave across a reload, scheduling right after an unsaved edit, bulk
removal, accent-insensitive search, one draft at a time, the send-now status and the pre-send
check on the editor and the send confirmation. Screenshots at 1280 and 375 px go to
tests/artifacts/."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from newsletter.curate.editors import add_editor
from newsletter.domain.model import ArticleDraft, FeedSource, IssueState
from newsletter.domain.readers import SubscriberStatus
from newsletter.runtime import jobs
from newsletter.runtime.wiring import Services
from tests.desk_support import EDITOR, EDITOR_EMAIL, PASSWORD
from tests.integration.test_desk_browser import ARTIFACTS, log_in

pytestmark = pytest.mark.integration

NEEDLE = "L’Écosystème lillois des start-up en 2026"


def inbox_of(services: Services, count: int = 600, subscribers: int = 3) -> None:
    """Two feeds in two sections, `count` articles (one titled NEEDLE), active subscribers."""
    store, now = services.store, services.clock()
    store.feeds.sync(
        [
            FeedSource("maddyness", "https://www.maddyness.com/feed/", "À la une"),
            FeedSource("frenchweb", "https://www.frenchweb.fr/feed", "Tech"),
        ]
    )
    for feed in ("maddyness", "frenchweb"):
        drafts = [
            ArticleDraft(
                feed_name=feed,
                guid=f"{feed}-{index}",
                url=f"https://www.{feed}.example.fr/article-{index}/",
                title=NEEDLE if (feed, index) == ("frenchweb", 250) else f"{feed} : brève {index}",
                summary=f"Résumé {index} de l’article.",
                content_html="<p>x</p>",
                image_url=f"https://img.example.fr/{index}.jpg",
                author="Rédaction",
                published_at=now - timedelta(minutes=2 * index + (feed == "frenchweb")),
            )
            for index in range(count // 2)
        ]
        store.articles.add(store.feeds.id_of(feed), drafts, now)
    for index in range(subscribers):
        store.subscribers.add(
            f"lecteur{index}@example.org", f"Lecteur {index}", SubscriberStatus.ACTIVE, now
        )
    add_editor(store.editors, now, EDITOR, PASSWORD, email=EDITOR_EMAIL)


def shoot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    if page.locator("#live-frame").count():
        page.frame_locator("#live-frame").locator("body").wait_for()
    page.mouse.wheel(0, -100_000)  # full-page shots of a scrolled page misplace sticky bars
    page.screenshot(path=str(ARTIFACTS / f"editor-{name}.png"), full_page=True)


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def saved(page: Any) -> None:
    """Wait until the editor says every edit is saved."""
    page.wait_for_selector("#save-state[data-state=saved]", timeout=60_000)


def ids_on_page(page: Any) -> list[int]:
    found: list[str] = page.eval_on_selector_all(
        "#items li.item", "items => items.map(item => item.dataset.id)"
    )
    return [int(i) for i in found]


def width_on_phone(page: Any) -> tuple[int, list[str]]:
    """The page's width, and (for the message) up to 8 elements reaching past 375 px."""
    width: int = page.evaluate("() => document.documentElement.scrollWidth")
    wide: list[str] = page.evaluate(
        "() => Array.from(document.querySelectorAll('body *'))"
        ".filter(e => e.getBoundingClientRect().right > 376)"
        ".slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id)"
    )
    return width, wide


def items_in_store(services: Services, issue_id: int) -> list[int]:
    issue = services.store.issues.get(issue_id)
    assert issue is not None
    return [item.article.id for item in issue.items]


def open_desk(browser: Any, base: str, width: int = 1280) -> tuple[Any, list[str], list[str]]:
    """A logged-in page, the page errors it raises, and the URLs its main frame navigates to."""
    page = browser.new_page(viewport={"width": width, "height": 900}, locale="fr-FR")
    # A shared CI machine can take long to render the send confirmation's checks: wait, not fail.
    page.set_default_timeout(90_000)
    page.set_default_navigation_timeout(90_000)
    errors: list[str] = []
    loads: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "framenavigated",
        lambda frame: loads.append(frame.url) if frame == page.main_frame else None,
    )
    page.goto(f"{base}/desk/login")
    log_in(page)
    page.wait_for_url(f"{base}/desk")
    return page, errors, loads


def test_twelve_items_from_600_articles_without_a_page_load(
    desk_server: tuple[str, Services], browser: Any
) -> None:
    """From the inbox with no draft, the first "Ajouter" opens one; then the editor's panel
    (search, ticks, "Ajouter", the `a` key) brings it to 12 items, a bulk removal and the
    subject's edit included, with no page load while editing."""
    base, services = desk_server
    inbox_of(services)
    assert services.store.issues.open_draft() is None
    page, errors, loads = open_desk(browser, base)

    page.goto(f"{base}/desk/inbox")
    assert "Aucun brouillon ouvert" in page.inner_text("main")
    page.locator("#inbox-form input.pick").first.check()
    page.click("#inbox-form button[value=add]")
    page.wait_for_url("**/desk/inbox*ok=added*")
    draft = services.store.issues.open_draft()
    assert draft is not None and len(draft.items) == 1

    page.goto(f"{base}/desk/issues/{draft.id}")
    loads.clear()
    # Five ticked rows added at once.
    picks = page.locator("#panel input.pick:not([disabled])")
    for index in range(5):
        picks.nth(index).check()
    page.click("#add-picked")
    saved(page)
    expect(page.locator("#items li.item")).to_have_count(6)
    # Searched, without accents or capitals: the article titled with "Écosystème" is found.
    page.fill("#panel-q", "ECOSYSTEME lillois")
    expect(page.locator("#panel li.row")).to_have_count(1)
    assert NEEDLE in page.inner_text("#panel")
    page.click("#panel li.row button.add-one")
    saved(page)
    page.fill("#panel-q", "")
    expect(page.locator("#panel li.row").nth(20)).to_be_attached()
    # The keyboard: `j` down the panel's rows, `a` adds the focused one.
    page.locator("#panel li.row:not(.used)").first.focus()
    for _ in range(7):
        page.keyboard.press("a")
        saved(page)
    expect(page.locator("#items li.item")).to_have_count(14)
    # Two removed at once.
    ticked = page.locator("#items input.pick")
    ticked.nth(1).check()
    ticked.nth(2).check()
    page.click("#remove-picked")
    saved(page)
    page.fill("#subject", "Douze articles pour la semaine")
    saved(page)
    shoot(page, "1280")

    assert loads == [], f"page loads while editing: {loads}"
    assert len(items_in_store(services, draft.id)) == 12
    assert ids_on_page(page) == items_in_store(services, draft.id)
    edited = services.store.issues.get(draft.id)
    assert edited is not None and edited.subject == "Douze articles pour la semaine"
    assert NEEDLE in [item.article.title for item in edited.items]
    # Items stay grouped by section, as in the email: no section heading twice.
    heads = page.eval_on_selector_all("#items .group-head", "hs => hs.map(h => h.textContent)")
    assert sorted(heads) == ["Tech", "À la une"] or len(set(heads)) == len(heads)
    # The live preview follows: the new subject is shown, the iframe shows the needle.
    assert "Douze articles" in page.inner_text("#shown-subject")
    frame = page.frame_locator("#live-frame")
    assert NEEDLE in frame.locator("body").inner_text()
    assert errors == []

    small = browser.new_page(viewport={"width": 375, "height": 800}, locale="fr-FR")
    small.context.add_cookies(page.context.cookies())
    small.goto(f"{base}/desk/issues/{draft.id}")
    width, wide = width_on_phone(small)
    assert width <= 375, f"the editor is {width} px wide on a 375 px screen: {wide}"
    shoot(small, "375")
    small.click(".tabs [data-view=mobile]")
    small.locator("#live").scroll_into_view_if_needed()
    assert NEEDLE in small.frame_locator("#live-frame").locator("body").inner_text()
    small.screenshot(path=str(ARTIFACTS / "editor-375-preview.png"))
    small.click(".tabs [data-view=text]")
    expect(small.locator("#live-text")).to_contain_text(NEEDLE)
    small.goto(f"{base}/desk/inbox")
    shoot(small, "inbox-375")
    page.goto(f"{base}/desk/inbox")
    shoot(page, "inbox-1280")


def test_autosave_survives_a_reload_and_schedule_sends_the_unsaved_edit(
    desk_server: tuple[str, Services], browser: Any
) -> None:
    """An edit saved on its own survives a reload; a subject typed and scheduled at once is
    the subject scheduled (saved before the schedule is posted)."""
    base, services = desk_server
    inbox_of(services, count=40)
    page, errors, _ = open_desk(browser, base)
    page.click("button >> text=Créer un brouillon maintenant")
    page.wait_for_url("**/desk/issues/*")
    draft = services.store.issues.open_draft()
    assert draft is not None

    page.fill("#intro", "Bonjour à toutes et à tous !")
    saved(page)
    page.locator("#items summary").first.click()  # a row unfolds to edit
    expect(page.locator("#items details[open] textarea")).to_be_visible()
    shoot(page, "row-open")
    page.reload()
    assert page.input_value("#intro") == "Bonjour à toutes et à tous !"

    page.fill("#subject", "Objet tapé juste avant de programmer")
    page.fill("#send-date", "2026-11-30")
    page.fill("#send-time", "08:00")
    page.click("button >> text=Programmer l’envoi")
    page.wait_for_url("**ok=scheduled*")
    scheduled = services.store.issues.get(draft.id)
    assert scheduled is not None
    assert scheduled.state is IssueState.SCHEDULED
    assert scheduled.subject == "Objet tapé juste avant de programmer"
    assert errors == []


def test_one_draft_and_send_now_shows_progress_until_the_end(
    desk_server: tuple[str, Services], browser: Any
) -> None:
    """The dashboard offers no second draft (and posting for one opens the first); the pre-
    send check is on the editor and on the send confirmation; after "Envoyer" the issue says
    "envoi en cours" with the audience at once, and the banner goes when the send ends."""
    base, services = desk_server
    inbox_of(services, count=20, subscribers=4)
    page, errors, _ = open_desk(browser, base)
    page.click("button >> text=Créer un brouillon maintenant")
    page.wait_for_url("**/desk/issues/*")
    first = services.store.issues.open_draft()
    assert first is not None
    page.goto(f"{base}/desk")
    assert page.locator("button >> text=Créer un brouillon maintenant").count() == 0
    page.click("text=Ouvrir le brouillon")
    page.wait_for_url(f"{base}/desk/issues/{first.id}")
    assert len(services.store.issues.all()) == 1

    # The pre-send check in the editor: the introduction is empty, then it is not.
    assert "L’introduction est vide" in page.inner_text("#checks")
    page.fill("#intro", "Voici [notre dossier](javascript:alert(1)).")
    saved(page)
    checks = page.inner_text("#checks")
    assert "L’introduction est vide" not in checks
    assert "Lien cassé dans l’introduction" in checks
    page.fill("#intro", "Voici [notre dossier](https://example.org/dossier).")
    saved(page)
    assert "Lien cassé" not in page.inner_text("#checks")

    # The link saves what is on screen, then goes (editor.js); clicked as the page's own
    # script would, whatever covers it at this viewport.
    page.eval_on_selector("#send-now", "link => link.click()")
    page.wait_for_url(f"{base}/desk/issues/{first.id}/send")
    assert "L’objet est celui par défaut" in page.inner_text("main")
    shoot(page, "send-confirm")
    page.check("input[name=confirm]")
    page.click("button >> text=Envoyer à")
    page.wait_for_url("**ok=sending*")
    banner = page.inner_text("#sending-banner")
    assert "Envoi en cours" in banner and "sur 4" in banner
    assert "Envoi en cours" in page.inner_text("#state-badge")
    shoot(page, "sending")

    jobs.dispatch_due(services)  # the scheduler's tick
    sent = services.store.issues.get(first.id)
    assert sent is not None and sent.state is IssueState.SENT
    page.wait_for_selector("#sending-banner", state="detached", timeout=15_000)
    page.wait_for_load_state()
    assert "Envoyé" in page.inner_text("h1")
    assert f"N°{sent.number}" in page.inner_text("h1") and sent.number == 1
    assert errors == []
