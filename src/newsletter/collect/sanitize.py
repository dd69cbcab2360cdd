"""Untrusted HTML made safe to keep and to mail: an allowlist sanitiser, and plain text.

Feed HTML is hostile until proven otherwise. `sanitize_html` keeps only an allowlist of tags
and attributes (nh3, a binding of the Rust ammonia sanitiser), allows only http(s) and mailto
links, resolves relative links, and drops what a reader does not need in an email: promotion
blocks, share widgets, tracking pixels and reading-time stubs. `to_text` turns a fragment into
plain text, one paragraph per line. Both are pure and idempotent.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit

import nh3

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "div",
        "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
        "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small", "span",
        "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr",
        "u", "ul",
    }
)  # fmt: skip
# Removed with everything inside them, not just unwrapped.
DROPPED_WITH_CONTENT = frozenset(
    {
        "script", "style", "iframe", "frame", "frameset", "noscript", "noembed", "noframes",
        "object", "embed", "applet", "form", "template", "svg", "math", "textarea", "select",
        "button", "title", "xmp", "plaintext", "audio", "video",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "ol": {"start"},
    "time": {"datetime"},
}
BOILERPLATE_MAX_LENGTH = 400
# Longer article HTML is cut (the sanitiser closes what the cut leaves open): an email shows
# a summary, and deeply nested hostile markup costs the HTML parser quadratic time.
MAX_FRAGMENT_LENGTH = 300_000
# The HTML parser's time grows with the square of nesting depth: fragments nested deeper than
# any article are flattened to text first (checked only for fragments with many tags).
MAX_NESTING = 500
NESTING_CHECK_FROM = 2_000
URL_SCHEMES = frozenset({"http", "https", "mailto"})
URL_ATTRIBUTES = frozenset({"href", "src"})

# class and id attribute values, to look for promotion, sharing or related-posts furniture.
_CLASS_OR_ID = re.compile(
    r"""\b(?:class|id)\s*=\s*(?:"([^"]{0,500})"|'([^']{0,500})'|([^\s>"']{1,500}))""",
    re.IGNORECASE,
)
_FURNITURE_NAME = re.compile(
    r"(?:^|[\s_-])(?:newsletter|promo|subscribe|subscription|share|sharing|sharedaddy|social|"
    r"related|jp-relatedposts|feedflare|advert|ads|sponsor|sponsored|cta)(?:$|[\s_-])",
    re.IGNORECASE,
)
_TRACKING_URL = re.compile(
    r"pixel|tracking|tracker|beacon|/b\.gif|spacer\.gif|blank\.gif|/~r/|/~ff/|feedburner|"
    r"stats\.wordpress\.com|doubleclick|/open\.(?:gif|png)|/track/|/wf/open",
    re.IGNORECASE,
)
_TAG = re.compile(r"<[^>]*>")
_OPEN_OR_CLOSE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>")
_VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
     "source", "track", "wbr"}
)  # fmt: skip
_IMG_TAG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r'\s([a-z-]+)="([^"]*)"')
_EMPTY_BLOCK = re.compile(r"<(p|div|span|figure)>\s*(?:<br>\s*)*</\1>")
_BLOCK_BREAK = re.compile(
    r"<(?:br|hr)\b[^>]*>|</?(?:p|div|h[1-6]|li|ul|ol|dl|dt|dd|blockquote|pre|tr|table|"
    r"figure|figcaption|section|article|header|footer|aside)\b[^>]*>",
    re.IGNORECASE,
)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u200b]+")

# Paragraphs that are furniture, not content, in French and English feeds.
_BOILERPLATE = re.compile(
    r"""^(?:
        temps\s+de\s+lecture\b.*
      | (?:reading\s+time|read\s+time|lecture)\s*:.*
      | \d+\s*(?:min(?:ute)?s?|mn)\.?\s+(?:read|de\s+lecture)\b.*
      | (?:lire\s+la\s+suite|lire\s+l['’]article|en\s+savoir\s+plus|read\s+more|continue\s+reading
          |continuer\s+la\s+lecture|keep\s+reading|read\s+the\s+full\s+(?:article|story))\b.*
      | the\s+post\s+.+\s+appeared\s+first\s+on\s+.+
      | l['’]article\s+.+\s+est\s+apparu\s+en\s+premier\s+sur\s+.+
      | cet\s+article\s+.+\s+est\s+apparu\s+en\s+premier\s+sur\s+.+
      | \[(?:…|\.\.\.)\]
      | (?:…|\.\.\.)
    )$""",
    re.IGNORECASE | re.VERBOSE,
)


def sanitize_html(fragment: str, base_url: str | None = None) -> str:
    """`fragment` reduced to the allowlist, relative URLs resolved against `base_url`."""
    if not fragment or not fragment.strip():
        return ""
    fragment = _tame(fragment)
    if _has_furniture(fragment):
        fragment = _drop_furniture(fragment)
    cleaned = nh3.clean(
        fragment,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_url_filter(base_url),
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    cleaned = _IMG_TAG.sub(_keep_real_image, cleaned)
    cleaned = _drop_boilerplate_paragraphs(cleaned)
    return _EMPTY_BLOCK.sub("", cleaned).strip()


def to_text(fragment: str) -> str:
    """Plain text of an HTML fragment: one paragraph per line, entities decoded."""
    if not fragment:
        return ""
    marked = _BLOCK_BREAK.sub("\n", _tame(fragment))
    bare = nh3.clean(marked, tags=set(), clean_content_tags=set(DROPPED_WITH_CONTENT))
    return _tidy_lines(html.unescape(bare))


def paragraphs(fragment: str) -> list[str]:
    """The meaningful paragraphs of an HTML fragment, boilerplate lines left out."""
    return [line for line in to_text(fragment).split("\n") if not is_boilerplate(line)]


def is_boilerplate(line: str) -> bool:
    """A reading-time stub, a "read more" link, a "The post ... appeared first on" footer."""
    line = line.strip()
    # Boilerplate is short; the length bound also keeps the pattern linear on hostile input.
    return len(line) <= BOILERPLATE_MAX_LENGTH and bool(_BOILERPLATE.match(line))


def is_tracking_image(src: str, width: str | None = None, height: str | None = None) -> bool:
    """A 1x1 or 0x0 image, or one whose URL says it counts opens rather than shows anything."""
    for size in (width, height):
        if size is not None and size.strip().rstrip("px").strip() in {"0", "1"}:
            return True
    return bool(_TRACKING_URL.search(src))


def absolute_url(url: str, base_url: str | None) -> str | None:
    """`url` made absolute against `base_url`; None unless the result is http(s)/mailto."""
    url = url.strip()
    if not url:
        return None
    resolved = urljoin(base_url, url) if base_url else url
    scheme = urlsplit(resolved).scheme.lower()
    return resolved if scheme in URL_SCHEMES else None


def _tidy_lines(text: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


@lru_cache(maxsize=256)
def _url_filter(base_url: str | None) -> Any:
    def keep(tag: str, attribute: str, value: str) -> str | None:
        if attribute not in URL_ATTRIBUTES:
            return value
        resolved = absolute_url(value, base_url)
        if resolved is None:
            return None
        if tag == "img" and _TRACKING_URL.search(resolved):
            return None
        return resolved

    return keep


def _keep_real_image(match: re.Match[str]) -> str:
    tag = match.group(0)
    attributes = dict(_ATTRIBUTE.findall(tag))
    src = attributes.get("src")
    if not src or is_tracking_image(src, attributes.get("width"), attributes.get("height")):
        return ""
    return tag


def _tame(fragment: str) -> str:
    """`fragment` cut to a bounded length, and flattened to escaped text if absurdly nested."""
    fragment = fragment[:MAX_FRAGMENT_LENGTH]
    if fragment.count("<") < NESTING_CHECK_FROM or not _too_deep(fragment):
        return fragment
    lines = html.unescape(_TAG.sub("\n", fragment)).split("\n")
    return "".join(f"<p>{html.escape(line.strip())}</p>" for line in lines if line.strip())


def _too_deep(fragment: str) -> bool:
    depth = 0
    for match in _OPEN_OR_CLOSE.finditer(fragment):
        closing, name, self_closing = match.groups()
        if closing:
            depth = max(depth - 1, 0)
        elif not self_closing and name.lower() not in _VOID_ELEMENTS:
            depth += 1
            if depth > MAX_NESTING:
                return True
    return False


def _has_furniture(fragment: str) -> bool:
    return any(
        _FURNITURE_NAME.search(next(value for value in values if value))
        for values in _CLASS_OR_ID.findall(fragment)
        if any(values)
    )


def _drop_boilerplate_paragraphs(cleaned: str) -> str:
    def keep(match: re.Match[str]) -> str:
        # nh3's output is well-formed, so stripping its tags with a pattern is exact here.
        text = html.unescape(_TAG.sub("", match.group(0)))
        return "" if is_boilerplate(text) else match.group(0)

    return re.sub(r"<p>(?:(?!</?p>).){0,300}?</p>", keep, cleaned, flags=re.DOTALL)


def _drop_furniture(fragment: str) -> str:
    """Remove promotion, sharing and related-posts blocks, content included."""
    from lxml import html as lxml_html  # only for fragments that look like they carry furniture

    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except (ValueError, TypeError):  # lxml refuses some inputs (e.g. NUL bytes); nh3 still runs
        return fragment
    for element in list(root.iter()):
        if element is not root and isinstance(element.tag, str) and _is_furniture(element):
            element.drop_tree()
    inner = [root.text or ""]
    inner += [lxml_html.tostring(child, encoding="unicode") for child in root]
    return "".join(inner)


def _is_furniture(element: Any) -> bool:
    names = f"{element.get('class', '')} {element.get('id', '')}"
    return bool(_FURNITURE_NAME.search(names))
