"""SendGrid's signed event webhook: verify, read, apply.

`verify` checks the ECDSA signature SendGrid puts on every request (over the timestamp header
followed by the raw body) through newsletter.deliver.sendgrid (the SDK's one home), and refuses
timestamps more than ten minutes away from now, so a captured request cannot be replayed
later. `read_events` turns the JSON body into `ProviderEvent`s (pure). `apply_events` applies
the whole request at once, each event once, to the event log it is given: the event's
`sg_event_id` is kept, a replayed event changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from newsletter.audience.addresses import normalise_address
from newsletter.domain import untrusted_json
from newsletter.domain.clock import Clock
from newsletter.domain.delivery import EventAction, ProviderEvent
from newsletter.domain.errors import BadPayload as BadPayload  # re-exported for the web layer
from newsletter.domain.errors import InvalidAddress
from newsletter.domain.errors import WebhookRefused as WebhookRefused

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
MAX_SKEW = timedelta(minutes=10)
# Seconds since 1970 in digits: at most 11 (past the year 5000), so no arithmetic overflows.
_UNIX_TIME = re.compile(r"[0-9]{1,11}")
_LATEST_EVENT_TIME = 10**11

_ACTIONS = {
    "processed": EventAction.DELIVERED,
    "delivered": EventAction.DELIVERED,
    "spamreport": EventAction.COMPLAINED,
    "unsubscribe": EventAction.UNSUBSCRIBED,
    "group_unsubscribe": EventAction.UNSUBSCRIBED,
    "open": EventAction.COUNTED,
    "click": EventAction.COUNTED,
}

# The actions that take the address off the list.
_LEAVING_ACTIONS = {EventAction.BOUNCED, EventAction.COMPLAINED, EventAction.UNSUBSCRIBED}


def verify(
    public_key: str, body: bytes, signature: str | None, timestamp: str | None, now: datetime
) -> None:
    """Raise WebhookRefused unless the request is signed by the key's owner, and fresh."""
    # Imported here: the SDK loads only when a webhook request comes in.
    from newsletter.deliver.sendgrid import UnreadableKey, signature_matches

    if not public_key:
        raise WebhookRefused(
            "no webhook public key is configured: set email.sendgrid.webhook_public_key "
            "or SENDGRID_WEBHOOK_PUBLIC_KEY"
        )
    if not signature or not timestamp:
        raise WebhookRefused(f"the {SIGNATURE_HEADER} and {TIMESTAMP_HEADER} headers are required")
    if not _UNIX_TIME.fullmatch(timestamp):
        raise WebhookRefused(f"{TIMESTAMP_HEADER} is not a Unix time")
    sent_at = int(timestamp)
    if abs(now.timestamp() - sent_at) > MAX_SKEW.total_seconds():
        raise WebhookRefused("the request's timestamp is more than ten minutes away from now")
    try:
        valid = signature_matches(public_key, body, signature, timestamp)
    except UnreadableKey as exc:
        raise WebhookRefused(f"the configured webhook public key cannot be read: {exc}") from None
    if not valid:
        raise WebhookRefused("the signature does not match the request")


def read_events(body: bytes) -> list[ProviderEvent]:
    """The events of a webhook body (a JSON list of objects)."""
    try:
        raw = untrusted_json.parse(body)
    except untrusted_json.UnreadableJson as exc:
        raise BadPayload(f"the body is not usable JSON: {exc}") from None
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise BadPayload("the body must be a JSON list of event objects")
    return [to_event(item) for item in raw]


def to_event(raw: dict[str, Any]) -> ProviderEvent:
    """One SendGrid event, reduced to what it asks of the newsletter. BadPayload when its
    timestamp is not a Unix time."""
    stamp = raw.get("timestamp")
    if stamp is not None and not _is_unix_time(stamp):
        raise BadPayload(f"an event's timestamp is not a Unix time: {str(stamp)[:20]}")
    kind = str(raw.get("event") or "unknown")
    action = _ACTIONS.get(kind, EventAction.IGNORED)
    reason = _text(raw.get("reason")) or _text(raw.get("response"))
    if kind == "bounce":
        # "blocked" (and SendGrid's soft classifications) is temporary: the address is fine.
        hard = str(raw.get("type") or "bounce") == "bounce"
        action = EventAction.BOUNCED if hard else EventAction.IGNORED
    elif kind == "dropped":
        # Dropped because SendGrid itself suppresses the address: mirror its reason.
        why = (reason or "").lower()
        if "unsubscribe" in why:
            action = EventAction.UNSUBSCRIBED
        elif "spam" in why:
            action = EventAction.COMPLAINED
        else:
            action = EventAction.BOUNCED
    return ProviderEvent(
        event_id=_text(raw.get("sg_event_id")) or _fingerprint(raw),
        kind=kind,
        action=action,
        # Read (an address check costs more than the rest of the event) only where it is used:
        # to find the subscriber an event takes off the list.
        email=_address(raw.get("email")) if action in _LEAVING_ACTIONS else None,
        delivery_id=_positive_int(raw.get("delivery_id")),
        issue_id=_positive_int(raw.get("issue_id")),
        reason=reason,
        url=_text(raw.get("url")) if kind == "click" else None,
    )


@dataclass
class EventReport:
    applied: int = 0
    duplicates: int = 0

    def to_json(self) -> dict[str, int]:
        return {"applied": self.applied, "duplicates": self.duplicates}


class EventLog(Protocol):
    """What applying events needs of the event repository."""

    def apply_all(self, events: Sequence[ProviderEvent], now: datetime) -> int: ...


def apply_events(log: EventLog, clock: Clock, events: list[ProviderEvent]) -> EventReport:
    """Apply the request's events at once, each once; replays are counted, not applied."""
    applied = log.apply_all(events, clock())
    return EventReport(applied=applied, duplicates=len(events) - applied)


def _is_unix_time(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return 0 <= value < _LATEST_EVENT_TIME


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text[:1000] or None


def _positive_int(value: object) -> int | None:
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number if 0 < number < 2**31 else None


def _address(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return normalise_address(value)
    except InvalidAddress:
        return None


def _fingerprint(raw: dict[str, Any]) -> str:
    """An id for an event that carries none: the same event gives the same id."""
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()
