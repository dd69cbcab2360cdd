"""The list's growth: active subscribers at the end of each week, drawn as an inline SVG. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from html import escape
from zoneinfo import ZoneInfo


def weeks(now: datetime, zone: str, count: int) -> list[tuple[date, datetime]]:
    """The last `count` weeks (Monday to Monday in `zone`), oldest first: each week's first
    day and the moment it ended (`now` for the current week)."""
    tz = ZoneInfo(zone)
    monday = now.astimezone(tz).date() - timedelta(days=now.astimezone(tz).weekday())
    found: list[tuple[date, datetime]] = []
    for back in range(count - 1, 0, -1):
        start = monday - timedelta(weeks=back)
        found.append((start, datetime.combine(start + timedelta(weeks=1), time(0), tz)))
    if count > 0:
        found.append((monday, now))
    return found


def growth_svg(points: Sequence[tuple[date, int]], width: int = 640, height: int = 200) -> str:
    """A line chart of (week, active subscribers); every label is escaped."""
    if not points:
        return ""
    left, right, top, bottom = 48, 16, 16, 32
    inner_w, inner_h = width - left - right, height - top - bottom
    highest = max(max(value for _, value in points), 1)
    step = inner_w / max(len(points) - 1, 1)

    def x(i: int) -> float:
        return left + i * step

    def y(value: int) -> float:
        return top + inner_h - value * inner_h / highest

    coords = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, (_, v) in enumerate(points))
    area = f"{x(0):.1f},{top + inner_h} {coords} {x(len(points) - 1):.1f},{top + inner_h}"
    first, last = points[0], points[-1]
    summary = (
        f"Abonnés actifs par semaine, de {first[1]} (semaine du {_day(first[0])}) "
        f"à {last[1]} (semaine du {_day(last[0])})."
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(summary)}" class="growth">',
        f"<title>{escape(summary)}</title>",
        f'<line x1="{left}" y1="{top + inner_h}" x2="{width - right}" y2="{top + inner_h}" '
        'stroke="#c9ced6" stroke-width="1"/>',
        f'<line x1="{left}" y1="{top}" x2="{width - right}" y2="{top}" '
        'stroke="#eef0f3" stroke-width="1"/>',
        f'<text x="{left - 8}" y="{top + 4}" text-anchor="end" font-size="11" '
        f'fill="#5b6470">{highest}</text>',
        f'<text x="{left - 8}" y="{top + inner_h + 4}" text-anchor="end" font-size="11" '
        'fill="#5b6470">0</text>',
        f'<polygon points="{area}" fill="#c8102e" fill-opacity="0.08"/>',
        f'<polyline points="{coords}" fill="none" stroke="#c8102e" stroke-width="2" '
        'stroke-linejoin="round"/>',
    ]
    for i, (day, value) in enumerate(points):
        parts.append(
            f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="3" fill="#c8102e">'
            f"<title>{escape(_day(day))} : {value}</title></circle>"
        )
    for i in sorted({0, len(points) // 2, len(points) - 1}):
        parts.append(
            f'<text x="{x(i):.1f}" y="{height - 10}" text-anchor="middle" font-size="11" '
            f'fill="#5b6470">{escape(_day(points[i][0]))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _day(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}"
