"""The store on a real database: migrations, feeds, articles, issues, subscribers, ledger."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from newsletter.domain.clock import FrozenClock
from newsletter.domain.delivery import DeliveryState
from newsletter.domain.model import ArticleDraft, FeedSource, IssueState
from newsletter.domain.readers import SubscriberStatus
from newsletter.store import Store
from newsletter.store.issues import NewItem


def _draft(n: int, url: str | None = None) -> ArticleDraft:
    return ArticleDraft(
        feed_name="f",
        guid=f"g{n}",
        url=url or f"https://example.org/{n}",
        title=f"Article {n}",
        summary="résumé",
        content_html="<p>x</p>",
        image_url=None,
        author=None,
        published_at=None,
        categories=("a", "b"),
    )


def test_migrate_is_idempotent(store: Store) -> None:
    """Running the migrations again on an up-to-date database changes nothing."""
    store.migrate()
    assert store.is_current()
    assert store.ping()


def test_articles_dedupe_on_guid_and_url(store: Store, clock: FrozenClock) -> None:
    """The same guid in a feed, or a canonical URL another feed stored, is stored once; a
    feed's own items sharing a URL under distinct guids stay apart, linked by their anchor."""
    store.feeds.sync(
        [FeedSource("f", "https://example.org/feed"), FeedSource("o", "https://other.org/f")]
    )
    feed_id = store.feeds.id_of("f")
    assert store.articles.add(feed_id, [_draft(1), _draft(2)], clock()) == 2
    assert store.articles.add(feed_id, [_draft(1)], clock()) == 0
    other = [_draft(5, url="https://example.org/2"), _draft(6, url="https://example.org/1")]
    assert store.articles.add(store.feeds.id_of("o"), other, clock()) == 0
    same_page = replace(_draft(3, url="https://example.org/2"), anchor="2026-02-11")
    assert store.articles.add(feed_id, [same_page], clock()) == 1
    assert store.articles.add(feed_id, [same_page], clock()) == 0
    assert store.articles.count() == 3
    assert store.articles.recent()[0].categories == ("a", "b")
    urls = sorted(a.url for a in store.articles.recent())
    assert urls == [
        "https://example.org/1",
        "https://example.org/2",
        "https://example.org/2#2026-02-11",
    ]


def test_issue_create_and_transition(store: Store, clock: FrozenClock) -> None:
    """An issue shows the number it would get; transitions are compare-and-set."""
    store.feeds.sync([FeedSource("f", "https://example.org/feed")])
    store.articles.add(store.feeds.id_of("f"), [_draft(1), _draft(2)], clock())
    ids = [a.id for a in store.articles.recent()]
    issue = store.issues.create("N°{number}", [NewItem(i) for i in ids], clock())
    assert (issue.number, issue.numbered, issue.subject, issue.state) == (
        1,
        False,
        "N°{number}",
        IssueState.DRAFT,
    )
    assert [item.article.id for item in issue.items] == ids
    assert store.articles.unused(10) == []
    moved = store.issues.transition(
        issue.id, [IssueState.DRAFT], IssueState.SCHEDULED, send_at=clock()
    )
    assert moved
    assert not store.issues.transition(issue.id, [IssueState.DRAFT], IssueState.SCHEDULED)
    assert store.issues.due(clock.now - timedelta(minutes=1)) == []
    assert store.issues.due(clock()) == [issue.id]


def test_ledger_freezes_audience_and_skips_leavers(store: Store, clock: FrozenClock) -> None:
    """Starting a send freezes one row per active subscriber; a leaver is skipped."""
    store.feeds.sync([FeedSource("f", "https://example.org/feed")])
    store.articles.add(store.feeds.id_of("f"), [_draft(1)], clock())
    issue = store.issues.create("S", [NewItem(store.articles.recent()[0].id)], clock())
    subs = [
        store.subscribers.add(f"u{i}@example.org", None, SubscriberStatus.ACTIVE, clock())[0]
        for i in range(5)
    ]
    store.subscribers.add("p@example.org", None, SubscriberStatus.PENDING, clock())
    assert store.deliveries.start(issue.id, clock())
    assert not store.deliveries.start(issue.id, clock())
    store.subscribers.add("late@example.org", None, SubscriberStatus.ACTIVE, clock())
    assert store.deliveries.status(issue.id, IssueState.SENDING).total == 5

    store.subscribers.set_status(subs[0].id, SubscriberStatus.UNSUBSCRIBED, clock())
    batch = store.deliveries.claim(issue.id, 3, "w1", clock())
    assert [c.email for c in batch] == ["u1@example.org", "u2@example.org"]
    store.deliveries.finish([batch[0].id], {batch[1].id: "refused"}, clock())
    clock.advance(seconds=10)
    second = store.deliveries.claim(issue.id, 3, "w1", clock())
    assert len(second) == 2
    # The process dies here: a later run finds them sending and marks them uncertain.
    clock.advance(seconds=10)
    assert store.deliveries.recover(issue.id, clock(), clock()) == 2
    counts = store.deliveries.counts(issue.id)
    assert counts[DeliveryState.SKIPPED] == 1
    assert counts[DeliveryState.SENT] == 1
    assert counts[DeliveryState.FAILED] == 1
    assert counts[DeliveryState.UNCERTAIN] == 2
    assert store.deliveries.requeue_uncertain(issue.id, clock()) == 2
    assert store.deliveries.pending_due(issue.id, clock()) == clock()


def test_erase_keeps_only_a_hash(store: Store, clock: FrozenClock) -> None:
    """Erasing removes the row and suppresses the address by hash."""
    store.subscribers.add("Erase.Me@example.org", "Zoé", SubscriberStatus.ACTIVE, clock())
    assert store.subscribers.erase("Erase.Me@example.org", clock())
    assert store.subscribers.by_email("Erase.Me@example.org") is None
    assert store.subscribers.is_suppressed("erase.me@example.org")


def test_migrations_build_exactly_the_tables(database_url: str) -> None:
    """Upgrading from nothing to head gives the schema the table modules declare (no drift)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from newsletter.store.schema import metadata

    fresh = Store.from_url(database_url)
    fresh.migrate()
    with fresh.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        diff = [
            change
            for change in compare_metadata(context, metadata)
            if not (isinstance(change, list) and change and change[0][0] == "modify_default")
        ]
    fresh.close()
    assert diff == []


def test_head_constant_matches_the_newest_migration(store: Store) -> None:
    """migrate.HEAD (used by the fast is-current check) is the newest migration file."""
    from newsletter.store import migrate

    assert migrate.head_revision() == migrate.HEAD
    assert migrate.current_revision(store.engine) == migrate.HEAD
