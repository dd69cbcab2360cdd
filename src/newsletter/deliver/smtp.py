"""A provider that relays each copy over SMTP, reusing one connection across batches.

One SMTP transaction per recipient. What an error means depends on when it happens:
- before the end of DATA (connect, MAIL, RCPT, DATA command, writing the body): the copy did
  not go; a 4xx or a lost connection defers it and the rest of the batch, a 5xx to RCPT or to
  the body fails that recipient only, a 5xx to MAIL FROM or a refused login stops the send;
- waiting for the answer to the body: the server may have queued it, so it is `uncertain`.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from newsletter.deliver.base import Sender
from newsletter.deliver.message import wire_copies
from newsletter.domain.errors import (
    AnswerLost,
    PermanentProviderError,
    ProviderError,
)
from newsletter.domain.model import BatchResult, Recipient, RenderedMessage

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
    connections_opened: int = 0
    _connection: smtplib.SMTP | None = field(default=None, repr=False)

    def send_batch(self, message: RenderedMessage, recipients: Sequence[Recipient]) -> BatchResult:
        failed: dict[int, str] = {}
        uncertain: dict[int, str] = {}
        now = datetime.now(UTC)
        for index, recipient, data in wire_copies(message, recipients, self.sender, now, failed):
            try:
                connection = self._connect()
                refusal = self._transaction(connection, recipient.email, data)
            except AnswerLost as exc:
                self._drop()
                uncertain[recipient.delivery_id] = str(exc)
                continue
            except smtplib.SMTPAuthenticationError as exc:
                self._drop()
                if index > 0:  # copies went already: report them, the next call raises
                    return _deferred(recipients[index:], failed, uncertain, str(exc))
                raise self._login_refused(exc) from None
            except (smtplib.SMTPNotSupportedError, ssl.SSLCertVerificationError) as exc:
                self._drop()
                if index > 0:
                    return _deferred(recipients[index:], failed, uncertain, str(exc))
                raise PermanentProviderError(
                    f"SMTP server {self.host}:{self.port} cannot be used as configured: {exc}",
                    provider=self.name,
                ) from None
            except smtplib.SMTPSenderRefused as exc:
                self._drop()
                reply = _reply(exc.smtp_code, exc.smtp_error)
                if 400 <= exc.smtp_code < 500 or index > 0:
                    return _deferred(recipients[index:], failed, uncertain, reply)
                raise PermanentProviderError(
                    f"{self.host} refuses the sender {self.sender.email}: {reply}",
                    provider=self.name,
                    status=exc.smtp_code,
                ) from None
            except (smtplib.SMTPException, OSError) as exc:
                self._drop()
                return _deferred(recipients[index:], failed, uncertain, f"{self.host}: {exc}")
            if refusal is not None:
                code, text = refusal
                if 400 <= code < 500:
                    return _deferred(recipients[index:], failed, uncertain, text)
                failed[recipient.delivery_id] = text
        return BatchResult(failed=failed, uncertain=uncertain)

    def check(self) -> str:
        """Connect, say EHLO, negotiate TLS and log in as configured, then hang up."""
        try:
            self._connect()
        except smtplib.SMTPAuthenticationError as exc:
            raise self._login_refused(exc) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise ProviderError(
                f"cannot use SMTP server {self.host}:{self.port}: {exc}", provider=self.name
            ) from None
        finally:
            self.close()
        return f"SMTP {self.host}:{self.port}" + (f" as {self.username}" if self.username else "")

    def _login_refused(self, exc: smtplib.SMTPAuthenticationError) -> PermanentProviderError:
        return PermanentProviderError(
            f"SMTP login refused by {self.host}: {_reply(exc.smtp_code, exc.smtp_error)} "
            "(check email.smtp.username and NEWSLETTER_SMTP_PASSWORD)",
            provider=self.name,
            status=exc.smtp_code,
        )

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._connection.quit()
            self._drop()

    def _connect(self) -> smtplib.SMTP:
        if self._connection is not None:
            return self._connection
        context = self.ssl_context or ssl.create_default_context()
        connection: smtplib.SMTP
        if self.use_ssl:
            connection = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=context
            )
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
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
        self._connection = connection
        return connection

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None

    def _transaction(
        self, connection: smtplib.SMTP, to: str, data: bytes
    ) -> tuple[int, str] | None:
        """Send one copy; None when accepted, else the (code, reply) of a refusal."""
        options = ["SMTPUTF8"] if not to.isascii() and connection.has_extn("smtputf8") else []
        code, reply = connection.mail(self.sender.email, options)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, self.sender.email)
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
        connection.send(body + b".\r\n")
        try:
            code, reply = connection.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            lost = f"{self.host}: no answer after the message was sent ({exc})"
            raise AnswerLost(lost, provider=self.name) from None
        if code != 250:
            return code, _reply(code, reply)
        return None


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
