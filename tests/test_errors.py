"""The error tree: every exception class of the package is a NewsletterError, drawn where it sits
in the docstring of newsletter.domain.errors; and each error's message carries its context."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import newsletter
from newsletter.domain import errors
from newsletter.domain.errors import (
    ConfigError,
    FeedGone,
    FetchError,
    InvalidAddress,
    NewsletterError,
    ParseError,
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
    UnsafeHeaders,
    with_context,
)

# Classes that must also inherit from a library exception, and why. They are still below
# NewsletterError; the tree draws them under their NewsletterError parent.
ALSO_LIBRARY: dict[str, str] = {
    "UnreadableJson": "a ValueError too, as every failure of `json.loads` is",
    "AdminsOnly": "an HTTPException too: a route without its handler still answers 403",
}

_TREE_LINE = re.compile(r"^(?P<indent>[│ ]*)(?:[├└]── )?(?P<name>[A-Z]\w+)(?:\s|$)")


def drawn_tree(docstring: str) -> dict[str, str | None]:
    """Class name -> the name of its parent as drawn (None for the root), from a box-drawing
    tree such as the one in newsletter.domain.errors (pure)."""
    lines = docstring.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "NewsletterError")
    parents: dict[str, str | None] = {"NewsletterError": None}
    path: list[str] = ["NewsletterError"]
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        found = _TREE_LINE.match(line)
        if found is None or "── " not in line:
            continue  # a continuation line of the description above
        depth = len(found.group("indent")) // 4 + 1
        path = [*path[:depth], found.group("name")]
        parents[found.group("name")] = path[depth - 1]
    return parents


def exception_classes() -> dict[str, type[BaseException]]:
    """Every exception class defined in a module of the package (imported here to find them)."""
    found: dict[str, type[BaseException]] = {}
    for module_info in pkgutil.walk_packages(newsletter.__path__, "newsletter."):
        if module_info.name.endswith("__main__") or ".migrations." in module_info.name:
            continue
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == module.__name__
            ):
                found[name] = value
    return found


def newsletter_parent(cls: type[BaseException]) -> str:
    return next(base.__name__ for base in cls.__bases__ if issubclass(base, NewsletterError))


def test_every_exception_class_is_a_newsletter_error() -> None:
    """No class under src/newsletter raises outside the tree (a library base comes second)."""
    classes = exception_classes()
    assert {"NewsletterError", "FetchError", "AddressRefused", "UnreadableKey"} <= set(classes)
    outside = sorted(name for name, cls in classes.items() if not issubclass(cls, NewsletterError))
    assert outside == []
    with_library = sorted(
        name
        for name, cls in classes.items()
        if any(not issubclass(base, NewsletterError) for base in cls.__bases__)
        and name != "NewsletterError"
    )
    assert with_library == sorted(ALSO_LIBRARY)


def test_the_docstring_draws_every_class_under_its_real_parent() -> None:
    """The tree in the docstring is the class hierarchy: same classes, same parents."""
    drawn = drawn_tree(errors.__doc__ or "")
    actual = {
        name: (None if cls is NewsletterError else newsletter_parent(cls))
        for name, cls in exception_classes().items()
    }
    assert actual == drawn


def test_the_tree_reader_sees_nesting_and_misplacements() -> None:
    """The reader is not vacuous: a class drawn under the wrong parent reads as such."""
    doc = """Errors.

NewsletterError
├── FeedError      a feed
│   ├── FetchError the network
│   │              (a continuation line)
│   │   └── FeedGone  410
│   └── ParseError bad XML
└── ProviderError  the provider
    └── AnswerLost lost
"""
    expected = {
        "NewsletterError": None,
        "FeedError": "NewsletterError",
        "FetchError": "FeedError",
        "FeedGone": "FetchError",
        "ParseError": "FeedError",
        "ProviderError": "NewsletterError",
        "AnswerLost": "ProviderError",
    }
    assert expected == drawn_tree(doc)


def test_context_is_added_once() -> None:
    """What the message already says is not repeated; the rest follows in parentheses."""
    assert (
        with_context("HTTP 503", ["HTTP 503", "https://x.example/f"])
        == "HTTP 503 (https://x.example/f)"
    )
    assert with_context("SendGrid refused", ["sendgrid", "401", None]) == "SendGrid refused (401)"
    assert with_context("ok", []) == "ok"


def test_fetch_and_parse_errors_name_the_url_and_status() -> None:
    """A URL filled in after raising (as the fetcher does) shows in the message."""
    error = FetchError("Service Unavailable", status=503)
    error.url = "https://example.org/feed"
    gone = FeedGone("HTTP 410 Gone", url="https://example.org/old", status=410)
    parse = ParseError("invalid XML", url="https://example.org/bad")

    assert str(error) == "Service Unavailable (HTTP 503, https://example.org/feed)"
    assert str(gone) == "HTTP 410 Gone (https://example.org/old)"
    assert str(parse) == "invalid XML (https://example.org/bad)"


def test_a_hostile_url_cannot_flood_the_message() -> None:
    """A redirect target of a megabyte is cut in the message (the attribute keeps it whole)."""
    url = "https://evil.example/" + "a" * 1_000_000
    error = FetchError("redirect loop", url=url)
    assert error.url == url
    assert len(str(error)) < 400


def test_delivery_errors_name_provider_status_and_recipient() -> None:
    """Context given as attributes reaches the one line users see."""
    refused = PermanentProviderError("cannot write to /outbox", provider="file")
    busy = TransientProviderError("rate limit", 7.0, provider="sendgrid", status=429)
    copy = ProviderError("test copy not sent", recipient="ada@example.org")
    headers = UnsafeHeaders("the copy not sent: bad header", recipient="ada@example.org")
    address = InvalidAddress("no @", address="ada")

    assert str(refused) == "cannot write to /outbox (file)"
    assert (str(busy), busy.retry_after) == ("rate limit (sendgrid, 429)", 7.0)
    assert str(copy) == "test copy not sent (ada@example.org)"
    assert str(headers) == "the copy not sent: bad header (ada@example.org)"
    assert str(address) == "no @ ('ada')"


def test_config_errors_name_file_and_key() -> None:
    """The file and the dotted key, then the problem; both kept as attributes."""
    error = ConfigError("/etc/news.toml", "collect.timeout_seconds", "must be a number")
    assert (error.path, error.key) == ("/etc/news.toml", "collect.timeout_seconds")
    assert str(error) == "/etc/news.toml: collect.timeout_seconds: must be a number"


@pytest.mark.parametrize("name", sorted(ALSO_LIBRARY))
def test_library_bases_are_kept_where_callers_rely_on_them(name: str) -> None:
    """A class listed in ALSO_LIBRARY really has its library base (the list is not stale)."""
    cls = exception_classes()[name]
    assert any(not issubclass(base, NewsletterError) for base in cls.__bases__)
