"""Errors of the newsletter. Each carries what went wrong and where, in one line.

NewsletterError
├── ConfigError            bad configuration (file, key, problem): exit 2
├── UsageError             bad command-line input (unknown issue, wrong state): exit 2
├── FeedError              one feed could not be fetched or parsed (.url: the address read)
│   ├── FetchError         network, HTTP status, size or time limit (.status: HTTP status or None)
│   │   ├── FeedGone       HTTP 410: the feed was removed; paused until its URL changes
│   │   └── AddressRefused a non-public address (newsletter.collect.address_guard)
│   └── ParseError         not a feed, invalid or dangerous XML
├── RenderError            a template failed
├── InvalidAddress         an email address that cannot be mailed
├── UnsafeHeaders          a copy whose headers, as written, would not say what was meant
├── TokenError             a signed token is forged, expired or for another purpose
├── SendInterrupted        a send stopped on a signal after its batch in flight; rerun resumes
└── ProviderError          the email provider refused or failed
    ├── TransientProviderError   worth retrying (429, 5xx, timeout, reset)
    └── PermanentProviderError   not worth retrying (bad credentials, bad request)
"""

from __future__ import annotations


class NewsletterError(Exception):
    """Base of every error the newsletter raises on purpose."""


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


class FetchError(FeedError):
    def __init__(self, message: str, *, url: str | None = None, status: int | None = None) -> None:
        super().__init__(message, url=url)
        self.status = status


class FeedGone(FetchError):
    """The server says the feed is gone for good (HTTP 410): stop asking."""


class ParseError(FeedError):
    pass


class RenderError(NewsletterError):
    pass


class InvalidAddress(NewsletterError):
    """`code` names the problem so pages can say it in their own words: control, empty,
    too_long, no_at, no_local, no_domain, bad_local, bad_domain, syntax, role, disposable,
    name_lines, name_control, date."""

    def __init__(self, message: str, code: str = "syntax") -> None:
        super().__init__(message)
        self.code = code


class UnsafeHeaders(NewsletterError):
    """The copy is refused, never sent: an added header, a changed value, an overlong line."""


class TokenError(NewsletterError):
    pass


class ProviderError(NewsletterError):
    pass


class TransientProviderError(ProviderError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentProviderError(ProviderError):
    pass


class SendInterrupted(NewsletterError):
    pass
