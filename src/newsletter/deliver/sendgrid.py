"""A provider that sends each batch as ONE SendGrid v3 Mail Send request.

The issue is rendered once: the request carries a single shared subject and content holding
the placeholders (the message's own, spelled with its render's nonce), and one personalization
per recipient with its SendGrid substitutions, its own List-Unsubscribe headers and
custom_args (delivery id, issue id) that come back in events. Header text from outside (names,
subject, sender name) is `display_text`; header values are plain ASCII, never encoded. A
recipient whose headers cannot be written so fails alone and is not posted.

How answers are read:
- 202: every recipient of the request went.
- 400 naming bad addresses: those fail, the rest is posted again without them.
- 429 (Retry-After / X-RateLimit-Reset), 5xx, a connection that could not be made or broke while
  the request was being written: nothing went, the batch is deferred and retried.
- a timeout or a broken connection after the request was written: SendGrid may have accepted
  it, so the recipients are `uncertain`, never posted again automatically.
- 401/403: the API key is wrong; the send stops.
"""

from __future__ import annotations

import binascii
import html
import http.client
import json
import time
import urllib.error
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

from python_http_client.exceptions import HTTPError

from newsletter.deliver.base import Sender
from newsletter.deliver.message import ISSUE_HEADER, list_headers, unsubscribe_headers
from newsletter.domain.delivery import BatchResult, Recipient, RenderedMessage
from newsletter.domain.errors import (
    AnswerLost,
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
    UnsafeHeaders,
    WebhookRefused,
)
from newsletter.render.headers import NAME_LIMIT, display_text
from newsletter.render.personalise import reader_name, values_for

MAX_PERSONALIZATIONS = 1000
MAX_CONTENT_BYTES = 25_000_000  # SendGrid refuses requests over 30 MB; keep room for envelopes
_BAD_ADDRESS_FIELD = "personalizations."


class UnreadableKey(WebhookRefused):
    """The configured webhook public key is not an ECDSA public key the SDK can read."""


def signature_matches(public_key: str, body: bytes, signature: str, timestamp: str) -> bool:
    """Whether `signature` is the key owner's ECDSA signature of `timestamp` + `body` (SendGrid's
    signed event webhook), checked with the SDK's EventWebhook helper. UnreadableKey when the
    key cannot be read; a body that is not UTF-8 or a malformed signature does not match."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from sendgrid.helpers.eventwebhook import EventWebhook

    try:
        verifier = EventWebhook(public_key)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise UnreadableKey(str(exc)) from None
    try:
        return bool(verifier.verify_signature(body.decode("utf-8"), signature, timestamp))
    except (UnicodeDecodeError, binascii.Error, ValueError):
        return False


@dataclass
class SendgridProvider:
    sender: Sender
    api_key: str
    host: str = "https://api.sendgrid.com"
    timeout: float = 30.0
    batch_size: int = 1000
    name: str = "sendgrid"
    requests_made: int = 0
    _client: Any = field(default=None, repr=False)

    def send_batch(self, message: RenderedMessage, recipients: Sequence[Recipient]) -> BatchResult:
        if len(message.html.encode()) + len(message.text.encode()) > MAX_CONTENT_BYTES:
            raise PermanentProviderError("the rendered issue is too large for SendGrid (30 MB)")
        shared = self._shared_part(message)
        failed: dict[int, str] = {}
        uncertain: dict[int, str] = {}
        sendable = []
        for recipient in recipients:
            try:
                unsubscribe_headers(recipient, self.sender)
            except UnsafeHeaders as exc:
                failed[recipient.delivery_id] = str(exc)
                continue
            sendable.append(recipient)
        # Nobody appears twice in one request: a repeated address waits for the next request.
        groups = _without_repeats(sendable) if sendable else []
        for index, group in enumerate(groups):
            try:
                failed.update(self._post_group(shared, message, group))
            except TransientProviderError as exc:  # nothing went: deferred
                rest = [r.delivery_id for g in groups[index:] for r in g]
                return BatchResult(
                    failed=failed,
                    uncertain=uncertain,
                    deferred=tuple(rest),
                    deferred_error=str(exc),
                    retry_after=exc.retry_after,
                )
            except AnswerLost as exc:
                uncertain.update({r.delivery_id: str(exc) for r in group})
            except PermanentProviderError:
                if index == 0:
                    raise
                # Earlier requests went: report them; the next call raises again by itself.
                rest = [r.delivery_id for g in groups[index:] for r in g]
                return BatchResult(failed, uncertain, tuple(rest), "stopped by a permanent error")
        return BatchResult(failed=failed, uncertain=uncertain)

    def check(self) -> str:
        """The API key answers and may send mail (GET /v3/scopes)."""
        client = self._get_client()
        try:
            answer = client.client.scopes.get(timeout=self.timeout)
        except HTTPError as exc:
            status = int(exc.status_code)
            if status in (401, 403):
                raise self._key_refused(status) from None
            raise ProviderError(
                f"SendGrid answered HTTP {status} at {self.host}", provider=self.name, status=status
            ) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            raise ProviderError(
                f"cannot reach SendGrid at {self.host}: {exc}", provider=self.name
            ) from None
        scopes = json.loads(answer.body or b"{}").get("scopes", [])
        if "mail.send" not in scopes:
            raise PermanentProviderError("the SendGrid API key lacks the mail.send permission")
        return f"SendGrid at {self.host}: key accepted, mail.send allowed"

    def close(self) -> None:
        self._client = None

    def payload(self, message: RenderedMessage, recipients: Sequence[Recipient]) -> dict[str, Any]:
        """The Mail Send request body for one group of distinct recipients."""
        return {
            **self._shared_part(message),
            "personalizations": [self._personalization(message, r) for r in recipients],
        }

    def _shared_part(self, message: RenderedMessage) -> dict[str, Any]:
        placeholders = message.placeholders
        content = [
            {"type": kind, "value": value}
            for kind, value in (
                ("text/plain", message.text),
                # The HTML part gets the escaped name: substitutions fill both parts alike.
                ("text/html", message.html.replace(placeholders.name, placeholders.name_html)),
            )
            if value  # SendGrid refuses empty content; text/plain must come first
        ]
        try:
            headers = list_headers(message, self.sender)
        except UnsafeHeaders as exc:
            raise PermanentProviderError(f"check [sender] and [newsletter]: {exc}") from None
        shared: dict[str, Any] = {
            "from": _address(self.sender.email, display_text(self.sender.name, NAME_LIMIT)),
            "subject": display_text(message.subject) or " ",
            "content": content,
            "headers": headers,
        }
        categories = list(dict.fromkeys(message.categories))
        if message.issue_id is not None:
            categories = [f"issue-{message.issue_id}", *categories]
            headers[ISSUE_HEADER] = str(message.issue_id)
        if categories:
            shared["categories"] = ["newsletter", *categories][:10]
        return shared

    def _personalization(self, message: RenderedMessage, recipient: Recipient) -> dict[str, Any]:
        name = reader_name(recipient.name)
        placeholders = message.placeholders
        custom_args = {"delivery_id": str(recipient.delivery_id)}
        if message.issue_id is not None:
            custom_args["issue_id"] = str(message.issue_id)
        return {
            "to": [_address(recipient.email, name)],
            "substitutions": {
                **values_for(message, recipient),
                placeholders.name_html: html.escape(name, quote=True),
            },
            "headers": unsubscribe_headers(recipient, self.sender),
            "custom_args": custom_args,
        }

    def _post_group(
        self, shared: Mapping[str, Any], message: RenderedMessage, group: list[Recipient]
    ) -> dict[int, str]:
        """Post the group; retry without the addresses a 400 names. Returns those failures."""
        failed: dict[int, str] = {}
        while group:
            body = {
                **shared,
                "personalizations": [self._personalization(message, r) for r in group],
            }
            refused = self._post(body)
            if refused is None:
                return failed
            bad = _bad_recipients(refused, group)
            if not bad:
                raise PermanentProviderError(f"SendGrid refused the request: {_errors(refused)}")
            failed.update(bad)
            group = [r for r in group if r.delivery_id not in bad]
        return failed

    def _post(self, body: dict[str, Any]) -> Any:
        """Post the body; None when accepted, the decoded error body of a 400 otherwise."""
        client = self._get_client()
        self.requests_made += 1
        try:
            client.client.mail.send.post(request_body=body, timeout=self.timeout)
        except HTTPError as exc:
            return self._refusal(exc)
        except urllib.error.URLError as exc:
            # urllib wraps errors raised while connecting or writing: nothing reached SendGrid.
            raise TransientProviderError(
                f"cannot reach SendGrid at {self.host}: {exc.reason}", provider=self.name
            ) from None
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            raise AnswerLost(
                f"no answer from SendGrid after the request was sent ({type(exc).__name__}: "
                f"{exc}); events or --resend-uncertain will settle it",
                provider=self.name,
            ) from None
        return None

    def _key_refused(self, status: int) -> PermanentProviderError:
        return PermanentProviderError(
            f"SendGrid refused the API key (HTTP {status}): check SENDGRID_API_KEY",
            provider=self.name,
            status=status,
        )

    def _refusal(self, exc: HTTPError) -> Any:
        status = int(exc.status_code)
        detail = _body_text(exc.body)
        if status in (401, 403):
            raise self._key_refused(status)
        if status == 429 or status >= 500:
            kind = "rate limit" if status == 429 else "server error"
            raise TransientProviderError(
                f"SendGrid {kind} (HTTP {status}): {detail}",
                _retry_after(exc.headers),
                provider=self.name,
                status=status,
            )
        if status == 400:
            try:
                return exc.to_dict
            except ValueError:
                raise PermanentProviderError(
                    f"SendGrid refused the request: {detail}", provider=self.name, status=status
                ) from None
        raise PermanentProviderError(
            f"SendGrid refused the request (HTTP {status}): {detail}",
            provider=self.name,
            status=status,
        )

    def _get_client(self) -> Any:
        if self._client is None:
            from sendgrid import SendGridAPIClient

            self._client = SendGridAPIClient(self.api_key, host=self.host)
        return self._client


def _address(email: str, name: str) -> dict[str, str]:
    # SendGrid rejects display names holding ',' or ';' (it splits on them): soften them.
    clean = " ".join(name.replace(",", " ").replace(";", " ").split())
    return {"email": email, "name": clean} if clean else {"email": email}


def _without_repeats(recipients: Sequence[Recipient]) -> list[list[Recipient]]:
    """Split into groups of at most 1000 in which no address appears twice."""
    keys = {r.email.strip().lower() for r in recipients}
    if len(keys) == len(recipients) <= MAX_PERSONALIZATIONS:
        return [list(recipients)]  # the usual case: one request
    groups: list[list[Recipient]] = []
    seen: list[set[str]] = []
    for recipient in recipients:
        key = recipient.email.strip().lower()
        for group, emails in zip(groups, seen, strict=True):
            if key not in emails and len(group) < MAX_PERSONALIZATIONS:
                group.append(recipient)
                emails.add(key)
                break
        else:
            groups.append([recipient])
            seen.append({key})
    return groups


def _bad_recipients(refused: Any, group: list[Recipient]) -> dict[int, str]:
    """Recipients a 400 names, by `personalizations.N.to...` field or by address in the text."""
    errors = refused.get("errors", []) if isinstance(refused, dict) else []
    by_email = {r.email.lower(): r for r in group}
    bad: dict[int, str] = {}
    for error in errors:
        if not isinstance(error, dict):
            continue
        message = str(error.get("message") or "invalid recipient")
        where = str(error.get("field") or "")
        named: Recipient | None = None
        if where.startswith(_BAD_ADDRESS_FIELD):
            position = where[len(_BAD_ADDRESS_FIELD) :].partition(".")[0]
            if position.isdigit() and int(position) < len(group) and ".to" in where:
                named = group[int(position)]
        if named is None:
            named = next((r for e, r in by_email.items() if e in message.lower()), None)
        if named is not None:
            bad[named.delivery_id] = f"SendGrid: {message}"
    return bad


def _errors(refused: Any) -> str:
    errors = refused.get("errors", []) if isinstance(refused, dict) else []
    texts = [
        f"{e.get('field') or 'request'}: {e.get('message')}" for e in errors if isinstance(e, dict)
    ]
    return "; ".join(texts) or str(refused)[:300]


def _body_text(body: Any) -> str:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    return " ".join(text.split())[:300]


def _retry_after(headers: Any) -> float | None:
    """Seconds to wait from Retry-After (seconds or HTTP date) or X-RateLimit-Reset (epoch)."""
    if headers is None:
        return None
    value = headers.get("Retry-After")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
            except (TypeError, ValueError):
                pass
    reset = headers.get("X-RateLimit-Reset")
    if reset:
        try:
            return max(0.0, float(reset) - time.time())
        except ValueError:
            return None
    return None
