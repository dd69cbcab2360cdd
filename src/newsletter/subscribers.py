"""Subscriber use-cases: add, import, export, list, erase. Address rules live here."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email

from newsletter.bootstrap import Services
from newsletter.errors import InvalidAddress, UsageError
from newsletter.model import Subscriber, SubscriberStatus

MAX_NAME = 200


def normalise_address(raw: str) -> str:
    """A deliverable-looking address in canonical form: lowercased, IDN domain as ASCII.

    The local part is lowercased too: providers treat it case-insensitively in practice, and
    `Zoé@x.fr` and `zoé@x.fr` must be one subscriber. Control characters are refused, so an
    address can never inject a header.
    """
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in raw):
        raise InvalidAddress("an email address cannot contain line breaks or control characters")
    candidate = raw.strip()
    if not candidate:
        raise InvalidAddress("the email address is empty")
    try:
        valid = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidAddress(f"{candidate!r} is not a valid email address: {exc}") from None
    local, _, _ = valid.normalized.rpartition("@")
    return f"{local.lower()}@{valid.ascii_domain.lower()}"


def clean_name(raw: str | None) -> str | None:
    if raw is None:
        return None
    name = " ".join(raw.split())
    if any(ord(ch) < 32 for ch in raw.replace("\t", " ").replace("\n", " ").replace("\r", " ")):
        raise InvalidAddress("a name cannot contain control characters")
    return name[:MAX_NAME] or None


def add(
    services: Services, email: str, name: str | None = None, confirmed: bool = False
) -> tuple[Subscriber, bool]:
    """Add a subscriber (active when the caller vouches for consent, else pending)."""
    address = normalise_address(email)
    if services.store.subscribers.is_suppressed(address):
        raise UsageError(f"{address} was erased at its owner's request and stays suppressed")
    status = SubscriberStatus.ACTIVE if confirmed else SubscriberStatus.PENDING
    return services.store.subscribers.add(
        address, clean_name(name), status, services.clock(), consent_source="cli"
    )


@dataclass
class ImportReport:
    added: int = 0
    already: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "added": self.added,
            "already": self.already,
            "rejected": [{"line": line, "error": error} for line, error in self.rejected],
        }


def import_csv(services: Services, rows: Iterable[str], pending: bool = False) -> ImportReport:
    """Import a CSV with a header row (`email` required, `name` optional), row by row."""
    reader = csv.DictReader(rows)
    fields = [name.strip().lower() for name in reader.fieldnames or []]
    if "email" not in fields:
        raise UsageError("the CSV needs a header row with an `email` column")
    reader.fieldnames = fields
    report = ImportReport()
    status = SubscriberStatus.PENDING if pending else SubscriberStatus.ACTIVE
    for row in reader:
        line = reader.line_num
        try:
            address = normalise_address(row.get("email") or "")
            name = clean_name(row.get("name"))
        except InvalidAddress as exc:
            report.rejected.append((line, str(exc)))
            continue
        if services.store.subscribers.is_suppressed(address):
            report.rejected.append((line, f"{address} is suppressed (erased on request)"))
            continue
        _, created = services.store.subscribers.add(
            address, name, status, services.clock(), consent_source="import"
        )
        if created:
            report.added += 1
        else:
            report.already += 1
    return report


def export_csv(services: Services) -> Iterator[str]:
    """The list as CSV lines (email, name, status), streamed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["email", "name", "status"])
    for subscriber in services.store.subscribers.iter():
        writer.writerow([subscriber.email, subscriber.name or "", subscriber.status])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def remove(services: Services, email: str) -> bool:
    """Erase the subscriber's personal data (GDPR); the address stays suppressed."""
    return services.store.subscribers.erase(normalise_address(email), services.clock())
