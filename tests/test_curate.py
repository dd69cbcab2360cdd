"""Pure issue logic: draft selection, grouping by section, allowed state moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from newsletter.curate.draft import plan_draft
from newsletter.curate.states import can_move, sources_of
from newsletter.curate.stories import stories
from newsletter.domain.model import Article, IssueState

BASE = datetime(2026, 11, 20, tzinfo=UTC)


def article(n: int, section: str | None, hours: int | None) -> Article:
    return Article(
        id=n,
        feed_name="f",
        guid=str(n),
        url=f"https://example.org/{n}",
        title=f"A{n}",
        summary="",
        content_html="",
        image_url=None,
        author=None,
        published_at=BASE + timedelta(hours=hours) if hours is not None else None,
        collected_at=BASE,
        section=section,
    )


def test_draft_takes_the_best_stories_grouped_by_configured_section_order() -> None:
    """The max_articles best stories are kept (equal weights and one source each: the newest),
    grouped by section in config order, best first."""
    candidates = [
        article(1, "Tech", 1),
        article(2, "Une", 5),
        article(3, "Tech", 9),
        article(4, None, 7),
        article(5, "Une", 3),
        article(6, "Autre", 8),
        article(7, "Tech", -50),
    ]
    ranked = stories(candidates, now=BASE + timedelta(hours=10))
    plan = plan_draft(ranked, max_articles=6, min_articles=3, section_order=["Une", "Tech"])
    assert plan.reason is None
    assert [a.id for a, _ in plan.picks] == [2, 5, 3, 1, 6, 4]
    assert [s for _, s in plan.picks] == ["Une", "Une", "Tech", "Tech", "Autre", None]


def test_too_few_articles_means_no_draft() -> None:
    """Under min_articles, no issue and a reason saying why."""
    plan = plan_draft(stories([article(1, None, 1)], now=BASE), max_articles=12, min_articles=3)
    assert plan.picks == ()
    assert plan.reason is not None and "at least 3" in plan.reason


def test_undated_articles_sort_by_collection_time() -> None:
    """An entry without a date counts as collected-at for recency."""
    ranked = stories([article(1, None, None), article(2, None, 1)], now=BASE + timedelta(hours=2))
    plan = plan_draft(ranked, 12, 1)
    assert [a.id for a, _ in plan.picks] == [2, 1]


def test_state_moves() -> None:
    """Only the documented transitions are allowed."""
    assert can_move(IssueState.DRAFT, IssueState.SCHEDULED)
    assert not can_move(IssueState.SENT, IssueState.DRAFT)
    assert set(sources_of(IssueState.SENDING)) == {IssueState.DRAFT, IssueState.SCHEDULED}


def test_a_send_time_without_offset_is_read_in_the_newsletter_zone() -> None:
    """08:00 means 08:00 in Paris, winter or summer; a time with an offset is kept as given."""
    from zoneinfo import ZoneInfo

    from newsletter.curate.issues import send_time_in

    paris = ZoneInfo("Europe/Paris")
    winter = send_time_in(paris, datetime(2026, 12, 1, 8))
    summer = send_time_in(paris, datetime(2026, 7, 1, 8))
    assert winter.astimezone(UTC) == datetime(2026, 12, 1, 7, tzinfo=UTC)
    assert summer.astimezone(UTC) == datetime(2026, 7, 1, 6, tzinfo=UTC)
    given = datetime(2026, 12, 1, 8, tzinfo=UTC)
    assert send_time_in(paris, given) is given
