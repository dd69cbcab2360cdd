"""The newsletter's public face and its people, in Debian's Chromium (Playwright) against a
live uvicorn server whose config sets a non-default theme:

- every public page wears the theme (the button's computed colour is the brand colour), the
  sign-up form offers the sections ticked, keeps the reader's choice and shows its errors in
  French, and the unsubscribe page names the address masked;
- the archive's issue page has its link-preview tags and a working sign-up box;
- at 375 px the email keeps its thumbnails beside the text and the lead image large;
- an admin invites an editor through the desk; the editor sets a password through the one-time
  link, logs in, and is refused the admin actions (the page hides them, HTTP answers 403).

Screenshots of every public page at 1280 and 375 px and of the email at 600 and 375 px, light
and dark, go to tests/artifacts/ (public-*.png, email-*.png, people-*.png).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from newsletter.curate.editors import add_editor
from newsletter.curate.issues import send_now
from newsletter.domain.readers import SubscriberStatus
from newsletter.domain.tokens import CONFIRM, UNSUBSCRIBE
from newsletter.runtime import jobs
from newsletter.runtime.wiring import Services
from tests.conftest import ROOT
from tests.desk_support import EDITOR, PASSWORD, newsroom

from .conftest import LiveServer

pytestmark = pytest.mark.integration

ARTIFACTS = ROOT / "tests" / "artifacts"
BRAND = "#0a7d5c"
BRAND_RGB = "rgb(10, 125, 92)"
THEME = f"""
[theme]
brand_color = "{BRAND}"
dark_brand_color = "#5fd3ae"
logo_url = "https://cdn.example.org/logo.svg"
logo_width = 180
font_family = "Avenir, 'Helvetica Neue', Helvetica, Arial, sans-serif"
heading_font_family = "Georgia, 'Times New Roman', serif"
"""
# Sections readers may choose, none named like the newsroom's feeds' (the draft's order stays).
SECTIONS = "".join(
    f'[[sections]]\nname = "{name}"\nkeywords = ["{word}"]\n'
    for name, word in (("Climat", "carbone"), ("Culture", "musée"), ("Sport", "match"))
)
WRITER, WRITER_PASSWORD = "dominique", "un mot de passe solide"
PICTURE = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="800" viewBox="0 0 1200 800">'
    '<rect width="1200" height="800" fill="#8aa9c9"/><circle cx="600" cy="400" r="220" '
    'fill="#f2c14e"/></svg>'
)
LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="360" height="72" viewBox="0 0 360 72">'
    '<text x="0" y="54" font-family="Georgia" font-size="54" font-weight="bold" fill="#fff">'
    "MaddyNews</text></svg>"
)


@pytest.fixture
def server(live_server: Callable[..., LiveServer]) -> tuple[str, Services]:
    """A live server with the theme above and the real templates, whose base_url is its own
    address, and its services."""
    live = live_server(THEME + SECTIONS, render_email=None, own_base_url=True)
    return live.url, live.services


def pictures(page: Any) -> None:
    """Feed images and the logo from local SVGs: no network in tests."""
    page.route(
        "https://img.example.fr/**",
        lambda route: route.fulfill(body=PICTURE, content_type="image/svg+xml"),
    )
    page.route(
        "https://cdn.example.org/**",
        lambda route: route.fulfill(body=LOGO, content_type="image/svg+xml"),
    )


def shoot_everywhere(page: Any, name: str, widths: tuple[int, int] = (1280, 375)) -> None:
    """Full-page screenshots at both widths, light and dark."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for width in widths:
            page.set_viewport_size({"width": width, "height": 800})
            page.screenshot(path=str(ARTIFACTS / f"{name}-{width}-{scheme}.png"), full_page=True)
    page.emulate_media(color_scheme="light")
    page.set_viewport_size({"width": widths[0], "height": 800})


def sent_issue(services: Services) -> int:
    issue = newsroom(services, articles=11, subscribers=3)
    send_now(services.store.issues, issue.id, services.clock())
    jobs.dispatch_due(services)
    return issue.id


def test_public_pages_wear_the_theme_and_speak_french(
    server: tuple[str, Services], browser: Any
) -> None:
    """Sign-up (sections ticked, one unticked, an error, then accepted with that choice),
    confirmation, unsubscribe before and after, the archive and an issue: brand-coloured
    buttons, French messages, the masked address."""
    base, services = server
    issue_id = sent_issue(services)
    now = services.clock()
    reader = services.store.subscribers.by_email("lecteur0@example.org")
    pending, _ = services.store.subscribers.add(
        "attente@example.org", None, SubscriberStatus.PENDING, now
    )
    assert reader is not None
    page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="fr-FR")
    pictures(page)
    page.goto(f"{base}/subscribe")
    button = page.locator("main button[type=submit]")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == BRAND_RGB
    assert page.locator("header img").get_attribute("alt") == "MaddyNews"
    boxes = page.locator("main input[name=sections]")
    assert boxes.evaluate_all("bs => bs.map(b => [b.value, b.checked])") == [
        ["Climat", True],
        ["Culture", True],
        ["Sport", True],
    ]
    shoot_everywhere(page, "public-subscribe")
    page.get_by_label("Sport").uncheck()
    for typed, said in (
        ("jean.dupont@", "Il manque la fin de l’adresse, après le « @ »"),
        ("jean.dupont", "Il manque le « @ »"),
        ("jean dupont@exemple.fr", "La partie avant le « @ »"),
        ("zoé@exemple.fr", "Les accents et autres lettres non latines ne sont pas acceptés"),
    ):
        page.fill("#email", typed)
        page.click("main button[type=submit]")
        alert = page.locator("[role=alert]").inner_text()
        assert said in alert.replace("\u202f", " "), alert
        assert "@-sign" not in alert and "valid" not in alert
    assert not page.get_by_label("Sport").is_checked()  # kept through the errors
    shoot_everywhere(page, "public-subscribe-error")
    page.fill("#email", "nouvelle@example.org")
    page.click("main button[type=submit]")
    assert page.locator("h1").inner_text() == "Vérifiez votre boîte de réception"
    deadline = time.monotonic() + 10
    while (signed := services.store.subscribers.by_email("nouvelle@example.org")) is None:
        assert time.monotonic() < deadline, "the sign-up was not stored"
        time.sleep(0.05)
    assert signed.sections == ("Climat", "Culture")
    assert page.locator(f'main a[href="/archive/{issue_id}"]').count() == 1
    shoot_everywhere(page, "public-thanks")
    page.goto(f"{base}/confirm/{services.signer.sign(CONFIRM, pending.id, now)}")
    shoot_everywhere(page, "public-confirm")
    page.click("main button[type=submit]")
    assert page.locator("h1").inner_text() == "Inscription confirmée"
    shoot_everywhere(page, "public-confirmed")
    page.click("main a[href='/archive']")
    assert page.url == f"{base}/archive"
    page.goto(f"{base}/unsubscribe/{services.signer.sign(UNSUBSCRIBE, reader.id, now)}")
    assert "l•••0@example.org" in page.locator("main").inner_text()
    shoot_everywhere(page, "public-unsubscribe")
    page.click("main button[type=submit]")
    done = page.locator("main").inner_text()
    assert "L’adresse l•••0@example.org est désinscrite" in done
    assert page.locator("main button").count() == 0  # no "Me désinscrire" again
    shoot_everywhere(page, "public-unsubscribed")
    page.goto(f"{base}/archive")
    assert "À la une : " in page.locator("main").inner_text()
    shoot_everywhere(page, "public-archive")
    page.goto(f"{base}/archive/{issue_id}")
    shoot_everywhere(page, "public-archive-issue")


def test_archive_issue_page_tags_and_sign_up_box(
    server: tuple[str, Services], browser: Any
) -> None:
    """The issue page's preview tags as a crawler reads them, and its sign-up box works: it
    offers the sections as the sign-up page does, every box ticked, and keeps the choice."""
    base, services = server
    issue_id = sent_issue(services)
    page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="fr-FR")
    pictures(page)
    page.goto(f"{base}/archive/{issue_id}")
    tags = page.eval_on_selector_all(
        "meta[property], meta[name^=twitter]",
        "ms => Object.fromEntries(ms.map(m => [m.getAttribute('property') || "
        "m.getAttribute('name'), m.content]))",
    )
    assert tags["og:url"] == f"{base}/archive/{issue_id}"
    assert tags["og:image"] == "https://img.example.fr/0.jpg"
    assert tags["twitter:card"] == "summary_large_image"
    assert page.locator("link[rel=canonical]").get_attribute("href") == tags["og:url"]
    body = page.locator("body").inner_text().lower()
    assert "version en ligne" not in body and "abonné·e" not in body
    boxes = page.locator(".signup input[name=sections]")
    assert boxes.evaluate_all("bs => bs.map(b => [b.value, b.checked])") == [
        ["Climat", True],
        ["Culture", True],
        ["Sport", True],
    ]
    page.locator(".signup").get_by_label("Culture").uncheck()
    shoot_everywhere(page, "public-archive-signup")
    page.fill(".signup #email", "archive@example.org")
    page.click(".signup button")
    assert page.locator("h1").inner_text() == "Vérifiez votre boîte de réception"
    deadline = time.monotonic() + 10
    while (signed := services.store.subscribers.by_email("archive@example.org")) is None:
        assert time.monotonic() < deadline, "the archive's sign-up was not stored"
        time.sleep(0.05)
    assert signed.sections == ("Climat", "Sport")


def test_email_keeps_thumbnails_beside_the_text_on_phones(
    server: tuple[str, Services], browser: Any
) -> None:
    """At 375 px each thumbnail stays left of its title and at most 100 px wide, the lead
    image spans the column; "Au sommaire" opens the email; article images have alt=""."""
    _, services = server
    issue = newsroom(services, articles=11, subscribers=1)
    html = services.renderer.render_issue(issue).html
    page = browser.new_page(viewport={"width": 375, "height": 800})
    pictures(page)
    page.set_content(html, wait_until="load")
    hero = page.locator("img.nl-hero").bounding_box()
    assert hero is not None and hero["width"] > 300
    thumbs = page.locator("img.nl-thumb")
    assert thumbs.count() == 10
    for n in range(thumbs.count()):
        thumb = thumbs.nth(n)
        box = thumb.bounding_box()
        title = thumb.locator("xpath=ancestor::tr[1]//h3").bounding_box()
        assert box is not None and title is not None
        assert box["width"] <= 100, box
        assert title["x"] >= box["x"] + box["width"], (box, title)  # beside, not below
        assert abs(title["y"] - box["y"]) < 40, (box, title)
        assert thumb.get_attribute("alt") == ""
    height_375 = page.evaluate("document.documentElement.scrollHeight")
    assert height_375 < 4200, height_375  # was 5,100 px with stacked thumbnails
    assert page.locator("h2.nl-toc-title").text_content() == "Au sommaire"
    shoot_everywhere(page, "email-digest", widths=(600, 375))


def test_people_roles_in_the_desk(server: tuple[str, Services], browser: Any) -> None:
    """The admin invites an editor; the editor sets a password through the one-time link,
    logs in, sees no admin action, and HTTP refuses them anyway (403). The admin erases a
    subscriber and reads the log."""
    base, services = server
    sent_issue(services)
    add_editor(services.store.editors, services.clock(), EDITOR, PASSWORD)
    reader = services.store.subscribers.by_email("lecteur2@example.org")
    assert reader is not None
    admin = browser.new_page(viewport={"width": 1366, "height": 900}, locale="fr-FR")
    admin.goto(f"{base}/desk/login")
    admin.fill("#name", EDITOR)
    admin.fill("#password", PASSWORD)
    admin.click("button[type=submit]")
    admin.click("nav >> text=Rédacteurs")
    admin.fill("#invite-name", WRITER)
    admin.select_option("#invite-role", "editor")
    admin.click("text=Créer le lien d’invitation")
    link = admin.locator("#one-time-link").input_value()
    assert link.startswith(f"{base}/desk/password/")
    shoot_everywhere(admin, "people-editors", widths=(1366, 375))

    context = browser.new_context(viewport={"width": 1366, "height": 900})
    writer = context.new_page()
    writer.goto(link)
    writer.fill("#password", WRITER_PASSWORD)
    writer.fill("#again", WRITER_PASSWORD)
    writer.click("button[type=submit]")
    assert "/desk/login" in writer.url
    writer.fill("#name", WRITER)
    writer.fill("#password", WRITER_PASSWORD)
    writer.click("button[type=submit]")
    assert writer.locator("nav >> text=Rédacteurs").count() == 0
    writer.goto(f"{base}/desk/subscribers/{reader.id}")
    assert writer.locator("text=Effacer définitivement").count() == 0
    csrf = writer.locator("input[name=csrf]").first.input_value()
    for path in (f"/desk/subscribers/{reader.id}/erase", "/desk/editors/invite"):
        answer = writer.request.post(
            f"{base}{path}", form={"csrf": csrf, "name": "x"}, headers={"Origin": base}
        )
        assert answer.status == 403, (path, answer.status)
    assert writer.request.get(f"{base}/desk/log").status == 403
    again = context.new_page()
    again.goto(link)
    assert "Ce lien ne fonctionne plus" in again.locator("main").inner_text()

    admin.goto(f"{base}/desk/subscribers/{reader.id}")
    shoot_everywhere(admin, "people-subscriber", widths=(1366, 375))
    admin.click("text=Effacer (RGPD)…")
    admin.click("text=Effacer définitivement")
    assert services.store.subscribers.get(reader.id) is None
    admin.goto(f"{base}/desk/log")
    log = admin.locator("main").inner_text()
    assert "Abonné effacé (RGPD)" in log and "Rédacteur invité" in log
    assert re.search(rf"{EDITOR}\s+Abonné effacé", log)
    shoot_everywhere(admin, "people-log", widths=(1366, 375))
