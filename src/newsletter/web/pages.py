"""The one Jinja2 environment of every web page (public pages, desk, archive): autoescaped,
strict about undefined names, French dates. `create_app` builds it once; handlers reach it
through the app's state."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2

from newsletter.domain.links import http_url
from newsletter.domain.model import Issue
from newsletter.render.subject import fill_subject
from newsletter.render.typography import MONTHS_FR, WEEKDAYS_FR

TEMPLATES = Path(__file__).parent / "templates"


def environment(timezone: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,  # every page shows feed text: escape everything, always
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # the templates ship with the package: no file check per page
    )
    zone = ZoneInfo(timezone)

    def when(moment: datetime | None, with_time: bool = True) -> str:
        """`lun. 23 nov. 2026, 08:00` in the newsletter's time zone."""
        if moment is None:
            return "—"
        local = moment.astimezone(zone)
        day = f"{WEEKDAYS_FR[local.weekday()][:3]}. {local.day} {MONTHS_FR[local.month - 1]} "
        text = f"{day}{local.year}"
        return f"{text}, {local:%H:%M}" if with_time else text

    def thousands(value: int) -> str:
        return f"{value:,}".replace(",", "\u202f")

    def web_address(url: str | None) -> bool:
        """Only http(s) URLs from feeds become links in a page."""
        return http_url(url) is not None

    def subject(issue: Issue) -> str:
        """The subject as sent: an unsent issue shows the number it would get."""
        return fill_subject(issue.subject, number=issue.number)

    env.tests["web_address"] = web_address
    env.filters["subject"] = subject
    env.filters["when"] = when
    env.filters["thousands"] = thousands
    env.globals["timezone"] = timezone
    return env
