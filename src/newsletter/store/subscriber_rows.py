"""The subscriber table's rows as domain objects, and a consent record as its columns: shared by
the subscriber repository and the desk's read models."""

from __future__ import annotations

from sqlalchemy import RowMapping

from newsletter.domain.readers import ConsentRecord, Subscriber, SubscriberStatus
from newsletter.domain.segments import segment_sections
from newsletter.store.reader_tables import subscribers
from newsletter.store.rows import from_row

CONSENT_COLUMNS = (
    subscribers.c.consent_method,
    subscribers.c.consent_at,
    subscribers.c.consent_recorded_at,
    subscribers.c.consent_source,
    subscribers.c.consent_ip,
    subscribers.c.consent_text,
    subscribers.c.consent_by,
    subscribers.c.consent_file,
)


def consent_values(consent: ConsentRecord) -> dict[str, object]:
    """The consent columns of a record (texts cut to their column's size)."""

    def cut(text: str | None, size: int) -> str | None:
        return text[:size] if text else None

    return {
        "consent_method": consent.method.value,
        "consent_recorded_at": consent.recorded_at,
        "consent_at": consent.given_at,
        "consent_source": cut(consent.source, 200),
        "consent_ip": cut(consent.ip, 64),
        "consent_text": cut(consent.text, 200),
        "consent_by": cut(consent.by, 200),
        "consent_file": cut(consent.file, 255),
    }


def to_subscriber(row: RowMapping) -> Subscriber:
    return from_row(
        Subscriber,
        row,
        status=SubscriberStatus(row["status"]),
        sections=segment_sections(row["sections"]),
    )
