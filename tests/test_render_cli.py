"""`issue preview` on a real database: HTML or text on stdout, screenshots on request, and
Gmail's clipping warning on stderr."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.domain.model import ArticleDraft, FeedSource
from newsletter.runtime.wiring import Services
from newsletter.store.issues import NewItem


def make_issue(services: Services, count: int, summary_words: int) -> int:
    store = services.store
    store.feeds.sync([FeedSource("maddyness", "https://www.maddyness.com/feed/", "À la une")])
    drafts = [
        ArticleDraft(
            feed_name="maddyness",
            guid=f"g{n}",
            url=f"https://www.maddyness.com/2026/11/{n}/",
            title=f"Une start-up lève {n} millions d’euros",
            summary=" ".join(["financement"] * summary_words),
            content_html="<p>x</p>",
            image_url=f"https://img.maddyness.com/{n}.jpg",
            author=None,
            published_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        )
        for n in range(count)
    ]
    store.articles.add(store.feeds.id_of("maddyness"), drafts, services.clock())
    ids = [article.id for article in store.articles.recent()]
    issue = store.issues.create(
        "MaddyNews n°{number}", [NewItem(i, "À la une") for i in ids], services.clock()
    )
    return issue.id


def preview(services: Services, *args: str) -> object:
    runner = CliRunner()
    return runner.invoke(
        cli,
        ["issue", "preview", *args, "--config", str(services.config.path)],
        catch_exceptions=False,
    )


def test_preview_prints_html_with_a_filled_unsubscribe_link(services: Services) -> None:
    """The preview is a personalised copy: no placeholder left, no clipping warning."""
    issue_id = make_issue(services, 3, 20)
    result = preview(services, str(issue_id))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<!DOCTYPE html>")
    assert "/unsubscribe/test" in result.stdout and "%%" not in result.stdout
    assert "Gmail" not in result.stderr


def test_preview_text_part(services: Services) -> None:
    """--text prints the plain-text part."""
    issue_id = make_issue(services, 3, 20)
    result = preview(services, str(issue_id), "--text")
    assert result.exit_code == 0
    assert "Lire la suite\u00a0:" in result.stdout and "<" not in result.stdout


def test_preview_warns_when_gmail_would_clip(services: Services) -> None:
    """An oversized issue prints the size warning on stderr; stdout keeps only the HTML."""
    issue_id = make_issue(services, 12, 1200)
    result = preview(services, str(issue_id))
    assert result.exit_code == 0
    [warning] = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert "Gmail clips" in warning and "unsubscribe link included" in warning
    assert "warning" not in result.stdout


def test_preview_screenshot_without_chromium_is_a_clean_error(
    services: Services, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing browser is a one-line error and exit 1, not a traceback."""
    from newsletter.cli import main

    monkeypatch.setenv("NEWSLETTER_CHROMIUM", "/nonexistent/chromium")
    issue_id = make_issue(services, 3, 20)
    out = services.config.root / "shot.png"
    html = services.config.root / "preview.html"
    argv = ["newsletter", "issue", "preview", str(issue_id), "--out", str(html)]
    argv += ["--screenshot", str(out), "--config", str(services.config.path)]
    monkeypatch.setattr("sys.argv", argv)
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 1
    stderr = capsys.readouterr().err
    assert "error: headless Chromium not found" in stderr and "Traceback" not in stderr
    assert html.exists() and not out.exists()
