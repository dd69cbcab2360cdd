"""A weekly wall-clock time such as `mon 08:00` in a time zone. Pure.

Wall-clock: 08:00 in Paris stays 08:00 local across DST changes (07:00 UTC in winter, 06:00 UTC
in summer). A time that does not exist on the day of a spring change (02:30) is moved forward by
the gap, as clocks do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class WeeklyTime:
    weekday: int  # 0 = Monday
    at: time
    zone: ZoneInfo

    @classmethod
    def parse(cls, schedule: str, timezone: str) -> WeeklyTime:
        day, _, clock = schedule.strip().lower().partition(" ")
        hour, _, minute = clock.strip().partition(":")
        return cls(WEEKDAYS.index(day), time(int(hour), int(minute)), ZoneInfo(timezone))

    def on(self, day: date) -> datetime:
        """This week's occurrence on `day`, as an aware UTC datetime."""
        local = datetime.combine(day, self.at, tzinfo=self.zone)
        # Round-trip through UTC normalises a non-existent local time (spring gap) forward.
        return local.astimezone(UTC)

    def previous(self, now: datetime) -> datetime:
        """The latest occurrence at or before `now`."""
        today = now.astimezone(self.zone).date()
        for back in range(8):
            day = today - timedelta(days=back)
            if day.weekday() == self.weekday and self.on(day) <= now:
                return self.on(day)
        raise AssertionError("a weekly time occurs within eight days")

    def next(self, now: datetime) -> datetime:
        """The first occurrence strictly after `now`."""
        today = now.astimezone(self.zone).date()
        for ahead in range(8):
            day = today + timedelta(days=ahead)
            if day.weekday() == self.weekday and self.on(day) > now:
                return self.on(day)
        raise AssertionError("a weekly time occurs within eight days")
