"""The preferences page in a real browser (Playwright drives Debian's Chromium against the live
server): a reader unticks a section, saves, and the choice is kept; the page is screenshotted
at desktop and phone widths for the test artefacts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from newsletter.domain.readers import SubscriberStatus
from newsletter.domain.tokens import UNSUBSCRIBE
from tests.readers_support import SECTIONS_TOML

from .conftest import LiveServer

pytestmark = pytest.mark.integration


def test_reader_chooses_sections_in_the_browser(
    live_server: Callable[..., LiveServer], tmp_path: Path, browser: Any
) -> None:
    """Every section ticked at first; untick "Sport", save: "Tech" and "Climat" are kept, the
    page says so, no CSP violation; the unsubscribe button is there."""
    live = live_server(extra=SECTIONS_TOML)
    store = live.services.store.subscribers
    reader, _ = store.add("lea@example.org", "Léa", SubscriberStatus.ACTIVE, live.clock())
    token = live.services.signer.sign(UNSUBSCRIBE, reader.id, live.clock())

    page = browser.new_page(locale="fr-FR", viewport={"width": 1280, "height": 800})
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(f"{live.url}/preferences/{token}")
    boxes = page.get_by_role("checkbox")
    assert boxes.count() == 3
    assert all(boxes.nth(i).is_checked() for i in range(3))
    page.screenshot(path=str(tmp_path / "preferences-1280.png"), full_page=True)
    page.get_by_role("checkbox", name="Sport").uncheck()
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_selector("text=Votre choix est enregistré")
    assert not page.get_by_role("checkbox", name="Sport").is_checked()
    assert page.get_by_role("checkbox", name="Tech").is_checked()
    assert page.get_by_role("button", name="Me désinscrire").count() == 1
    page.set_viewport_size({"width": 375, "height": 800})
    page.screenshot(path=str(tmp_path / "preferences-375.png"), full_page=True)

    found = store.by_email("lea@example.org")
    assert found is not None and found.sections == ("Climat", "Tech")
    assert not [line for line in console if "Content Security Policy" in line], console
    print(f"screenshots: {tmp_path}")
