"""French dates and typography for email text, without a locale database."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
WEEKDAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
NBSP = "\u00a0"

# An ordinary space before : ; ! ? » or after « lets the line break between the word and the
# sign; French typesetting glues them with a non-breaking space.
_SPACE_BEFORE_SIGN = re.compile(r"[ \t]+(?=[:;!?»])")
_SPACE_AFTER_GUILLEMET = re.compile(r"(?<=«)[ \t]+")


def format_date(moment: datetime, zone: str, language: str, weekday: bool = False) -> str:
    """`moment` as a local calendar date: `24 novembre 2026` in French, ISO otherwise."""
    local = moment.astimezone(ZoneInfo(zone)) if moment.tzinfo else moment
    if not language.lower().startswith("fr"):
        return local.strftime("%A %d %B %Y" if weekday else "%d %B %Y").lstrip("0")
    day = "1er" if local.day == 1 else str(local.day)
    text = f"{day}{NBSP}{MONTHS_FR[local.month - 1]} {local.year}"
    return f"{WEEKDAYS_FR[local.weekday()]} {text}" if weekday else text


def french_spacing(text: str) -> str:
    """Ordinary spaces before : ; ! ? » and after « made non-breaking; nothing else changes."""
    return _SPACE_AFTER_GUILLEMET.sub(NBSP, _SPACE_BEFORE_SIGN.sub(NBSP, text))
