"""Links: only absolute http(s) URLs survive; article links may carry UTM parameters.

`http_url` is the one test of "an http(s) link a reader can follow": collection keeps an
entry's link and images by it, the renderer writes links by it, the public pages and the
desk's checks link by it. Fetching reads SAFE_SCHEMES for what it may request.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from newsletter.domain.settings import Settings

SAFE_SCHEMES = ("http", "https")


def http_url(raw: str | None) -> str | None:
    """`raw` when it is an absolute http(s) URL with a host, else None (javascript:, data:,
    relative and protocol-relative URLs are dropped, never repaired)."""
    if not raw:
        return None
    candidate = raw.strip()
    if any(ord(ch) < 33 or ord(ch) == 127 for ch in candidate):
        return None
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme.lower() not in SAFE_SCHEMES or not parts.hostname:
        return None
    return candidate


def with_utm(url: str, source: str, medium: str, campaign: str) -> str:
    """`url` with utm_source/medium/campaign set (any utm_* it had is replaced)."""
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _utm(k)]
    tags = [("utm_source", source), ("utm_medium", medium), ("utm_campaign", campaign)]
    query = urlencode(kept + [(k, v) for k, v in tags if v])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def article_url(url: str, number: int, name: str, settings: Settings) -> str | None:
    """An article's link as readers get it: absolute http(s) only, with the UTM parameters
    of `[links]` (the email, the /c/ redirect and the welcome email alike)."""
    checked = http_url(url)
    links = settings.links
    if checked and links.utm:
        campaign = links.utm_campaign.format(name=name, number=number)
        checked = with_utm(checked, links.utm_source, links.utm_medium, _slug(campaign))
    return checked


def _slug(text: str) -> str:
    kept = "".join(ch if ch.isalnum() else "-" for ch in text.lower())
    return "-".join(part for part in kept.split("-") if part)


def without_utm(url: str) -> str:
    """`url` without its utm_* parameters (to match a link as clicked with the article's)."""
    return with_utm(url, "", "", "")


def _utm(key: str) -> bool:
    return key.lower().startswith("utm_")
