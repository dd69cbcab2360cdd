"""Scheduling: wall-clock weekly times across DST, catch-up after downtime, one leader."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler

from newsletter.curate import issues
from newsletter.deliver.memory import MemoryProvider
from newsletter.domain.clock import FrozenClock
from newsletter.domain.errors import UsageError
from newsletter.domain.model import ArticleDraft, IssueState
from newsletter.domain.weekly import WeeklyTime
from newsletter.runtime import jobs, wiring
from newsletter.runtime.config import Config
from newsletter.runtime.scheduler import (
    DRAFT,
    SchedulerService,
    build_scheduler,
    catch_up,
    weekly_trigger,
)
from newsletter.runtime.wiring import Services
from newsletter.store import Store
from tests.conftest import write_config
from tests.delivery_helpers import add_subscribers, make_issue

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("now", "expected_utc"),
    [
        # Spring forward on Sunday 29 March 2026: 08:00 Paris is 07:00 UTC before, 06:00 after.
        (datetime(2026, 3, 28, 12, tzinfo=UTC), datetime(2026, 3, 29, 6, tzinfo=UTC)),
        (datetime(2026, 3, 22, 0, tzinfo=UTC), datetime(2026, 3, 22, 7, tzinfo=UTC)),
        # Fall back on Sunday 25 October 2026.
        (datetime(2026, 10, 24, 12, tzinfo=UTC), datetime(2026, 10, 25, 7, tzinfo=UTC)),
        (datetime(2026, 10, 18, 0, tzinfo=UTC), datetime(2026, 10, 18, 6, tzinfo=UTC)),
    ],
)
def test_weekly_draft_time_across_dst(now: datetime, expected_utc: datetime) -> None:
    """`sun 08:00` fires at 08:00 Paris time in DST weeks, and APScheduler's trigger agrees."""
    weekly = WeeklyTime.parse("sun 08:00", "Europe/Paris")
    assert weekly.next(now) == expected_utc
    assert weekly.next(now).astimezone(PARIS).hour == 8
    fire = weekly_trigger("sun 08:00", "Europe/Paris").get_next_fire_time(None, now)
    assert fire is not None
    assert fire.astimezone(UTC) == expected_utc
    assert weekly.previous(expected_utc) == expected_utc
    assert weekly.previous(expected_utc - timedelta(seconds=1)) < expected_utc - timedelta(days=6)


def test_nonexistent_local_time_moves_forward() -> None:
    """02:30 does not exist on the spring-forward Sunday: it fires at 03:30 local."""
    weekly = WeeklyTime.parse("sun 02:30", "Europe/Paris")
    fire = weekly.next(datetime(2026, 3, 28, tzinfo=UTC))
    assert fire == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def _add_articles(services: Services, n: int) -> None:
    services.store.feeds.sync(services.config.feed_sources())
    feed_id = services.store.feeds.id_of("sample")
    drafts = [
        ArticleDraft(
            "sample", f"g{i}", f"https://example.org/{i}", f"T{i}", "", "", None, None, None
        )
        for i in range(n)
    ]
    services.store.articles.add(feed_id, drafts, services.clock())


@pytest.fixture
def scheduled_services(make_config: Callable[..., Config], clock: FrozenClock) -> Services:
    config = make_config(feeds='[[feeds]]\nname = "sample"\nurl = "https://example.org/feed"\n')
    built = wiring.build(config, clock=clock)
    built.store.migrate()
    return built


def test_missed_weekly_draft_is_made_at_start_up(
    scheduled_services: Services, clock: FrozenClock
) -> None:
    """Down over Monday 08:00: the draft is made when a scheduler starts again, once."""
    services = scheduled_services
    _add_articles(services, 4)
    clock.now = datetime(2026, 11, 20, 12, tzinfo=UTC)  # a Friday
    assert catch_up(services) is False  # first start: a baseline, nothing missed
    assert services.store.issues.all() == []

    clock.now = datetime(2026, 11, 23, 6, 59, tzinfo=UTC)  # Monday 07:59 Paris
    assert catch_up(services) is False
    clock.now = datetime(2026, 11, 24, 9, tzinfo=UTC)  # Tuesday: Monday's draft was missed
    assert catch_up(services) is True
    assert [issue.number for issue, _ in services.store.issues.all()] == [1]
    assert services.store.job_runs.last_run(DRAFT) == clock.now
    assert catch_up(services) is False
    assert len(services.store.issues.all()) == 1


def _idle_scheduler(_: Services) -> BackgroundScheduler:
    return BackgroundScheduler()


def test_second_scheduler_on_sqlite_refuses(
    tmp_path: object, make_config: Callable[..., Config]
) -> None:
    """On SQLite, a second process (here a second service) refuses with a clear message."""
    config = make_config()
    if not config.database_url.startswith("sqlite"):
        pytest.skip("SQLite behaviour")
    first = wiring.build(config)
    first.store.migrate()
    second = wiring.build(config)
    one = SchedulerService(first, scheduler_factory=_idle_scheduler, retry_seconds=0.05)
    one.start()
    try:
        with pytest.raises(UsageError, match=r"already runs the scheduler.*PostgreSQL"):
            SchedulerService(second, scheduler_factory=_idle_scheduler).start()
    finally:
        one.stop()
        first.close()
        second.close()
    third = wiring.build(config)
    again = SchedulerService(third, scheduler_factory=_idle_scheduler)
    again.start()  # the lock was released
    again.stop()
    third.close()


def _wait_for(condition: Callable[[], bool], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_postgres_leader_fails_over(postgres_url: str, tmp_path: object) -> None:
    """Two schedulers on PostgreSQL: one leads; when its connection dies the other takes over."""
    import tempfile

    folder = Path(tempfile.mkdtemp())
    config = __import__("newsletter.runtime.config", fromlist=["load"]).load(
        write_config(folder, postgres_url), {"NEWSLETTER_SECRET_KEY": "k"}
    )
    services = [wiring.build(config) for _ in range(2)]
    services[0].store.migrate()
    runners = [
        SchedulerService(s, scheduler_factory=_idle_scheduler, retry_seconds=0.1) for s in services
    ]
    try:
        runners[0].start()
        assert _wait_for(lambda: runners[0].leading)
        runners[1].start()
        time.sleep(0.5)
        assert not runners[1].leading
        # The leader's process "dies": PostgreSQL drops its session and frees the lock.
        with Store.from_url(postgres_url).engine.begin() as connection:
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"
                    " AND granted AND objid = (SELECT hashtext('newsletter-scheduler:' || "
                    "current_database() || '.' || current_schema()))::oid"
                )
            )
        assert _wait_for(lambda: runners[1].leading)
        assert _wait_for(lambda: not runners[0].leading)
    finally:
        for runner in runners:
            runner.stop()
        for s in services:
            s.close()


def test_restart_after_a_missed_send_time_sends_once(
    services: Services, clock: FrozenClock
) -> None:
    """Down when an issue was due: the first dispatch after restart sends it, exactly once."""
    issue_id = make_issue(services)
    add_subscribers(services, 4)
    issues.schedule(services.store.issues, issue_id, clock() + timedelta(hours=1))
    clock.advance(hours=5)  # the process was down at send time; it comes back now
    jobs.dispatch_due(services)
    jobs.dispatch_due(services)  # a later tick, or a second restart
    provider = services.provider
    assert isinstance(provider, MemoryProvider)
    assert sorted(copy.recipient.email for copy in provider.sent) == [
        f"u{i}@example.org" for i in range(4)
    ]
    issue = services.store.issues.get(issue_id)
    assert issue is not None and issue.state is IssueState.SENT


def test_auto_send_schedules_the_draft(scheduled_services: Services) -> None:
    """digest.auto_send: the weekly draft is scheduled at once, without an editor."""
    services = scheduled_services
    config = services.config
    digest = config.settings.digest._replace(auto_send=True)
    services.config = replace(config, settings=config.settings._replace(digest=digest))
    _add_articles(services, 3)
    jobs.draft_digest(services)
    [(issue, count)] = services.store.issues.all()
    assert (issue.state, issue.send_at, count) == (IssueState.SCHEDULED, services.clock(), 3)


def test_an_advisory_lock_has_one_holder_at_a_time(postgres_url: str) -> None:
    """Two sessions want the same lock: the second is refused until the first lets go, and a
    lock whose session was killed reports itself lost."""
    store = Store.from_url(postgres_url)
    first, second = store.advisory_lock("test-lock"), store.advisory_lock("test-lock")
    other_name = store.advisory_lock("another-lock")
    try:
        assert first.try_lock() and first.check()
        assert not second.try_lock() and not second.held
        assert other_name.try_lock()
        first.unlock()
        assert not first.held and second.try_lock()
        with store.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND pid <> pg_backend_pid() AND granted"
                    " AND objid = (SELECT hashtext('test-lock:' || current_database() || '.'"
                    " || current_schema()))::oid"
                )
            ).scalar_one()  # exactly one session holds it: this test's second lock
        assert not second.check() and not second.held
    finally:
        for lock in (first, second, other_name):
            lock.unlock()
        store.close()


def test_the_scheduler_holds_each_job_once_with_its_period(services: Services) -> None:
    """collect at start-up then every collect.every_minutes, dispatch each minute, purge every
    six hours, the draft on the weekly schedule; none started before the scheduler is."""
    scheduler = build_scheduler(services)
    now = services.clock()
    scheduler.start(paused=True)  # the jobs get their first run time; none runs
    try:
        every = {
            job.id: (getattr(job.trigger, "interval", None), job.next_run_time)
            for job in scheduler.get_jobs()
        }
    finally:
        scheduler.shutdown(wait=False)
    minutes = services.config.settings.collect.every_minutes
    assert every == {
        "collect": (timedelta(minutes=minutes), now),
        "dispatch": (timedelta(minutes=1), now + timedelta(seconds=5)),
        "purge-pending": (timedelta(hours=6), now + timedelta(minutes=2)),
        DRAFT: (None, every[DRAFT][1]),
    }
    assert every[DRAFT][1] is not None and every[DRAFT][1] > now
