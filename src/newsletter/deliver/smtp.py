"""A provider that relays each copy over SMTP, over `connections` parallel connections, each
reused across copies and batches.

A batch is shared out between the connections (one thread each, the copies made from one
template: deliver/copies.py); a reused connection the server closed meanwhile is opened again
before the copy is started; a refused recipient is followed by RSET on the same connection.
One SMTP transaction per recipient. What an error means depends on when it happens:
- before the end of DATA (connect, MAIL, RCPT, DATA command, writing the body): the copy did
  not go; a 4xx or a lost connection defers it and the rest of the batch, a 5xx to RCPT or to
  the body fails that recipient only, a 5xx to MAIL FROM or a refused login stops the send;
- waiting for the answer to the body: the server may have queued it, so it is `uncertain`.
Each copy is noted in the send loop's journal as its body goes and as its reply is read, so a
process killed mid-batch leaves only the copies then in flight uncertain (one per connection).
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import ssl
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime

from newsletter.deliver.base import Journal, Sender
from newsletter.deliver.copies import CopyTemplate, template_for, wire_copies
from newsletter.domain.delivery import BatchResult, Recipient, RenderedMessage
from newsletter.domain.errors import (
    AnswerLost,
    ClaimLost,
    PermanentProviderError,
    ProviderError,
)

_LEADING_DOT = re.compile(rb"(?m)^\.")


@dataclass
class SmtpProvider:
    sender: Sender
    host: str
    port: int
    starttls: bool = False
    use_ssl: bool = False
    username: str = ""
    password: str = ""
    timeout: float = 30.0
    batch_size: int = 100
    ssl_context: ssl.SSLContext | None = None
    name: str = "smtp"
    connections: int = 1  # parallel connections, each reused
    connections_opened: int = 0
    _slots: dict[int, smtplib.SMTP] = field(default_factory=dict, repr=False)
    _template: CopyTemplate | None = field(default=None, repr=False)
    _pool: ThreadPoolExecutor | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # One caller at a time owns the connections (the send loop and the outbox share a provider).
    _busy: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def send_batch(self, message: RenderedMessage, recipients: Sequence[Recipient]) -> BatchResult:
        return self.send_journaled(message, recipients, _NO_JOURNAL)

    def send_journaled(
        self, message: RenderedMessage, recipients: Sequence[Recipient], journal: Journal
    ) -> BatchResult:
        """The batch shared out between the connections, each share sent on its own, each
        copy noted in `journal` as its body goes and as its reply is read."""
        with self._busy:
            return self._send_batch(message, recipients, journal)

    def _send_batch(
        self, message: RenderedMessage, recipients: Sequence[Recipient], journal: Journal
    ) -> BatchResult:
        template = self._template = template_for(self._template, message, self.sender)
        now = datetime.now(UTC)
        shares = _shares(recipients, self.connections)
        if len(shares) <= 1:
            return self._send_share(0, template, recipients, now, journal)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.connections, thread_name_prefix="smtp")
        futures = [
            self._pool.submit(self._send_share, slot, template, share, now, journal)
            for slot, share in enumerate(shares)
        ]
        wait(futures)
        return _joined(shares, futures)

    def _send_share(
        self,
        slot: int,
        template: CopyTemplate,
        recipients: Sequence[Recipient],
        now: datetime,
        journal: Journal,
    ) -> BatchResult:
        """Send `recipients` one by one over connection `slot`."""
        failed: dict[int, str] = {}
        uncertain: dict[int, str] = {}
        for index, recipient, data in wire_copies(template, recipients, now, failed):
            try:
                refusal = self._transaction(slot, recipient, data, journal)
            except AnswerLost as exc:
                self._drop(slot)
                uncertain[recipient.delivery_id] = str(exc)
                continue
            except smtplib.SMTPAuthenticationError as exc:
                self._drop(slot)
                if index > 0:  # copies went already: report them, the next call raises
                    return _deferred(recipients[index:], failed, uncertain, str(exc))
                raise self._login_refused(exc) from None
            except (smtplib.SMTPNotSupportedError, ssl.SSLCertVerificationError) as exc:
                self._drop(slot)
                if index > 0:
                    return _deferred(recipients[index:], failed, uncertain, str(exc))
                raise PermanentProviderError(
                    f"SMTP server {self.host}:{self.port} cannot be used as configured: {exc}",
                    provider=self.name,
                ) from None
            except smtplib.SMTPSenderRefused as exc:
                self._drop(slot)
                reply = _reply(exc.smtp_code, exc.smtp_error)
                if 400 <= exc.smtp_code < 500 or index > 0:
                    return _deferred(recipients[index:], failed, uncertain, reply)
                raise PermanentProviderError(
                    f"{self.host} refuses the sender {self.sender.email}: {reply}",
                    provider=self.name,
                    status=exc.smtp_code,
                ) from None
            except (smtplib.SMTPException, OSError) as exc:
                self._drop(slot)
                return _deferred(recipients[index:], failed, uncertain, f"{self.host}: {exc}")
            if refusal is not None:
                code, text = refusal
                if 400 <= code < 500:
                    return _deferred(recipients[index:], failed, uncertain, text)
                failed[recipient.delivery_id] = text
        return BatchResult(failed=failed, uncertain=uncertain)

    def check(self) -> str:
        """Connect, say EHLO, negotiate TLS and log in as configured, then hang up."""
        with self._busy:
            return self._check()

    def _check(self) -> str:
        try:
            self._connect(0)
        except smtplib.SMTPAuthenticationError as exc:
            raise self._login_refused(exc) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise ProviderError(
                f"cannot use SMTP server {self.host}:{self.port}: {exc}", provider=self.name
            ) from None
        finally:
            self._close()
        return f"SMTP {self.host}:{self.port}" + (f" as {self.username}" if self.username else "")

    def _login_refused(self, exc: smtplib.SMTPAuthenticationError) -> PermanentProviderError:
        return PermanentProviderError(
            f"SMTP login refused by {self.host}: {_reply(exc.smtp_code, exc.smtp_error)} "
            "(check email.smtp.username and NEWSLETTER_SMTP_PASSWORD)",
            provider=self.name,
            status=exc.smtp_code,
        )

    def close(self) -> None:
        with self._busy:
            self._close()

    def _close(self) -> None:
        for slot, connection in list(self._slots.items()):
            with contextlib.suppress(smtplib.SMTPException, OSError):
                connection.quit()
            self._drop(slot)
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def _connect(self, slot: int) -> smtplib.SMTP:
        """Connection `slot`, opened (EHLO, STARTTLS, login) unless it is open already."""
        if slot in self._slots:
            return self._slots[slot]
        context = self.ssl_context or ssl.create_default_context()
        connection: smtplib.SMTP
        if self.use_ssl:
            connection = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=context
            )
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with self._lock:
            self.connections_opened += 1
        try:
            connection.ehlo()
            if self.starttls:
                connection.starttls(context=context)
                connection.ehlo()
            if self.username:
                connection.login(self.username, self.password)
        except BaseException:
            connection.close()
            raise
        self._slots[slot] = connection
        return connection

    def _drop(self, slot: int) -> None:
        connection = self._slots.pop(slot, None)
        if connection is not None:
            connection.close()

    def _mail(self, slot: int, to: str) -> smtplib.SMTP:
        """Connection `slot` with a transaction started (MAIL FROM accepted).

        A reused connection that the server closed since its last copy (it answers 421 or not
        at all) is opened again once: nothing of this copy went yet.
        """
        reused = slot in self._slots
        connection = self._connect(slot)
        try:
            code, reply = connection.mail(self.sender.email, _options(connection, to))
        except (smtplib.SMTPServerDisconnected, ConnectionError):
            if not reused:
                raise
            code, reply = 421, b"closed"
        if code == 421 and reused:
            self._drop(slot)
            connection = self._connect(slot)
            code, reply = connection.mail(self.sender.email, _options(connection, to))
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, self.sender.email)
        return connection

    def _transaction(
        self, slot: int, recipient: Recipient, data: bytes, journal: Journal
    ) -> tuple[int, str] | None:
        """Send one copy; None when accepted, else the (code, reply) of a refusal."""
        to = recipient.email
        connection = self._mail(slot, to)
        code, reply = connection.rcpt(to)
        if code not in (250, 251):
            connection.rset()
            return code, _reply(code, reply)
        code, reply = connection.docmd("DATA")
        if code != 354:
            connection.rset()
            return code, _reply(code, reply)
        body = _LEADING_DOT.sub(b"..", data)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        try:
            journal.transmitting(recipient.delivery_id)
        except ClaimLost:
            self._drop(slot)  # mid-DATA: the server discards the copy with the connection
            raise
        connection.send(body + b".\r\n")
        try:
            code, reply = connection.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            lost = f"{self.host}: no answer after the message was sent ({exc})"
            raise AnswerLost(lost, provider=self.name) from None
        journal.answered(recipient.delivery_id, accepted=code == 250)
        if code != 250:
            return code, _reply(code, reply)
        return None


class _NoJournal:
    """For copies no ledger follows (the transactional outbox's)."""

    def transmitting(self, delivery_id: int) -> None:
        pass

    def answered(self, delivery_id: int, accepted: bool) -> None:
        pass


_NO_JOURNAL = _NoJournal()


def _options(connection: smtplib.SMTP, to: str) -> list[str]:
    return ["SMTPUTF8"] if not to.isascii() and connection.has_extn("smtputf8") else []


def _shares(recipients: Sequence[Recipient], connections: int) -> list[Sequence[Recipient]]:
    """`recipients` cut into at most `connections` runs of nearly equal length."""
    size = -(-len(recipients) // max(1, connections))
    return [recipients[start : start + size] for start in range(0, len(recipients), size or 1)]


def _joined(shares: list[Sequence[Recipient]], futures: list[Future[BatchResult]]) -> BatchResult:
    """One answer for the batch from each connection's.

    A share whose first copy met a refusal that stops the send (a refused login) raised it:
    if another share sent or settled copies they are reported, and the refused share is
    deferred (the next call raises); else the refusal is raised.
    """
    answered: list[tuple[Sequence[Recipient], BatchResult]] = []
    refusals: list[tuple[Sequence[Recipient], PermanentProviderError]] = []
    for share, future in zip(shares, futures, strict=True):
        error = future.exception()
        if isinstance(error, PermanentProviderError):
            refusals.append((share, error))
        elif error is not None:
            raise error
        else:
            answered.append((share, future.result()))
    results = [result for _, result in answered]
    settled = any(
        result.failed or result.uncertain or len(result.deferred) < len(share)
        for share, result in answered
    )
    if refusals and not settled:
        raise refusals[0][1]
    deferred = [r.deferred for r in results] + [
        tuple(r.delivery_id for r in share) for share, _ in refusals
    ]
    errors = [r.deferred_error for r in results if r.deferred_error]
    errors += [str(error) for _, error in refusals]
    waits = [r.retry_after for r in results if r.retry_after is not None]
    return BatchResult(
        failed={k: v for r in results for k, v in r.failed.items()},
        uncertain={k: v for r in results for k, v in r.uncertain.items()},
        deferred=tuple(d for ids in deferred for d in ids),
        deferred_error=errors[0] if errors else "",
        retry_after=max(waits) if waits else None,
    )


def _deferred(
    rest: Sequence[Recipient], failed: dict[int, str], uncertain: dict[int, str], error: str
) -> BatchResult:
    return BatchResult(
        failed=failed,
        uncertain=uncertain,
        deferred=tuple(r.delivery_id for r in rest),
        deferred_error=error,
    )


def _reply(code: int, text: bytes | str) -> str:
    decoded = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(decoded.split())}"
