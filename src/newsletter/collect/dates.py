"""Dates feedparser does not read on its own: French ("jeudi 20 juin 2024 08:30") and day-first
numeric ("20/06/2024"). Pure.
"""

from __future__ import annotations

import calendar
import re
import time
from datetime import datetime

_MONTHS = {
    "janvier": 1, "janv": 1, "jan": 1, "fevrier": 2, "février": 2, "fevr": 2, "févr": 2,
    "fev": 2, "fév": 2, "mars": 3, "mar": 3, "avril": 4, "avr": 4, "mai": 5, "juin": 6,
    "juillet": 7, "juil": 7, "aout": 8, "août": 8, "aou": 8, "aoû": 8, "septembre": 9,
    "sept": 9, "sep": 9, "octobre": 10, "oct": 10, "novembre": 11, "nov": 11,
    "decembre": 12, "décembre": 12, "dec": 12, "déc": 12,
}  # fmt: skip
_FRENCH_DATE = re.compile(
    r"""^\s*(?:[a-zéû]+\.?,?\s+)?            # optional weekday: lundi, lun., ...
        (\d{1,2})(?:er)?\s+([a-zéû]+)\.?\s+(\d{4})  # 1er janvier 2024
        (?:\s*(?:à|a|,|-)?\s*(\d{1,2})\s*[:h]\s*(\d{2})(?:\s*:\s*(\d{2}))?)?  # 08:30[:00] / 08h30
        \s*(Z|UTC|GMT|CES?T|[+-]\d{2}:?\d{2})?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_NUMERIC_DATE = re.compile(
    r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2})[:h](\d{2})(?::(\d{2}))?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?\s*$",
    re.IGNORECASE,
)
_ZONES = {"Z": 0, "UTC": 0, "GMT": 0, "CET": 60, "CEST": 120}


def parse_french_date(text: str) -> time.struct_time | None:
    """A French date ("20 juin 2024", "jeu. 20 juin 2024 à 08h30 +0200") as UTC, else None."""
    match = _FRENCH_DATE.match(text)
    if not match:
        return None
    day, month_name, year, hour, minute, second, zone = match.groups()
    month = _MONTHS.get(month_name.lower().rstrip("."))
    if month is None:
        return None
    return _utc(int(year), month, int(day), hour, minute, second, zone)


def parse_numeric_date(text: str) -> time.struct_time | None:
    """A day-first numeric date, the European way ("20/06/2024 08:30"), as UTC, else None."""
    match = _NUMERIC_DATE.match(text)
    if not match:
        return None
    day, month, year, hour, minute, second, zone = match.groups()
    return _utc(int(year), int(month), int(day), hour, minute, second, zone)


def _utc(
    year: int,
    month: int,
    day: int,
    hour: str | None,
    minute: str | None,
    second: str | None,
    zone: str | None,
) -> time.struct_time | None:
    try:
        local = datetime(year, month, day, int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:
        return None
    offset = _offset_minutes(zone)
    seconds = calendar.timegm(local.timetuple()) - offset * 60
    return time.gmtime(seconds)


def _offset_minutes(zone: str | None) -> int:
    if not zone:
        return 0
    named = _ZONES.get(zone.upper())
    if named is not None:
        return named
    digits = zone.replace(":", "")
    sign = -1 if digits[0] == "-" else 1
    return sign * (int(digits[1:3]) * 60 + int(digits[3:5]))
