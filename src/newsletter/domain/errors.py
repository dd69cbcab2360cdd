"""Errors of the newsletter. Each carries what went wrong and where, in one line.

Every error class of the package is below (tests/test_errors.py checks it), with the module
defining those that live outside this one and the context each carries as attributes. The
message users see (the CLI's one line, `collect --json`'s "error") is `str(error)`: the problem
followed by the context it does not already mention, e.g.
`HTTP 503 Service Unavailable (https://example.org/feed)`.

NewsletterError
├── ConfigError            bad configuration: exit 2 (.path: the file, .key: the dotted key)
├── UsageError             bad command-line input (unknown issue, wrong state): exit 2
│   └── CsvRefused         audience/csvfile.py: a CSV file that cannot be imported
├── FeedError              one feed could not be fetched or parsed (.url: the address read)
│   ├── FetchError         network, HTTP status, size or time limit (.status: HTTP status or None)
│   │   ├── FeedGone       HTTP 410: the feed was removed; paused until its URL changes
│   │   └── AddressRefused collect/address_guard.py: a non-public address, refused
│   └── ParseError         not a feed, invalid or dangerous XML
├── RenderError            a template failed
├── InvalidAddress         an email address that cannot be mailed (.address)
├── UnsafeHeaders          a copy whose headers, as written, would not say what was meant
│                          (.recipient: the address it was for, when known)
├── TokenError             a signed token is forged, expired or for another purpose
├── UnreadableJson         domain/untrusted_json.py: a request body that is not usable JSON
│                          (also a ValueError, as `json.loads` failures are)
├── SendInterrupted        a send stopped on a signal after its batch in flight; rerun resumes
│   └── ClaimLost          a copy about to go was taken back by another run (its claim outlived
│                          the lease): this run stops, the other one sends it
├── WebhookRefused         a webhook request not provably from the provider, or too old (403)
│   └── UnreadableKey      deliver/sendgrid.py: the configured webhook public key is unusable
├── BadPayload             a signed webhook body that is not a JSON list of events (400)
├── AdminsOnly             web/desk/requests.py: an editor asked for what only admins may do
│                          (403; also a FastAPI HTTPException)
└── ProviderError          the email provider refused or failed
                           (.provider: its name, .status: HTTP status or SMTP reply code,
                           .recipient: the address concerned; each when known)
    ├── TransientProviderError   worth retrying (429, 5xx, timeout, reset; .retry_after)
    ├── PermanentProviderError   not worth retrying (bad credentials, bad request)
    └── AnswerLost               the request went out but no answer came: it may have been
                                 accepted, so its recipients are `uncertain`, never resent
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypedDict, Unpack


def with_context(message: str, context: Iterable[str | None]) -> str:
    """`message`, then in parentheses each piece of `context` it does not already mention."""
    lowered = message.lower()
    missing = [part for part in context if part and part.lower() not in lowered]
    return f"{message} ({', '.join(missing)})" if missing else message


class NewsletterError(Exception):
    """Base of every error the newsletter raises on purpose.

    `message` is the problem alone; `str()` adds the context (`context()`) it does not mention.
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def context(self) -> list[str | None]:
        """The structured context, as the words `str()` adds to the message."""
        return []

    def __str__(self) -> str:
        return with_context(self.message, self.context())


class ConfigError(NewsletterError):
    def __init__(self, path: str, key: str, problem: str) -> None:
        self.path, self.key, self.problem = path, key, problem
        where = f"{path}: {key}" if key else path
        super().__init__(f"{where}: {problem}")


class UsageError(NewsletterError):
    pass


class FeedError(NewsletterError):
    """The message says what went wrong; `url` says where, once the fetch or parse that failed
    knows it (the low-level readers raise without it and their caller fills it in)."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url

    def context(self) -> list[str | None]:
        return [self.url[:300] if self.url else None]


class FetchError(FeedError):
    def __init__(self, message: str, *, url: str | None = None, status: int | None = None) -> None:
        super().__init__(message, url=url)
        self.status = status

    def context(self) -> list[str | None]:
        return [f"HTTP {self.status}" if self.status else None, *super().context()]


class FeedGone(FetchError):
    """The server says the feed is gone for good (HTTP 410): stop asking."""


class ParseError(FeedError):
    pass


class RenderError(NewsletterError):
    pass


class InvalidAddress(NewsletterError):
    """`code` names the problem so pages can say it in their own words: control, empty,
    too_long, no_at, no_local, no_domain, bad_local, non_ascii_local, bad_domain, syntax, role,
    disposable, name_lines, name_control, date."""

    def __init__(self, message: str, code: str = "syntax", *, address: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.address = address

    def context(self) -> list[str | None]:
        return [repr(self.address) if self.address is not None else None]


class UnsafeHeaders(NewsletterError):
    """The copy is refused, never sent: an added header, a changed value, an overlong line."""

    def __init__(self, message: str, *, recipient: str | None = None) -> None:
        super().__init__(message)
        self.recipient = recipient

    def context(self) -> list[str | None]:
        return [self.recipient]


class TokenError(NewsletterError):
    pass


class ProviderContext(TypedDict, total=False):
    """What a provider error may know: the provider's name, the HTTP status or SMTP reply code,
    the recipient concerned."""

    provider: str | None
    status: int | None
    recipient: str | None


class ProviderError(NewsletterError):
    def __init__(self, message: str, **context: Unpack[ProviderContext]) -> None:
        super().__init__(message)
        self.provider = context.get("provider")
        self.status = context.get("status")
        self.recipient = context.get("recipient")

    def context(self) -> list[str | None]:
        status = None if self.status is None else str(self.status)
        return [self.provider, status, self.recipient]


class TransientProviderError(ProviderError):
    def __init__(
        self, message: str, retry_after: float | None = None, **context: Unpack[ProviderContext]
    ) -> None:
        super().__init__(message, **context)
        self.retry_after = retry_after


class PermanentProviderError(ProviderError):
    pass


class AnswerLost(ProviderError):
    """The request was written but no answer came back: the provider may have accepted it."""


class SendInterrupted(NewsletterError):
    pass


class ClaimLost(SendInterrupted):
    pass


class WebhookRefused(NewsletterError):
    """A webhook request that is not provably from the provider, or too old (403)."""


class BadPayload(NewsletterError):
    """A signed request whose body is not a JSON list of events (400)."""
