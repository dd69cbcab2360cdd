"""An issue's results as figures and rates (pure): what `issue status --json` and the desk show.

Rates are per copy sent. A rate the provider never gave the data for is None: "pas de données"
in the desk, null in JSON (whose counts stay numbers, with `"events": false`), never a
misleading zero. Opens are unreliable: mail privacy proxies open every message.
"""

from __future__ import annotations

from dataclasses import dataclass

UNSUBSCRIBE_KINDS = ("unsubscribe", "group_unsubscribe")
BOUNCE_KINDS = ("bounce", "dropped")
COMPLAINT_KINDS = ("spamreport",)


@dataclass(frozen=True)
class Rates:
    delivery: float | None
    open: float | None
    click: float | None
    unsubscribe: float | None
    complaint: float | None


@dataclass(frozen=True)
class Figures:
    sent: int
    failed: int
    opens: int
    clicks: int
    unique_clicks: int
    unsubscribed: int
    bounced: int
    complained: int
    has_events: bool  # the provider sent events for this issue
    has_clicks: bool  # clicks are tracked (our links or the provider's events)
    rates: Rates


def figures(
    *,
    sent: int,
    failed: int,
    events: dict[str, int],
    clicks: int,
    unique_clicks: int,
    unsubscribed_by_link: int,
    tracked: bool,
) -> Figures:
    """The issue's figures from the ledger (`sent`, `failed`), the recipients per provider
    event kind (`events`), the merged clicks and our links' unsubscriptions."""

    def total(kinds: tuple[str, ...]) -> int:
        return sum(events.get(kind, 0) for kind in kinds)

    has_events = bool(events)
    has_clicks = tracked or has_events or clicks > 0
    bounced = total(BOUNCE_KINDS)
    complained = total(COMPLAINT_KINDS)
    unsubscribed = total(UNSUBSCRIBE_KINDS) + unsubscribed_by_link
    opens = events.get("open", 0)

    def rate(count: int, known: bool) -> float | None:
        return round(count / sent, 4) if known and sent else None

    delivered = events.get("delivered", 0) if has_events else None
    attempted = sent + failed
    rates = Rates(
        delivery=round(delivered / attempted, 4) if delivered is not None and attempted else None,
        open=rate(opens, has_events),
        click=rate(unique_clicks, has_clicks),
        unsubscribe=rate(unsubscribed, True),
        complaint=rate(complained, has_events),
    )
    return Figures(
        sent=sent,
        failed=failed,
        opens=opens,
        clicks=clicks,
        unique_clicks=unique_clicks,
        unsubscribed=unsubscribed,
        bounced=bounced,
        complained=complained,
        has_events=has_events,
        has_clicks=has_clicks,
        rates=rates,
    )


def percent(rate: float | None) -> str:
    """A rate as the desk shows it: "12,5 %" (French), or "pas de données"."""
    if rate is None:
        return "pas de données"
    return f"{rate * 100:.1f}".replace(".", ",") + " %"
