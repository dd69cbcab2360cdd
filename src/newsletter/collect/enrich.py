"""Enrichment of articles a feed left thin: the description and image an article page declares
for sharing (OpenGraph, Twitter cards, JSON-LD, the meta description). Pure: bytes in, fields out.

The page is untrusted like the feed: descriptions become plain text, images must be absolute
http(s) URLs that are not tracking pixels, and their declared size (og:image:width/height,
a JSON-LD ImageObject's width/height) is kept only when it is a plausible pixel size.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from lxml import etree
from lxml import html as lxml_html

from newsletter.collect.normalise import shorten
from newsletter.collect.sanitize import absolute_url, is_boilerplate, is_tracking_image, to_text
from newsletter.domain.images import FoundImage, ImageSize, image_size
from newsletter.domain.links import http_url
from newsletter.domain.model import ArticleDraft

MAX_PAGE_CHARS = 2_000_000  # metadata lives in the <head>; never parse a huge page whole
MAX_JSON_LD_CHARS = 200_000


@dataclass(frozen=True)
class PageMetadata:
    description: str | None = None
    image: str | None = None
    image_size: ImageSize | None = None


def needs_enrichment(draft: ArticleDraft) -> bool:
    return not draft.summary or not draft.image_url


def page_metadata(body: bytes, url: str) -> PageMetadata:
    """The description and image an HTML page declares, or nothing if it declares none."""
    text = body[: MAX_PAGE_CHARS * 2].decode("utf-8", errors="replace")[:MAX_PAGE_CHARS]
    try:
        root = lxml_html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return PageMetadata()
    meta = _meta(root)
    ld = list(_json_ld(root))
    descriptions = [
        meta.get("og:description"),
        meta.get("twitter:description"),
        *(_ld_text(item.get("description")) for item in ld),
        meta.get("description"),
    ]
    # og:image:width/height describe the og:image (its secure_url and url name the same one).
    og_size = image_size(meta.get("og:image:width"), meta.get("og:image:height"))
    images: list[tuple[str | None, ImageSize | None]] = [
        (meta.get("og:image:secure_url"), og_size),
        (meta.get("og:image"), og_size),
        (meta.get("og:image:url"), og_size),
        (meta.get("twitter:image"), None),
        (meta.get("twitter:image:src"), None),
        *(_ld_image(item.get("image")) for item in ld),
        *(_ld_image(item.get("thumbnailUrl")) for item in ld),
    ]
    image = next(filter(None, (_clean_image(i, size, url) for i, size in images)), None)
    return PageMetadata(
        description=next(filter(None, map(_clean_description, descriptions)), None),
        image=image.url if image else None,
        image_size=image.size if image else None,
    )


def enriched(draft: ArticleDraft, metadata: PageMetadata) -> ArticleDraft:
    """The draft with what it lacked filled in from the page; what the feed gave is kept."""
    image_url, size = draft.image_url, None
    if image_url is None:
        image_url, size = metadata.image, metadata.image_size
    elif draft.image_width is None and image_url == metadata.image:
        size = metadata.image_size  # the feed's own image, whose size only the page declares
    return replace(
        draft,
        summary=draft.summary or metadata.description or "",
        image_url=image_url,
        image_width=size.width if size else draft.image_width,
        image_height=size.height if size else draft.image_height,
    )


def _meta(root: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for element in root.iter("meta"):
        key = (element.get("property") or element.get("name") or "").strip().lower()
        content = element.get("content")
        if key and content and key not in found:
            found[key] = content
    return found


def _json_ld(root: Any) -> Iterator[dict[str, Any]]:
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        text = script.text or ""
        if len(text) > MAX_JSON_LD_CHARS:
            continue
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):  # hostile pages nest arrays thousands deep
            continue
        yield from _objects(data)


def _objects(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every JSON-LD object, through lists and @graph, not too deep (hostile pages nest)."""
    if depth > 4:
        return
    if isinstance(data, list):
        for item in data[:50]:
            yield from _objects(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        yield from _objects(data.get("@graph"), depth + 1)


def _ld_text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _ld_image(value: Any) -> tuple[str | None, ImageSize | None]:
    """The URL of a JSON-LD image (a URL, an ImageObject, a list of either) and its size."""
    if isinstance(value, str):
        return value, None
    if isinstance(value, dict):
        url, _ = _ld_image(value.get("url") or value.get("contentUrl"))
        return url, image_size(_ld_number(value.get("width")), _ld_number(value.get("height")))
    if isinstance(value, list) and value:
        return _ld_image(value[0])
    return None, None


def _ld_number(value: Any) -> Any:
    """1200, "1200" or a QuantitativeValue {"value": 1200}."""
    return value.get("value") if isinstance(value, dict) else value


def _clean_description(value: str | None) -> str | None:
    if not value:
        return None
    text = " ".join(to_text(value).split())
    if not text or is_boilerplate(text):
        return None
    return shorten(text)


def _clean_image(value: str | None, size: ImageSize | None, page_url: str) -> FoundImage | None:
    if not value:
        return None
    resolved = http_url(absolute_url(value.strip(), page_url))
    if resolved is None:
        return None
    declared = (str(size.width), str(size.height)) if size else (None, None)
    return None if is_tracking_image(resolved, *declared) else FoundImage(resolved, size)
