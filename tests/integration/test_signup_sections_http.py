"""The sections on the sign-up form, through the real HTTP stack: offered as ticked boxes when
the newsletter has sections, stored as /preferences stores them, absent otherwise."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from newsletter.domain.tokens import UNSUBSCRIBE
from tests.readers_support import SECTIONS_TOML

from .conftest import LiveServer

pytestmark = pytest.mark.integration

Start = Callable[..., LiveServer]
BROWSER = {"Accept": "text/html,application/xhtml+xml"}
BOX = re.compile(r'<input type="checkbox" name="sections" value="([^"]+)"( checked)?>')


def boxes(html: str) -> list[tuple[str, bool]]:
    """The form's section boxes: (name, ticked), in order."""
    return [(name, bool(ticked)) for name, ticked in BOX.findall(html)]


def sections_of(live: LiveServer, email: str) -> tuple[str, ...]:
    live.stored()
    found = live.services.store.subscribers.by_email(email)
    assert found is not None
    return found.sections


def test_the_form_offers_every_section_ticked_and_stores_the_choice(live_server: Start) -> None:
    """With `[[sections]]`, the form lists them in order, all ticked; the boxes posted are
    kept (an unknown name dropped), all of them mean every section; the reader's preferences
    page then shows the same choice."""
    live = live_server(SECTIONS_TOML)
    http = live.client(headers=BROWSER)
    assert boxes(http.get("/subscribe").text) == [("Tech", True), ("Climat", True), ("Sport", True)]

    answers = [
        http.post(
            "/subscribe",
            data={"email": "ada@example.org", "sections": ["Sport", "Climat", "Foot"]},
        ),
        http.post(
            "/subscribe",
            data={"email": "bob@example.org", "sections": ["Tech", "Climat", "Sport"]},
        ),
    ]
    assert [answer.status_code for answer in answers] == [202, 202]
    assert sections_of(live, "ada@example.org") == ("Climat", "Sport")
    assert sections_of(live, "bob@example.org") == ()  # every section, new ones too

    ada = live.services.store.subscribers.by_email("ada@example.org")
    assert ada is not None
    token = live.services.signer.sign(UNSUBSCRIBE, ada.id, live.clock())
    shown = http.get(f"/preferences/{token}").text
    assert 'value="Climat" checked' in shown and 'value="Sport" checked' in shown
    assert 'value="Tech" checked' not in shown


def test_json_sign_ups_may_name_sections(live_server: Start) -> None:
    """The JSON API takes an optional list of section names, read as the form's boxes; no
    list is every section; anything but a list of names is a 422, nothing stored."""
    live = live_server(SECTIONS_TOML)
    http = live.client()
    posts = {
        "a@example.org": {"sections": ["Tech", "Nope"]},
        "b@example.org": {},
        "c@example.org": {"sections": []},
    }
    for email, extra in posts.items():
        assert http.post("/subscribe", json={"email": email, **extra}).status_code == 202
    assert sections_of(live, "a@example.org") == ("Tech",)
    assert () == sections_of(live, "b@example.org") == sections_of(live, "c@example.org")
    for wrong in ("Tech", [1], {"Tech": True}):
        answer = http.post("/subscribe", json={"email": "d@example.org", "sections": wrong})
        assert answer.status_code == 422
        detail = "Le champ « sections » doit être une liste de noms de rubriques."
        assert answer.json() == {"detail": detail}
    live.stored()
    assert live.services.store.subscribers.by_email("d@example.org") is None


def test_a_refused_form_keeps_the_boxes_ticked(live_server: Start) -> None:
    """A browser's form sent back with an error shows the boxes as the reader left them."""
    live = live_server(SECTIONS_TOML)
    http = live.client(headers=BROWSER)
    answer = http.post(
        "/subscribe",
        data={"email": "not an address", "sections": ["Climat"]},
    )
    assert answer.status_code == 422
    assert boxes(answer.text) == [("Tech", False), ("Climat", True), ("Sport", False)]


def test_without_sections_the_form_is_as_before(live_server: Start) -> None:
    """No section to choose: no box on the form, and a sign-up takes every section."""
    live = live_server()
    http = live.client(headers=BROWSER)
    form = http.get("/subscribe").text
    assert boxes(form) == [] and "<fieldset" not in form
    answer = http.post("/subscribe", data={"email": "eve@example.org", "sections": "Tech"})
    assert answer.status_code == 202
    assert sections_of(live, "eve@example.org") == ()
