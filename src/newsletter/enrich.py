"""Enrichment of articles a feed left thin: the description and image an article page declares
for sharing (OpenGraph, Twitter cards, JSON-LD, the meta description). Pure: bytes in, fields out.

The page is untrusted like the feed: descriptions become plain text, images must be absolute
http(s) URLs that are not tracking pixels.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from lxml import etree
from lxml import html as lxml_html

from newsletter.articles import shorten
from newsletter.model import ArticleDraft
from newsletter.sanitize import absolute_url, is_boilerplate, is_tracking_image, to_text

MAX_PAGE_CHARS = 2_000_000  # metadata lives in the <head>; never parse a huge page whole
MAX_JSON_LD_CHARS = 200_000


@dataclass(frozen=True)
class PageMetadata:
    description: str | None = None
    image: str | None = None


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
    images = [
        meta.get("og:image:secure_url"),
        meta.get("og:image"),
        meta.get("og:image:url"),
        meta.get("twitter:image"),
        meta.get("twitter:image:src"),
        *(_ld_image(item.get("image")) for item in ld),
        *(_ld_image(item.get("thumbnailUrl")) for item in ld),
    ]
    return PageMetadata(
        description=next(filter(None, map(_clean_description, descriptions)), None),
        image=next(filter(None, (_clean_image(i, url) for i in images)), None),
    )


def enriched(draft: ArticleDraft, metadata: PageMetadata) -> ArticleDraft:
    """The draft with what it lacked filled in from the page; what the feed gave is kept."""
    return replace(
        draft,
        summary=draft.summary or metadata.description or "",
        image_url=draft.image_url or metadata.image,
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


def _ld_image(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return _ld_image(value.get("url") or value.get("contentUrl"))
    if isinstance(value, list) and value:
        return _ld_image(value[0])
    return None


def _clean_description(value: str | None) -> str | None:
    if not value:
        return None
    text = " ".join(to_text(value).split())
    if not text or is_boilerplate(text):
        return None
    return shorten(text)


def _clean_image(value: str | None, page_url: str) -> str | None:
    if not value:
        return None
    resolved = absolute_url(value.strip(), page_url)
    if not resolved or not resolved.startswith(("http://", "https://")):
        return None
    return None if is_tracking_image(resolved) else resolved
