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

import csv
import hashlib
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email

from newsletter.bootstrap import Services
from newsletter.errors import InvalidAddress, UsageError
from newsletter.model import Subscriber, SubscriberStatus
from newsletter.store.outbox import CONFIRM
from newsletter.store.subscribers import ConfirmOutcome, SignupOutcome
from newsletter.tokens import CONFIRM as CONFIRM_PURPOSE
from newsletter.tokens import UNSUBSCRIBE

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
    """A display name on one line. `strict` (web sign-ups) refuses line breaks outright."""
    if raw is None:
        return None
    if strict and ("\r" in raw or "\n" in raw):
        raise InvalidAddress("a name cannot contain line breaks")
    name = " ".join(raw.split())
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise InvalidAddress("a name cannot contain control characters")
    return name[:MAX_NAME] or None


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
    source: str  # e.g. "web-form", "web-json", "cli", "import"
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

    TokenError when the link is forged or meant for something else.
    """
    now = services.clock()
    subscriber_id = services.signer.verify(token, UNSUBSCRIBE, now)
    return services.store.subscribers.unsubscribe(subscriber_id, now)


def purge_pending(services: Services) -> int:
    """Erase sign-ups never confirmed within `subscribe.pending_days`; how many were erased."""
    days = services.config.settings.subscribe.pending_days
    return services.store.subscribers.purge_pending(services.clock() - timedelta(days=days))


def add(
    services: Services, email: str, name: str | None = None, confirmed: bool = False
) -> tuple[Subscriber, bool]:
    """Add a subscriber (active when the caller vouches for consent, else pending)."""
    address = normalise_address(email)
    if services.store.subscribers.is_suppressed(address):
        raise UsageError(f"{address} was erased at its owner's request and stays suppressed")
    status = SubscriberStatus.ACTIVE if confirmed else SubscriberStatus.PENDING
    subscriber, created = services.store.subscribers.add(
        address, clean_name(name), status, services.clock(), consent_source="cli"
    )
    if created and not confirmed:
        services.store.outbox.enqueue(CONFIRM, subscriber.id, services.clock())
    return subscriber, created


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
    rows: Iterable[str],
    pending: bool = False,
    force_resubscribe: bool = False,
) -> ImportReport:
    """Import a CSV with a header row (`email` required, `name` optional), row by row.

    An address that left the list (unsubscribed, bounced) is rejected unless
    `force_resubscribe`; a complained one always is: only its owner's confirmation brings it
    back. Pending rows are owed a confirmation email (sent by the outbox worker).
    """
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
            address = normalise_address(_live_cell(row.get("email") or ""))
            name = clean_name(_live_cell(row.get("name") or "") or None)
        except InvalidAddress as exc:
            report.rejected.append((line, str(exc)))
            continue
        if services.store.subscribers.is_suppressed(address):
            report.rejected.append((line, f"{address} is suppressed (erased on request)"))
            continue
        subscriber, created = services.store.subscribers.add(
            address, name, status, services.clock(), consent_source="import"
        )
        if created:
            report.added += 1
            if pending:
                services.store.outbox.enqueue(CONFIRM, subscriber.id, services.clock())
            continue
        problem = _resubscribe(services, subscriber, pending, force_resubscribe)
        if problem:
            report.rejected.append((line, problem))
        elif subscriber.status in _LEFT:
            report.resubscribed += 1
        else:
            report.already += 1
    return report


_LEFT = (SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED)


def _resubscribe(
    services: Services, subscriber: Subscriber, pending: bool, force: bool
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
    if pending:
        services.store.outbox.enqueue(CONFIRM, subscriber.id, services.clock())
    else:
        services.store.subscribers.reactivate(subscriber.id, services.clock())
    return None


def export_csv(services: Services) -> Iterator[str]:
    """The list as CSV lines (email, name, status), streamed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["email", "name", "status"])
    for subscriber in services.store.subscribers.iter():
        writer.writerow(
            [_inert_cell(subscriber.email), _inert_cell(subscriber.name or ""), subscriber.status]
        )
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert_cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection): prefix with '."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _live_cell(value: str) -> str:
    """Undo `_inert_cell`, so an exported file imports back unchanged."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def remove(services: Services, email: str) -> bool:
    """Erase the subscriber's personal data (GDPR); the address stays suppressed."""
    return services.store.subscribers.erase(normalise_address(email), services.clock())
