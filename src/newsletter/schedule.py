"""The scheduler: the only module that imports APScheduler. It ticks jobs; it decides nothing."""

from __future__ import annotations

from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from newsletter import jobs
from newsletter.bootstrap import Services
from newsletter.config import WEEKDAYS


def weekly_trigger(schedule: str, timezone: str) -> CronTrigger:
    """`mon 08:00` in the newsletter's time zone (wall-clock time, so DST changes are honoured)."""
    day, _, clock_time = schedule.partition(" ")
    hour, _, minute = clock_time.strip().partition(":")
    if day not in WEEKDAYS:
        raise ValueError(f"unknown weekday {day!r}")
    return CronTrigger(day_of_week=day, hour=int(hour), minute=int(minute), timezone=timezone)


def build_scheduler(services: Services) -> BackgroundScheduler:
    """A scheduler with the collect, draft and dispatch jobs; not started."""
    settings = services.config.settings
    scheduler = BackgroundScheduler(
        timezone=settings.newsletter.timezone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    now = services.clock()
    scheduler.add_job(
        jobs.collect_feeds,
        IntervalTrigger(minutes=settings.collect.every_minutes),
        args=[services],
        id="collect",
        next_run_time=now,  # collect at start-up too
    )
    scheduler.add_job(
        jobs.draft_digest,
        weekly_trigger(settings.digest.schedule, settings.newsletter.timezone),
        args=[services],
        id="draft",
    )
    scheduler.add_job(
        jobs.dispatch_due,
        IntervalTrigger(minutes=1),
        args=[services],
        id="dispatch",
        next_run_time=now + timedelta(seconds=5),
    )
    return scheduler
