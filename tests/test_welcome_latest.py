"""The welcome email carries the latest sent issue's stories, or says when the next one comes."""

from __future__ import annotations

from pathlib import Path

from newsletter.domain.readers import ConsentMethod, ConsentRecord, SubscriberStatus
from newsletter.runtime.audience import outbox_mailer
from newsletter.runtime.wiring import Services
from tests.readers_support import memory, readers, sent_issue

__all__ = ["readers"]


def _welcome_of(services: Services, email: str) -> tuple[str, str]:
    now = services.clock()
    consent = ConsentRecord(ConsentMethod.SIGN_UP, recorded_at=now, source="web-form")
    subscriber, _ = services.store.subscribers.add(
        email, "Léa", SubscriberStatus.PENDING, now, consent=consent
    )
    services.store.subscribers.confirm(subscriber.id, now, now)
    mailer = outbox_mailer(services)
    assert mailer.flush() >= 1
    welcome = [c for c in memory(services).to(email) if "Bienvenue" in c.copy.subject]
    assert len(welcome) == 1, [c.copy.subject for c in memory(services).to(email)]
    return welcome[0].copy.html, welcome[0].copy.text


def test_welcome_carries_the_latest_issue(readers: Services) -> None:
    """A reader who confirms after an issue went gets its stories and its web version."""
    issue_id = sent_issue(readers, 1)
    html, text = _welcome_of(readers, "lea@example.org")
    for part in (html, text):
        assert "Un logiciel libre lève 3 M€" in part and "Le carbone capturé à Lyon" in part
        assert f"https://news.example.org/archive/{issue_id}" in part
        assert "https://example.org/tech?utm_source=newsletter" in part.replace("&amp;", "&")
    assert "n°1" in text and "Le prochain numéro" not in text
    assert "/c/" not in html + text  # no click token: the reader was not in that issue's ledger


def test_welcome_says_when_the_next_issue_comes(readers: Services) -> None:
    """With nothing sent yet, the welcome says when the first issue comes (schedule)."""
    html, text = _welcome_of(readers, "lea@example.org")
    assert "Le prochain numéro arrive le lundi 30\u00a0novembre 2026" in text
    assert "lundi 30\u00a0novembre 2026" in html


def test_welcome_with_latest_issue_screenshot(readers: Services, tmp_path: Path) -> None:
    """The welcome email with the latest issue, screenshotted at phone and desktop widths for
    the test artefacts (looked at before calling it done)."""
    import shutil

    import pytest

    if shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed")
    from newsletter.render.screenshot import screenshot_html

    sent_issue(readers, 1)
    html, _ = _welcome_of(readers, "lea@example.org")
    paths = screenshot_html(html, tmp_path / "welcome.png")
    assert paths and all(path.stat().st_size > 0 for path in paths)
    print(f"screenshots: {paths}")
