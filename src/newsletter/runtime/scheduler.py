"""The scheduler: the only module that imports APScheduler. It ticks jobs; it decides nothing.

One process at a time runs the jobs (see `leader`). `SchedulerService` waits for the lock,
starts APScheduler when it has it, catches up a weekly draft missed while nobody was running,
and stops the jobs if the lock is ever lost.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from newsletter.domain.errors import UsageError
from newsletter.domain.weekly import WEEKDAYS, WeeklyTime
from newsletter.runtime import jobs
from newsletter.runtime.leader import FileLeaderLock, LeaderLock, lock_for, sqlite_busy_message
from newsletter.runtime.wiring import Services

log = logging.getLogger("newsletter.runtime.scheduler")

DRAFT = "draft"


def weekly_trigger(schedule: str, timezone: str) -> CronTrigger:
    """`mon 08:00` in the newsletter's time zone (wall-clock time, so DST changes are honoured)."""
    weekly = WeeklyTime.parse(schedule, timezone)
    return CronTrigger(
        day_of_week=WEEKDAYS[weekly.weekday],
        hour=weekly.at.hour,
        minute=weekly.at.minute,
        timezone=timezone,
    )


def draft_and_record(services: Services) -> None:
    """The weekly draft, remembered in the database so a restart knows it ran."""
    jobs.draft_digest(services)
    services.store.job_runs.record(DRAFT, services.clock())


def catch_up(services: Services) -> bool:
    """Make the weekly draft now if its last due time passed while no scheduler ran.

    The first start of a deployment records a baseline instead: nothing was missed yet.
    """
    settings = services.config.settings
    weekly = WeeklyTime.parse(settings.digest.schedule, settings.newsletter.timezone)
    now = services.clock()
    last_run = services.store.job_runs.last_run(DRAFT)
    if last_run is None:
        services.store.job_runs.record(DRAFT, now)
        return False
    due = weekly.previous(now)
    if last_run >= due:
        return False
    log.info("the weekly draft due at %s was missed: drafting now", due.isoformat())
    draft_and_record(services)
    return True


def build_scheduler(services: Services) -> BackgroundScheduler:
    """A scheduler with the collect, draft, dispatch and purge jobs; not started.

    Jobs never overlap themselves (max_instances=1) and a run missed while the process was
    busy or asleep is made once, not once per missed tick (coalesce)."""
    settings = services.config.settings
    scheduler = BackgroundScheduler(
        timezone=settings.newsletter.timezone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    now = services.clock()
    periodic = [  # id, job, every, first run after start-up (collect at once)
        ("collect", jobs.collect_feeds, timedelta(minutes=settings.collect.every_minutes), 0),
        ("dispatch", jobs.dispatch_due, timedelta(minutes=1), 5),
        ("purge-pending", jobs.purge_pending, timedelta(hours=6), 120),
    ]
    for job_id, job, every, after_seconds in periodic:
        scheduler.add_job(
            job,
            IntervalTrigger(seconds=every.total_seconds()),
            args=[services],
            id=job_id,
            next_run_time=now + timedelta(seconds=after_seconds),
        )
    scheduler.add_job(
        draft_and_record,
        weekly_trigger(settings.digest.schedule, settings.newsletter.timezone),
        args=[services],
        id=DRAFT,
    )
    return scheduler


class SchedulerService:
    """Runs the jobs while this process holds the leader lock; waits for it otherwise."""

    def __init__(
        self,
        services: Services,
        lock: LeaderLock | None = None,
        retry_seconds: float = 5.0,
        scheduler_factory: Callable[[Services], BackgroundScheduler] = build_scheduler,
    ) -> None:
        self.services = services
        self.lock = lock or lock_for(services.store)
        self.retry_seconds = retry_seconds
        self.scheduler_factory = scheduler_factory
        self.scheduler: BackgroundScheduler | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def leading(self) -> bool:
        return self.scheduler is not None

    def start(self) -> None:
        """Start leading or waiting. On SQLite a second scheduler is refused outright."""
        if isinstance(self.lock, FileLeaderLock) and not self.lock.try_acquire():
            raise UsageError(sqlite_busy_message(self.lock))
        self._thread = threading.Thread(target=self._loop, name="scheduler-leader", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            if self.scheduler is None:
                if self.lock.try_acquire():
                    self._lead()
            elif not self.lock.still_held():
                log.warning("lost the scheduler lock: stopping the jobs")
                self._step_down()
            self._stop.wait(self.retry_seconds)

    def _lead(self) -> None:
        log.info("this process now runs the scheduler")
        try:
            catch_up(self.services)
        except Exception:  # a failed catch-up must not keep the scheduler from running
            log.exception("catching up the weekly draft failed")
        self.scheduler = self.scheduler_factory(self.services)
        self.scheduler.start()

    def _step_down(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None

    def stop(self, wait: bool = True) -> None:
        """Stop the jobs (letting one in flight finish when `wait`) and release the lock."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=wait)
            self.scheduler = None
        self.lock.release()
