"""Subscriber use-cases: sign-up with double opt-in, confirm, unsubscribe, purge, add, import,
export, erase. Address rules live here.

Standing of an address and what a new sign-up does:
- new: pending, a confirmation email is owed; confirming makes it active (+ a welcome email);
- pending, unsubscribed, bounced, complained: a fresh confirmation email (at most one per
  `subscribe.resend_minutes`); the status changes only when the person follows the link, so a
  complained or unsubscribed address is never reactivated without its owner's explicit click;
- erased (only a hash is kept): treated like a new address — a new sign-up is a new, explicit
  request, and the suppression is lifted only when its owner confirms from the mailbox;
- active: nothing happens.
The answer to the requester is the same in every case, so the form reveals nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email

from newsletter.audience.csvfile import (
    DEFAULT_LIMITS,
    CsvLimits,
    CsvRefused,
    CsvTable,
    live,
    read_table,
    write_rows,
)
from newsletter.domain.errors import InvalidAddress, NewsletterError, TokenError, UsageError
from newsletter.domain.model import ConsentMethod, ConsentRecord, Subscriber, SubscriberStatus
from newsletter.domain.tokens import CONFIRM as CONFIRM_PURPOSE
from newsletter.domain.tokens import UNSUBSCRIBE
from newsletter.render.headers import display_text
from newsletter.runtime.wiring import Services
from newsletter.store.subscribers import ConfirmOutcome, SignupOutcome

MAX_NAME = 200
MAX_ADDRESS = 320

# Local parts that name a function rather than a person: lists are not for them.
ROLE_LOCAL_PARTS = frozenset(
    """abuse admin administrator billing compliance contact devnull dns ftp hostmaster info
    mailer-daemon marketing no-reply noc noreply null office postmaster privacy root sales
    security spam support sysadmin team usenet uucp webmaster www""".split()  # noqa: SIM905
)

# Throw-away mailbox services (extended by `subscribe.disposable_domains`).
DISPOSABLE_DOMAINS = frozenset(
    """10minutemail.com 20minutemail.com discard.email dispostable.com emailondeck.com
    fakeinbox.com getnada.com guerrillamail.com guerrillamail.net guerrillamailblock.com
    jetable.org mailcatch.com maildrop.cc mailinator.com mailnesia.com mintemail.com
    mohmal.com sharklasers.com spamgourmet.com temp-mail.org tempail.com tempmail.com
    tempr.email throwawaymail.com trashmail.com trashmail.de yopmail.com yopmail.fr
    yopmail.net""".split()  # noqa: SIM905
)


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
    if len(candidate) > MAX_ADDRESS:
        raise InvalidAddress(f"an email address has at most {MAX_ADDRESS} characters")
    try:
        valid = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidAddress(f"{candidate!r} is not a valid email address: {exc}") from None
    local, _, _ = valid.normalized.rpartition("@")
    return f"{local.lower()}@{valid.ascii_domain.lower()}"


def clean_name(raw: str | None, strict: bool = False) -> str | None:
    """A display name on one line, stored as every email shows it (`headers.display_text`:
    no bidi controls, no encoded-word syntax). `strict` (web sign-ups) refuses line breaks."""
    if raw is None:
        return None
    if strict and ("\r" in raw or "\n" in raw):
        raise InvalidAddress("a name cannot contain line breaks")
    name = " ".join(raw.split())
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise InvalidAddress("a name cannot contain control characters")
    return display_text(name, MAX_NAME) or None


def check_policy(services: Services, address: str) -> None:
    """Refuse role or disposable addresses when the configuration says so."""
    rules = services.config.settings.subscribe
    local, _, domain = address.rpartition("@")
    if rules.refuse_role_addresses and local.lower() in ROLE_LOCAL_PARTS:
        raise InvalidAddress(
            f"{local}@ is a shared role address; please subscribe with a personal address"
        )
    if rules.refuse_disposable:
        disposable = DISPOSABLE_DOMAINS | set(rules.disposable_domains)
        labels = domain.split(".")
        if any(".".join(labels[i:]) in disposable for i in range(len(labels) - 1)):
            raise InvalidAddress(f"{domain} is a disposable mailbox service")


@dataclass(frozen=True)
class Consent:
    """Where a sign-up came from: recorded with it, as proof of consent."""

    ip: str | None
    source: str  # the form: "web-form", "web-json"
    text: str  # the version of the consent text the person saw


def consent_version(language: str, text: str) -> str:
    """A short label naming exactly the consent text shown: changes whenever the text does."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return f"{language}:{digest}"


def request_subscription(
    services: Services, email: str, name: str | None, consent: Consent
) -> SignupOutcome:
    """A sign-up from the public form: validated, then one write, whatever the address's standing.

    Raises InvalidAddress for an address or name the form must refuse. The outcome is for logs
    and tests only: the requester must get the same answer whatever it is.
    """
    address = normalise_address(email)
    check_policy(services, address)
    cleaned = clean_name(name, strict=True)
    now = services.clock()
    resend = timedelta(minutes=services.config.settings.subscribe.resend_minutes)
    return services.store.subscribers.request(
        address,
        cleaned,
        now,
        resend_before=now - resend,
        consent_ip=consent.ip,
        consent_source=consent.source,
        consent_text=consent.text,
    )


def check_confirm_token(services: Services, token: str) -> tuple[int, datetime]:
    """The subscriber id and issue time of a confirmation token. TokenError when forged,
    expired or meant for something else."""
    max_age = timedelta(days=services.config.settings.subscribe.confirm_days)
    return services.signer.verify_issued(token, CONFIRM_PURPOSE, services.clock(), max_age)


def confirm(services: Services, token: str) -> ConfirmOutcome:
    """Confirm a sign-up (the button of the confirmation page). TokenError as above."""
    subscriber_id, issued_at = check_confirm_token(services, token)
    return services.store.subscribers.confirm(subscriber_id, issued_at, services.clock())


def unsubscribe(services: Services, token: str) -> bool:
    """Follow an unsubscribe link (never expires). True if the status changed; idempotent.

    TokenError when the link is forged, meant for something else, or its subscriber was
    erased: ids are never given again, so the link can only mean that nobody is left to act on.
    """
    return services.store.subscribers.unsubscribe(
        check_unsubscribe_token(services, token), services.clock()
    )


def check_unsubscribe_token(services: Services, token: str) -> int:
    """The subscriber id of an unsubscribe link. TokenError as for `unsubscribe`."""
    subscriber_id = services.signer.verify(token, UNSUBSCRIBE, services.clock())
    if services.store.subscribers.get(subscriber_id) is None:
        raise TokenError("this link belongs to an address that is no longer on the list")
    return subscriber_id


def purge_pending(services: Services) -> int:
    """Erase sign-ups never confirmed within `subscribe.pending_days`; how many were erased."""
    days = services.config.settings.subscribe.pending_days
    return services.store.subscribers.purge_pending(services.clock() - timedelta(days=days))


def add(
    services: Services,
    email: str,
    name: str | None = None,
    confirmed: bool = False,
    *,
    by: str = "cli",
    source: str = "cli",
) -> tuple[Subscriber, bool]:
    """An editor adds a subscriber: active when they vouch for consent, else pending (and owed a
    confirmation email). `by` (the editor, or the OS user) and `source` (desk, cli) are kept as
    the consent record of a new subscriber."""
    address = normalise_address(email)
    if services.store.subscribers.is_suppressed(address):
        raise UsageError(f"{address} was erased at its owner's request and stays suppressed")
    status = SubscriberStatus.ACTIVE if confirmed else SubscriberStatus.PENDING
    now = services.clock()
    consent = ConsentRecord(ConsentMethod.EDITOR, recorded_at=now, source=source, by=by)
    return services.store.subscribers.add(address, clean_name(name), status, now, consent=consent)


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
    services: Services,
    table: CsvTable,
    *,
    file: str,
    by: str,
    pending: bool = False,
    force_resubscribe: bool = False,
) -> ImportReport:
    """Import the rows of a CSV (`email` required; `name`, `consent_at`, `consent_source`
    optional), row by row, each recorded as imported from `file` by `by`.

    An address that left the list (unsubscribed, bounced) is rejected unless
    `force_resubscribe`; a complained one always is: only its owner's confirmation brings it
    back. Pending rows are owed a confirmation email (sent by the outbox worker) and stay
    pending until their owner confirms.
    """
    report = ImportReport()
    status = SubscriberStatus.PENDING if pending else SubscriberStatus.ACTIVE
    zone = ZoneInfo(services.config.settings.newsletter.timezone)
    for row in table.rows:
        now = services.clock()
        try:
            address = normalise_address(live(row.cells.get("email", "")))
            name = clean_name(live(row.cells.get("name", "")) or None)
            given_at = _consent_date(row.cells.get("consent_at", ""), zone, now)
            consent = ConsentRecord(
                ConsentMethod.IMPORT,
                recorded_at=now,
                given_at=given_at,
                source=_one_line(live(row.cells.get("consent_source", ""))),
                by=by,
                file=file,
            )
        except InvalidAddress as exc:
            report.rejected.append((row.line, str(exc)))
            continue
        if services.store.subscribers.is_suppressed(address):
            report.rejected.append((row.line, f"{address} is suppressed (erased on request)"))
            continue
        subscriber, created = services.store.subscribers.add(
            address, name, status, now, consent=consent
        )
        if created:
            report.added += 1
            continue
        problem = _resubscribe(services, subscriber, consent, pending, force_resubscribe)
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
            f"consent_at {text[:40]!r} is not an ISO 8601 date (YYYY-MM-DD or YYYY-MM-DDTHH:MM)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    if parsed > now:
        raise InvalidAddress(f"consent_at {text[:40]!r} is in the future")
    return parsed.astimezone(UTC)


_LEFT = (SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED)


def _resubscribe(
    services: Services,
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
    services.store.subscribers.resubscribe(
        subscriber.id, consent, services.clock(), pending=pending
    )
    return None


def export_csv(services: Services) -> Iterator[str]:
    """The list as CSV lines (email, name, status), streamed; every cell inert for spreadsheets."""
    yield write_rows([["email", "name", "status"]])
    page: list[list[str]] = []
    for subscriber in services.store.subscribers.iter():
        page.append([subscriber.email, subscriber.name or "", str(subscriber.status)])
        if len(page) == 1000:
            yield write_rows(page)
            page = []
    if page:
        yield write_rows(page)


def export_personal_data(services: Services, email: str) -> str:
    """Everything kept about one reader, consent record included (GDPR access), as CSV rows
    `field,value`: the subscriber row, then one row per issue they were sent."""
    address = normalise_address(email)
    data = services.store.subscribers.personal_data(address)
    if data is None:
        if services.store.subscribers.is_suppressed(address):
            raise UsageError(
                f"{address} was erased at its owner's request: only a hash of it is kept"
            )
        raise UsageError(f"{address} is not on the list")
    copies = data.pop("deliveries")
    data.pop("id", None)
    rows = [["field", "value"]]
    rows += [[key, _cell(value)] for key, value in data.items()]
    assert isinstance(copies, list)
    for copy in copies:
        rows.append(
            [
                f"issue {copy['number']}",
                f"{copy['state']} {_cell(copy['updated_at'])}: {copy['subject']}".strip(),
            ]
        )
    return write_rows(rows)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def remove(services: Services, email: str) -> bool:
    """Erase the subscriber's personal data (GDPR); the address stays suppressed."""
    return services.store.subscribers.erase(normalise_address(email), services.clock())
