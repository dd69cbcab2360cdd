"""Feed entries normalised into articles: canonical URL, dedupe key, clean HTML and text.

Pure: an entry as feedparser reads it goes in, an `ArticleDraft` comes out. The canonical URL
(tracking parameters and fragment removed, host lower-cased) is what dedupes an article across
feeds; the summary is plain text from the description or the first meaningful paragraphs; the
image is the best one the entry offers that is not a tracking pixel, with the size the entry
declares for it (media:content / media:thumbnail / enclosure / <img> width and height).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from newsletter.collect.sanitize import (
    absolute_url,
    is_tracking_image,
    paragraphs,
    sanitize_html,
    to_text,
)
from newsletter.domain.images import FoundImage, image_size
from newsletter.domain.links import http_url
from newsletter.domain.model import ArticleDraft

SUMMARY_LENGTH = 300
TITLE_FALLBACK_LENGTH = 90
ELLIPSIS = "…"

# Query parameters that identify a campaign or a click, never the page.
_TRACKING_PARAMETERS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "twclid", "ttclid", "igshid",
        "mc_cid", "mc_eid", "_hsenc", "_hsmi", "hsctatracking", "mkt_tok", "oly_anon_id",
        "oly_enc_id", "vero_conv", "vero_id", "wickedid", "rb_clickid", "s_cid", "xtor",
        "at_medium", "at_campaign", "at_source", "ncid", "cmpid", "ito", "spm", "__s",
    }
)  # fmt: skip
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "ga_", "_ga")
# "[…]", "Lire la suite »", "Continue reading →" left at the end of a truncated description.
_TRAILING_READ_MORE = re.compile(
    r"\s*(?:lire la suite|read more|continue reading|continuer la lecture)\s*(?:»|→|\.\.\.|…)?\s*$",
    re.IGNORECASE,
)
_TRAILING_CUT = re.compile(r"\s*\[(?:…|\.\.\.|&hellip;)\]\s*$")
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "html", "xhtml"})
_IMAGE_EXTENSION = re.compile(r"\.(?:jpe?g|png|gif|webp|avif)(?:$|[?#])", re.IGNORECASE)
_IMG_TAG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_IMG_ATTRIBUTE = re.compile(
    r"""\b(src|width|height)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I
)


def normalise(entry: Mapping[str, Any], feed_name: str, feed_url: str) -> ArticleDraft | None:
    """The article an entry describes, or None when it has no http(s) link to point readers to."""
    link = entry_link(entry, feed_url)
    if link is None:
        return None
    url = canonical_url(link)
    content_raw, content_kind = _content(entry)
    summary_raw, summary_kind = _summary(entry)
    content = _as_html(content_raw, content_kind)
    summary_html = _as_html(summary_raw, summary_kind)
    image = best_image(entry, content, summary_html, base_url=link)
    size = image.size if image else None
    return ArticleDraft(
        feed_name=feed_name,
        guid=str(entry.get("id") or "").strip()[:2000] or url,
        url=url,
        title=entry_title(entry) or _fallback_title(summary_raw or content_raw, url),
        # Text fields never carry markup, even from feeds that label HTML as plain text.
        summary=summarise(summary_raw, content_raw),
        content_html=sanitize_html(content or summary_html, base_url=link),
        image_url=image.url if image else None,
        author=_author(entry),
        published_at=published_at(entry),
        categories=_categories(entry.get("tags") or ()),
        image_width=size.width if size else None,
        image_height=size.height if size else None,
    )


def entry_link(entry: Mapping[str, Any], feed_url: str) -> str | None:
    """The entry's web page, made absolute against the feed URL; None unless http(s)."""
    candidates: list[str] = []
    if entry.get("link"):
        candidates.append(str(entry["link"]))
    for link in entry.get("links") or ():
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            candidates.append(str(link["href"]))
    guid = str(entry.get("id") or "")
    if entry.get("guidislink") or guid.startswith(("http://", "https://")):
        candidates.append(guid)
    for candidate in candidates:
        resolved = http_url(urljoin(feed_url, candidate.strip()))
        if resolved is not None:
            return resolved
    return None


def canonical_url(url: str) -> str:
    """`url` without tracking parameters or fragment, scheme and host lower-cased."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: keep the URL as written
        return url.strip()
    if (scheme, port) in {("http", 80), ("https", 443)}:
        port = None
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _is_tracking_parameter(key)
    ]
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(query, doseq=True), ""))


def _is_tracking_parameter(key: str) -> bool:
    lowered = key.lower()
    return lowered in _TRACKING_PARAMETERS or lowered.startswith(_TRACKING_PREFIXES)


def entry_title(entry: Mapping[str, Any]) -> str:
    title = str(entry.get("title") or "")
    detail = entry.get("title_detail") or {}
    if detail.get("type") in _HTML_TYPES or "<" in title:
        title = to_text(title)
    return " ".join(title.split())


def feed_title(title: str) -> str:
    """A feed's own title as plain one-line text, to show as its source name."""
    return shorten(to_text(title) if "<" in title else title, 120)


def summarise(summary_html: str, content_html: str, length: int = SUMMARY_LENGTH) -> str:
    """Plain text from the description, else from the content's first meaningful paragraphs."""
    for source in (summary_html, content_html):
        kept = (_without_trailing_boilerplate(line) for line in paragraphs(source))
        text = " ".join(line for line in kept if line)
        if text:
            return shorten(text, length)
    return ""


def _without_trailing_boilerplate(line: str) -> str:
    line = _TRAILING_READ_MORE.sub("", line)
    return _TRAILING_CUT.sub(ELLIPSIS, line)


def shorten(text: str, length: int = SUMMARY_LENGTH) -> str:
    """`text` cut at a word boundary to at most `length` characters, an ellipsis marking the cut."""
    text = " ".join(text.split())
    if len(text) <= length:
        return text
    cut = text[: length - 1]
    space = cut.rfind(" ")
    if space > length // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—(") + ELLIPSIS


def best_image(
    entry: Mapping[str, Any], content_html: str, summary_html: str, base_url: str
) -> FoundImage | None:
    """media:content, media:thumbnail, an image enclosure, else the first real content image."""
    for candidate in _media_images(entry):
        found = _usable_image(candidate.get("url") or candidate.get("href"), base_url, candidate)
        if found:
            return found
    for fragment in (content_html, summary_html):
        for tag in _IMG_TAG.findall(fragment or ""):
            attributes = {
                name.lower(): next((v for v in values if v), "")
                for name, *values in _IMG_ATTRIBUTE.findall(tag)
            }
            found = _usable_image(attributes.get("src"), base_url, attributes)
            if found:
                return found
    return None


def _media_images(entry: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    for media in entry.get("media_content") or ():
        medium = str(media.get("medium") or "")
        kind = str(media.get("type") or "")
        if (
            medium == "image"
            or kind.startswith("image/")
            or (not medium and not kind and _IMAGE_EXTENSION.search(str(media.get("url") or "")))
        ):
            yield media
    yield from entry.get("media_thumbnail") or ()
    for enclosure in [*(entry.get("enclosures") or ()), *_link_enclosures(entry)]:
        if str(enclosure.get("type") or "").startswith("image/") or _IMAGE_EXTENSION.search(
            str(enclosure.get("href") or enclosure.get("url") or "")
        ):
            yield enclosure
    image = entry.get("image")
    if isinstance(image, Mapping) and image.get("href"):
        yield image


def _link_enclosures(entry: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    return [link for link in entry.get("links") or () if link.get("rel") == "enclosure"]


def _usable_image(src: object, base_url: str, attributes: Mapping[str, Any]) -> FoundImage | None:
    if not isinstance(src, str) or not src.strip():
        return None
    resolved = http_url(absolute_url(src, base_url))
    if resolved is None:
        return None
    width = attributes.get("width")
    height = attributes.get("height")
    if is_tracking_image(resolved, _text(width), _text(height)):
        return None
    return FoundImage(resolved, image_size(width, height))


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def published_at(entry: Mapping[str, Any]) -> datetime | None:
    """When the entry was published (else updated), as an aware UTC datetime."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            try:
                year, month, day, hour, minute, second = parsed[:6]
                return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
            except (TypeError, ValueError):
                continue
    return None


def _content(entry: Mapping[str, Any]) -> tuple[str, object]:
    """The entry's full content (HTML preferred) and its declared type."""
    contents = entry.get("content") or ()
    html_parts = [c for c in contents if c.get("type") in _HTML_TYPES]
    chosen = html_parts[0] if html_parts else (contents[0] if contents else None)
    if chosen is None:
        return "", None
    return str(chosen.get("value") or ""), chosen.get("type")


def _summary(entry: Mapping[str, Any]) -> tuple[str, object]:
    """The entry's description and its declared type."""
    summary = str(entry.get("summary") or "")
    kind = (entry.get("summary_detail") or {}).get("type")
    if kind is None:  # feedparser copies the content into `summary` without its type
        kind = next(
            (c.get("type") for c in entry.get("content") or () if c.get("value") == summary), None
        )
    return summary, kind


def _as_html(value: str, kind: object) -> str:
    """Plain text made into HTML paragraphs, so both kinds go through the same sanitiser."""
    if kind in _HTML_TYPES or kind is None or ("<" in value and kind != "text/plain"):
        return value
    import html

    blocks = [block.strip() for block in re.split(r"\n\s*\n", value) if block.strip()]
    return "".join(f"<p>{html.escape(block)}</p>" for block in blocks)


def _fallback_title(html_fragment: str, url: str) -> str:
    text = " ".join(paragraphs(html_fragment))
    return shorten(text, TITLE_FALLBACK_LENGTH) if text else url


def _author(entry: Mapping[str, Any]) -> str | None:
    author = entry.get("author")
    if not author:
        names = [str(a.get("name")) for a in entry.get("authors") or () if a.get("name")]
        author = ", ".join(names)
    text = " ".join(to_text(str(author or "")).split())
    return text[:200] or None


def _categories(tags: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for tag in tags:
        term = " ".join(to_text(str(tag.get("term") or tag.get("label") or "")).split())
        if term and term.lower() not in seen:
            seen[term.lower()] = term[:100]
    return tuple(seen.values())
