"""Transactional emails (confirmation, welcome), sent from the outbox by a background worker.

Sign-up answers at once; the email owed is a row of the outbox written in the same transaction
(see store/outbox.py), which a worker thread sends. Each kind is rendered once with
placeholders (a marker standing for the confirmation token inside a real-looking URL, so URL
filters keep it; the name and unsubscribe placeholders of that render, spelled with its own
random nonce) and filled per recipient, so the CSS inliner does not run for every sign-up; a
template that does not keep them intact is rendered per recipient instead.

Rows are claimed under this process's worker name (deliver/workers.py). Each flush first
settles the claims of workers of this host known dead (one small query: the outbox holds only
what is owed): what they never handed to the provider is sent at once (a `newsletter run`
restarted after a kill does not wait out their lease), what they had in flight may have gone
and is never sent again, however long ago they died.
"""

from __future__ import annotations

import html
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta

from newsletter.deliver.base import Provider
from newsletter.deliver.workers import dead_local_workers, default_worker
from newsletter.domain.clock import Clock
from newsletter.domain.delivery import Placeholders, Recipient, RenderedMessage
from newsletter.domain.errors import NewsletterError, PermanentProviderError, TransientProviderError
from newsletter.domain.readers import SubscriberStatus
from newsletter.domain.tokens import CONFIRM as CONFIRM_PURPOSE
from newsletter.domain.tokens import TokenSigner
from newsletter.render.personalise import reader_name
from newsletter.store.outbox import CONFIRM, WELCOME, OutboxItem, OutboxRepository

log = logging.getLogger("newsletter.audience.outbox")

# (kind, context, placeholders): the message must leave `placeholders` where the reader's values go.
RenderEmail = Callable[[str, Mapping[str, object], Placeholders], RenderedMessage]

# Letters only: no URL filter, escaping or percent-encoding changes it.
CONFIRM_TOKEN = "ConfirmTokenPlaceholderQx"
LEASE = timedelta(minutes=5)  # a claimed row nobody finished is taken again after this
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class MailSettings:
    """What the confirmation and welcome emails say about the newsletter."""

    newsletter_name: str
    base_url: str  # the confirmation link points here
    confirm_days: int  # how long the link is valid, as the email tells


@dataclass(frozen=True)
class LatestIssue:
    """The latest sent issue, as the welcome email shows it to a new reader."""

    number: int
    subject: str
    url: str  # its web version
    stories: tuple[tuple[str, str, str], ...]  # (title, link, source) of each article


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class MailerParts:
    """The Mailer's dependencies, passed in by the wiring (runtime/audience.py)."""

    outbox: OutboxRepository
    # Looked up at each send, not once: the wiring builds the provider on first use.
    provider: Callable[[], Provider]
    render_email: RenderEmail
    signer: Callable[[], TokenSigner]  # called when a confirmation link is signed
    clock: Clock
    unsubscribe_url: Callable[[int], str]  # subscriber id -> their signed unsubscribe link
    settings: MailSettings
    # For the welcome email: the latest sent issue, else when the next one comes (a phrase).
    latest: Callable[[], LatestIssue | None] = _nothing
    next_issue: Callable[[], str | None] = _nothing


class Mailer:
    """Sends what the outbox owes. Safe to run in several processes: rows are leased."""

    def __init__(self, parts: MailerParts, worker: str | None = None) -> None:
        self.parts = parts
        self.worker = worker or default_worker()
        # By kind, whether named, and (welcome) the latest issue's number it shows.
        self._templates: dict[tuple[str, bool, int], RenderedMessage | None] = {}

    def render(
        self, kind: str, context: Mapping[str, object], placeholders: Placeholders
    ) -> RenderedMessage:
        rendered = self.parts.render_email(kind, context, placeholders)
        return replace(rendered, placeholders=placeholders)

    def flush(self, limit: int = 100) -> int:
        """Send up to `limit` due emails; how many rows were handled (sent, dropped or delayed)."""
        now = self.parts.clock()
        self._release_dead()
        items = self.parts.outbox.claim(now, LEASE, self.worker, limit)
        finished: list[int] = []
        for item in items:
            if self._send(item):
                finished.append(item.id)
        self.parts.outbox.done(finished)
        return len(items)

    def _release_dead(self) -> None:
        """Settle the claims of workers known dead."""
        outbox = self.parts.outbox
        released, dropped = outbox.release(dead_local_workers(outbox.claim_holders()))
        if released:
            log.info("%s owed emails claimed by a worker that died: sent now", len(released))
        for item in dropped:
            log.warning(
                "%s email to subscriber %s may have gone (its worker died while sending): "
                "not sent again",
                item.kind,
                item.subscriber_id,
            )

    def _send(self, item: OutboxItem) -> bool:
        """True when the row is finished with (sent, pointless or given up), False to retry."""
        if item.kind not in (CONFIRM, WELCOME):
            log.error("outbox row %s has unknown kind %r: dropped", item.id, item.kind)
            return True
        active = item.status is SubscriberStatus.ACTIVE
        if (item.kind == CONFIRM and active) or (item.kind == WELCOME and not active):
            return True  # confirmed meanwhile, or left before the welcome went
        try:
            message = self.message_for(item)
            recipient = Recipient(
                delivery_id=0,
                subscriber_id=item.subscriber_id,
                email=item.email,
                name=item.name,
                unsubscribe_url=self.parts.unsubscribe_url(item.subscriber_id),
            )
            provider = self.parts.provider()
            self.parts.outbox.in_flight(item.id)  # from here, a kill leaves it maybe sent
            result = provider.send_batch(message, [recipient])
        except TransientProviderError as exc:
            return self._later(item, f"provider unavailable: {exc}", exc.retry_after)
        except PermanentProviderError as exc:
            log.error("%s email to subscriber %s refused: %s", item.kind, item.subscriber_id, exc)
            return True
        except (NewsletterError, ImportError) as exc:
            return self._later(item, f"cannot render the {item.kind} email: {exc}", None)
        # Providers that report transient trouble per recipient instead of raising.
        if result.deferred:
            why = result.deferred_error or "deferred"
            return self._later(item, f"provider deferred it: {why}", result.retry_after)
        if result.failed:
            reason = next(iter(result.failed.values()))
            log.warning("%s email to %s refused: %s", item.kind, item.subscriber_id, reason)
        return True

    def _later(self, item: OutboxItem, why: str, retry_after: float | None) -> bool:
        if item.attempts >= MAX_ATTEMPTS:
            log.error("%s; giving up after %s attempts", why, item.attempts)
            return True
        delay = retry_after if retry_after else min(3600.0, 30.0 * 2 ** (item.attempts - 1))
        log.warning("%s; retrying in %.0f s", why, delay)
        when = self.parts.clock() + timedelta(seconds=delay)
        self.parts.outbox.retry_at(item.id, when)
        return False

    def message_for(self, item: OutboxItem) -> RenderedMessage:
        """The message for this recipient, placeholders for name and unsubscribe link left in."""
        token = ""
        if item.kind == CONFIRM:
            now = self.parts.clock()
            token = self.parts.signer().sign(CONFIRM_PURPOSE, item.subscriber_id, now)
        welcome = self._welcome() if item.kind == WELCOME else {}
        template = self._template(item.kind, bool(item.name), welcome)
        if template is None:
            placeholders = Placeholders.fresh()
            name = reader_name(item.name) or None
            context = self._context(item.kind, token, name, placeholders)
            return self.render(item.kind, {**context, **welcome}, placeholders)
        if item.kind != CONFIRM:
            return template
        return replace(
            template,
            html=template.html.replace(CONFIRM_TOKEN, html.escape(token, quote=True)),
            text=template.text.replace(CONFIRM_TOKEN, token),
        )

    def _welcome(self) -> dict[str, object]:
        """What the welcome email adds: the latest sent issue, or when the next one comes."""
        latest = self.parts.latest()
        return {"latest": latest, "next_issue": None if latest else self.parts.next_issue()}

    def _template(
        self, kind: str, has_name: bool, welcome: Mapping[str, object]
    ) -> RenderedMessage | None:
        latest = welcome.get("latest")
        key = (kind, has_name, latest.number if isinstance(latest, LatestIssue) else 0)
        if key not in self._templates:
            placeholders = Placeholders.fresh()
            name = placeholders.name if has_name else None
            context = {**self._context(kind, CONFIRM_TOKEN, name, placeholders), **welcome}
            rendered = self.render(kind, context, placeholders)
            self._templates[key] = rendered if _placeholders_intact(rendered, kind) else None
        return self._templates[key]

    def _context(
        self, kind: str, token: str, name: str | None, placeholders: Placeholders
    ) -> dict[str, object]:
        settings = self.parts.settings
        context: dict[str, object] = {
            "name": name,
            "newsletter_name": settings.newsletter_name,
            "unsubscribe_url": placeholders.unsubscribe_url,
        }
        if kind == CONFIRM:
            context["confirm_url"] = f"{settings.base_url}/confirm/{token}"
            context["confirm_days"] = settings.confirm_days
        return context


def _placeholders_intact(message: RenderedMessage, kind: str) -> bool:
    """Whether filling the placeholders into this render gives the email a direct render would."""
    if kind == CONFIRM and not (CONFIRM_TOKEN in message.html and CONFIRM_TOKEN in message.text):
        return False
    filled = " ".join((message.subject, message.html, message.text))
    for placeholder in (message.placeholders.name, message.placeholders.unsubscribe_url):
        filled = filled.replace(placeholder, "")
    return "%%" not in filled  # no placeholder left half-changed (escaped, cut, re-cased)


class OutboxWorker:
    """A daemon thread that sends owed emails as soon as it is woken, and polls now and then."""

    def __init__(
        self, mailer: Mailer, poll_seconds: float = 30.0, yield_ratio: float = 1.0
    ) -> None:
        self.mailer = mailer
        self.poll_seconds = poll_seconds
        self.yield_ratio = yield_ratio  # pause this many times the time a full batch took
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="outbox-worker", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        limit = 20
        while not self._stop.is_set():
            self._wake.clear()
            started = time.monotonic()
            try:
                handled = self.mailer.flush(limit)
            except Exception:  # the worker must outlive a bad row or a database hiccup
                log.exception("outbox worker: sending failed")
                handled = 0
            if handled < limit:
                self._wake.wait(self.poll_seconds)
            else:
                # A backlog: work at most about half the time, so that sign-ups served by the
                # same process keep answering fast; the outbox is durable, emails catch up.
                self._stop.wait(min(1.0, (time.monotonic() - started) * self.yield_ratio))
