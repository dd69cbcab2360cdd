"""Moving a list in and out: CSV import with its consent record, CSV export, and one reader's
personal data (GDPR access)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from newsletter.audience.addresses import clean_name, normalise_address
from newsletter.audience.csvfile import (
    DEFAULT_LIMITS,
    CsvLimits,
    CsvRefused,
    CsvTable,
    live,
    read_table,
    write_rows,
)
from newsletter.audience.dependencies import Audience
from newsletter.domain.errors import InvalidAddress, NewsletterError, UsageError
from newsletter.domain.readers import ConsentMethod, ConsentRecord, Subscriber, SubscriberStatus
from newsletter.domain.segments import parse_sections_option


def load_csv(path: Path, limits: CsvLimits = DEFAULT_LIMITS) -> CsvTable:
    """A CSV file read for import (never more than the size limit, plus one byte).

    UsageError naming the file and the line when its encoding, size or shape is refused.
    """
    try:
        with path.open("rb") as handle:
            data = handle.read(limits.file_bytes + 1)
    except OSError as exc:
        raise NewsletterError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return read_table(data, limits)
    except CsvRefused as exc:
        raise UsageError(f"{path}: {exc}") from None


@dataclass(frozen=True)
class SourceCount:
    consent_source: str | None
    rows: int
    dated: int  # rows giving a consent_at


@dataclass(frozen=True)
class ImportPlan:
    """What an import records as every row's consent, shown before it is done."""

    file: str
    by: str
    pending: bool
    rows: int
    sources: list[SourceCount]

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "by": self.by,
            "pending": self.pending,
            "rows": self.rows,
            "sources": [
                {"consent_source": s.consent_source, "rows": s.rows, "consent_at_given": s.dated}
                for s in self.sources
            ],
        }


def plan_import(table: CsvTable, file: str, by: str, pending: bool) -> ImportPlan:
    """The consent record an import will write, grouped by the file's `consent_source` column."""
    rows: dict[str | None, list[int]] = {}
    for row in table.rows:
        source = _one_line(live(row.cells.get("consent_source", "")))
        counts = rows.setdefault(source, [0, 0])
        counts[0] += 1
        counts[1] += bool(row.cells.get("consent_at", "").strip())
    sources = [SourceCount(source, n, dated) for source, (n, dated) in rows.items()]
    return ImportPlan(file, by, pending, len(table.rows), sources)


@dataclass
class ImportReport:
    added: int = 0
    already: int = 0
    resubscribed: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "added": self.added,
            "already": self.already,
            "resubscribed": self.resubscribed,
            "rejected": [{"line": line, "error": error} for line, error in self.rejected],
        }


def import_csv(
    audience: Audience,
    table: CsvTable,
    *,
    file: str,
    by: str,
    pending: bool = False,
    force_resubscribe: bool = False,
) -> ImportReport:
    """Import the rows of a CSV (`email` required; `name`, `sections` ("A,B": the sections a
    new subscriber receives; empty: every section), `consent_at`, `consent_source` optional),
    row by row, each recorded as imported from `file` by `by`.

    An address that left the list (unsubscribed, bounced) is rejected unless
    `force_resubscribe`; a complained one always is: only its owner's confirmation brings it
    back. Pending rows are owed a confirmation email (sent by the outbox worker) and stay
    pending until their owner confirms.
    """
    report = ImportReport()
    status = SubscriberStatus.PENDING if pending else SubscriberStatus.ACTIVE
    zone = audience.rules.timezone
    for row in table.rows:
        now = audience.clock()
        try:
            address = normalise_address(live(row.cells.get("email", "")))
            name = clean_name(live(row.cells.get("name", "")) or None)
            sections = parse_sections_option(
                live(row.cells.get("sections", "")), audience.rules.sections
            )
            given_at = _consent_date(row.cells.get("consent_at", ""), zone, now)
            consent = ConsentRecord(
                ConsentMethod.IMPORT,
                recorded_at=now,
                given_at=given_at,
                source=_one_line(live(row.cells.get("consent_source", ""))),
                by=by,
                file=file,
            )
        except (InvalidAddress, UsageError) as exc:
            report.rejected.append((row.line, str(exc)))
            continue
        if audience.subscribers.is_suppressed(address):
            report.rejected.append((row.line, f"{address} is suppressed (erased on request)"))
            continue
        subscriber, created = audience.subscribers.add(
            address, name, status, now, consent=consent, sections=sections
        )
        if created:
            report.added += 1
            continue
        problem = _resubscribe(audience, subscriber, consent, pending, force_resubscribe)
        if problem:
            report.rejected.append((row.line, problem))
        elif subscriber.status in _LEFT:
            report.resubscribed += 1
        else:
            report.already += 1
    return report


def _one_line(raw: str) -> str | None:
    """A free text cell (consent_source) on one line, without control characters."""
    return clean_name(raw or None)


def _consent_date(raw: str, zone: ZoneInfo, now: datetime) -> datetime | None:
    """The row's `consent_at`: an ISO 8601 date or date-time, local time when it has no offset."""
    text = raw.strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidAddress(
            f"consent_at {text[:40]!r} is not an ISO 8601 date (YYYY-MM-DD or YYYY-MM-DDTHH:MM)",
            "date",
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    if parsed > now:
        raise InvalidAddress(f"consent_at {text[:40]!r} is in the future", "date")
    return parsed.astimezone(UTC)


_LEFT = (SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED)


def _resubscribe(
    audience: Audience,
    subscriber: Subscriber,
    consent: ConsentRecord,
    pending: bool,
    force: bool,
) -> str | None:
    """Bring back an address that left the list, if allowed; else why not."""
    if subscriber.status is SubscriberStatus.COMPLAINED:
        return (
            f"{subscriber.email} reported the newsletter as spam; only their own confirmation "
            "through the sign-up form can bring them back"
        )
    if subscriber.status not in _LEFT:
        return None
    if not force:
        return f"{subscriber.email} is {subscriber.status} (--force-resubscribe brings it back)"
    audience.subscribers.resubscribe(subscriber.id, consent, audience.clock(), pending=pending)
    return None


def export_csv(audience: Audience) -> Iterator[str]:
    """The list as CSV lines (email, name, status, sections), streamed; every cell inert for
    spreadsheets. `sections` is empty for readers of every section."""
    yield write_rows([["email", "name", "status", "sections"]])
    page: list[list[str]] = []
    for subscriber in audience.subscribers.iter():
        sections = ",".join(subscriber.sections)
        page.append([subscriber.email, subscriber.name or "", str(subscriber.status), sections])
        if len(page) == 1000:
            yield write_rows(page)
            page = []
    if page:
        yield write_rows(page)


def export_personal_data(audience: Audience, email: str) -> str:
    """Everything kept about one reader, consent record included (GDPR access), as CSV rows
    `field,value`: the subscriber row and their sections, then one row per issue they were
    sent and one per link they clicked."""
    address = normalise_address(email)
    data = audience.subscribers.personal_data(address)
    if data is None:
        if audience.subscribers.is_suppressed(address):
            raise UsageError(
                f"{address} was erased at its owner's request: only a hash of it is kept"
            )
        raise UsageError(f"{address} is not on the list")
    copies = data.pop("deliveries")
    clicked = data.pop("clicks")
    sections = data.pop("sections")
    data.pop("id", None)
    rows = [["field", "value"]]
    rows += [[key, _cell(value)] for key, value in data.items()]
    assert isinstance(copies, list) and isinstance(clicked, list) and isinstance(sections, list)
    rows.append(["sections", ",".join(sections) or "(toutes)"])
    for copy in copies:
        rows.append(
            [
                f"issue {copy['number']}",
                f"{copy['state']} {_cell(copy['updated_at'])}: {copy['subject']}".strip(),
            ]
        )
    for click in clicked:
        rows.append(
            [f"click issue {click['number']}", f"{_cell(click['clicked_at'])} {click['url']}"]
        )
    return write_rows(rows)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


@dataclass
class ImportPreview:
    """What an import would do to each row, decided before anything is written."""

    new: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    resubscribed: list[str] = field(default_factory=list)
    # (line, why): an `InvalidAddress` code, "suppressed", or the status that keeps it out
    rejected: list[tuple[int, str]] = field(default_factory=list)


def preview_import(
    audience: Audience, table: CsvTable, *, force_resubscribe: bool = False
) -> ImportPreview:
    """What `import_csv` would do with this table, row by row, writing nothing."""
    preview = ImportPreview()
    zone = audience.rules.timezone
    now = audience.clock()
    seen: set[str] = set()
    for row in table.rows:
        try:
            address = normalise_address(live(row.cells.get("email", "")))
            clean_name(live(row.cells.get("name", "")) or None)
            _consent_date(row.cells.get("consent_at", ""), zone, now)
        except InvalidAddress as exc:
            preview.rejected.append((row.line, exc.code))
            continue
        known = audience.subscribers.by_email(address)
        if address in seen or (known is not None and known.status not in _LEFT):
            preview.already.append(address)
        elif audience.subscribers.is_suppressed(address):
            preview.rejected.append((row.line, "suppressed"))
        elif known is None:
            preview.new.append(address)
        elif known.status is SubscriberStatus.COMPLAINED or not force_resubscribe:
            preview.rejected.append((row.line, str(known.status)))
        else:
            preview.resubscribed.append(address)
        seen.add(address)
    return preview
