"""The one pre-send check, for the desk (editor and send confirmation) and `newsletter issue
check`: Gmail's clip size (the one limit of render/clipping.py), images without alt text, items
without a summary, the default subject or preheader, an empty introduction, articles older than
the period, links that go nowhere a reader can follow (in the items and the introduction), and
the same article twice. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit, urlunsplit

from newsletter.domain.links import http_url
from newsletter.domain.model import Issue
from newsletter.render.clipping import GMAIL_CLIP_BYTES, clipped_size
from newsletter.render.subject import fill_subject

# A Markdown link's target, `[text](target)`, or an autolink `<target>`.
_INTRO_LINK = re.compile(r"\]\(\s*([^)\s]*)[^)]*\)|<([a-z][a-z0-9+.-]*:[^>\s]*)>", re.IGNORECASE)


@dataclass(frozen=True)
class Alert:
    kind: str  # alt | summary | link | duplicate | size | subject | preheader | intro | old
    message: str


@dataclass(frozen=True)
class Rules:
    """What the content checks compare against: the configured subject (with the name filled
    in), the newsletter's period and the time of the check."""

    default_subject: str
    now: datetime
    period: timedelta = timedelta(days=7)


def presend_check(issue: Issue, html: str | None, rules: Rules) -> list[Alert]:
    """Every warning before sending: the content's, the items', and the rendered HTML's when
    given (the size and alt text can only be checked on the email itself)."""
    return [*check_content(issue, rules), *check_issue(issue, html)]


def check_content(issue: Issue, rules: Rules) -> list[Alert]:
    """The subject, preheader and introduction as written, and how old the articles are."""
    warnings: list[Alert] = []
    subject = issue.subject.strip()
    if subject in {
        rules.default_subject.strip(),
        fill_subject(rules.default_subject, number=issue.number).strip(),
    }:
        warnings.append(Alert("subject", "L’objet est celui par défaut : personnalisez-le."))
    preheader = issue.preheader.strip()
    lead = issue.items[0].article.title.strip()[:140] if issue.items else None
    if not preheader:
        warnings.append(Alert("preheader", "Le texte d’aperçu (préheader) est vide."))
    elif preheader == lead:
        warnings.append(
            Alert("preheader", "Le texte d’aperçu est celui par défaut (le titre du 1er article).")
        )
    if not issue.intro.strip():
        warnings.append(Alert("intro", "L’introduction est vide."))
    for match in _INTRO_LINK.finditer(issue.intro):
        target = (match.group(1) or match.group(2) or "").strip()
        if not _followable(target):
            shown = target if len(target) < 80 else target[:77] + "…"
            warnings.append(Alert("link", f"Lien cassé dans l’introduction : {shown!r}."))
    oldest = rules.now - rules.period
    for position, item in enumerate(issue.items, start=1):
        when = item.article.published_at or item.article.collected_at
        if when < oldest:
            warnings.append(
                Alert(
                    "old",
                    f"Article {position} « {item.display_title} » date du "
                    f"{when:%d/%m/%Y}, avant la période ({rules.period.days} jours).",
                )
            )
    return warnings


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[dict[str, str | None]] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "img":
            self.images.append(found)
        elif tag == "a" and found.get("href") is not None:
            self.links.append(str(found["href"]).strip())


def check_issue(issue: Issue, html: str | None) -> list[Alert]:
    """Warnings on the issue's items and, when given, on its rendered (personalised) HTML."""
    warnings: list[Alert] = []
    seen: dict[str, str] = {}
    for position, item in enumerate(issue.items, start=1):
        label = f"Article {position} « {item.display_title} »"
        if not item.display_summary.strip():
            warnings.append(Alert("summary", f"{label} n’a pas de résumé."))
        if not _followable(item.article.url):
            warnings.append(
                Alert("link", f"{label} : le lien {item.article.url!r} n’est pas une adresse web.")
            )
        key = _canonical(item.article.url)
        if key in seen:
            warnings.append(
                Alert("duplicate", f"{label} pointe vers le même lien que {seen[key]}.")
            )
        else:
            seen[key] = f"l’article {position}"
    if html is not None:
        warnings.extend(check_html(html))
    return warnings


def check_html(html: str) -> list[Alert]:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    warnings: list[Alert] = []
    missing_alt = [
        image for image in collector.images if image.get("alt") is None and not _is_pixel(image)
    ]
    if missing_alt:
        warnings.append(
            Alert("alt", f"{len(missing_alt)} image(s) sans texte alternatif (attribut alt).")
        )
    broken = sorted({link for link in collector.links if not _followable(link)})
    for link in broken:
        shown = link if len(link) < 80 else link[:77] + "…"
        warnings.append(Alert("link", f"Lien cassé ou non web dans l’e-mail : {shown!r}."))
    size = clipped_size(html)
    if size is not None:
        warnings.append(
            Alert(
                "size",
                f"Le HTML pèse {size / 1000:.0f} Ko : Gmail coupe les messages au-delà de "
                f"{GMAIL_CLIP_BYTES // 1000} Ko (lien de désinscription compris).",
            )
        )
    return warnings


def _followable(url: str) -> bool:
    if http_url(url) is not None:
        return True
    parts = urlsplit(url.strip())
    return parts.scheme == "mailto" and bool(parts.path)


def _canonical(url: str) -> str:
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def _is_pixel(image: dict[str, str | None]) -> bool:
    return image.get("width") == "1" and image.get("height") == "1"
