"""Confirming a sign-up in a real browser (Playwright drives Debian's Chromium against the live
server): opening the emailed link shows a page with one button and confirms nothing; clicking
it posts the form (allowed by the page's Content-Security-Policy) and confirms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from newsletter.domain.readers import SubscriberStatus

from .conftest import LiveServer

pytestmark = pytest.mark.integration


def test_the_button_confirms_and_the_visit_does_not(
    live_server: Callable[..., LiveServer], browser: Any
) -> None:
    """Visit the link: French page, one accessible button, still pending. Click: confirmed,
    no CSP violation reported by the browser."""
    live = live_server()
    live.client().post("/subscribe", json={"email": "zoe@example.org"})
    path = live.confirm_link("zoe@example.org").removeprefix("https://news.example.org")
    store = live.services.store.subscribers

    page = browser.new_page(locale="fr-FR")
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(f"{live.url}{path}")
    assert page.locator("html").get_attribute("lang") == "fr"
    button = page.get_by_role("button", name="Je confirme mon inscription")
    assert button.count() == 1
    found = store.by_email("zoe@example.org")
    assert found is not None and found.status is SubscriberStatus.PENDING

    button.click()
    page.wait_for_selector("text=Inscription confirmée")

    found = store.by_email("zoe@example.org")
    assert found is not None and found.status is SubscriberStatus.ACTIVE
    assert not [line for line in console if "Content Security Policy" in line], console
