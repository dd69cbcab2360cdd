"""Rendering: Jinja2 templates -> premailer CSS inlining, once per message.

The result keeps placeholders (`RenderedMessage.placeholders`, spelled with a nonce drawn for
each render) that `newsletter.render.personalise` fills in, so each recipient's copy is a plain
substitution afterwards: the CSS inliner never runs per recipient. Article data is
untrusted plain text: autoescaped in HTML, links and images kept only when absolute http(s).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from html import unescape
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import jinja2
import premailer
from lxml import etree
from lxml import html as lxml_html

from newsletter.domain.delivery import Placeholders, RenderedMessage
from newsletter.domain.errors import RenderError
from newsletter.domain.images import ImageSize, display_box, image_size
from newsletter.domain.links import article_url, http_url
from newsletter.domain.model import Issue, IssueItem
from newsletter.domain.settings import Settings
from newsletter.render.clipping import clipping_warning as clipping_warning
from newsletter.render.contents import table_of_contents
from newsletter.render.funding import funding_rows
from newsletter.render.markup import markdown_html, markdown_text
from newsletter.render.plaintext import wrap
from newsletter.render.subject import fill_subject
from newsletter.render.typography import format_date, french_spacing

# The default email templates, packaged from the repository's templates/email/ (a symlink in
# the source tree, copied into the wheel); a deployment's own folder overrides them by name.
SHIPPED_TEMPLATES = Path(__file__).resolve().parent / "templates"

TRANSACTIONAL = ("confirm", "welcome", "test")
_RTL_LANGUAGES = ("ar", "fa", "he", "ur", "yi")


@dataclass(frozen=True)
class ItemView:
    """One article card as templates see it: plain text fields and checked URLs."""

    title: str
    summary: str
    url: str | None
    image_url: str | None
    image_size: ImageSize | None  # declared by the feed or the page; None when unknown
    source: str
    author: str | None
    date: str | None


@dataclass(frozen=True)
class SectionView:
    heading: str | None
    items: tuple[ItemView, ...]


@dataclass(frozen=True)
class IssueView:
    """An issue's words as every reader sees them, in the email and in the web archive."""

    subject: str
    preheader: str
    date: str
    intro_html: str
    sections: list[SectionView]


def template_loader(folder: Path) -> jinja2.BaseLoader:
    """The deployment's `templates/email/` (when present) file by file over the shipped ones."""
    if folder.exists() and not folder.is_dir():
        raise RenderError(f"{folder}: the email templates folder is not a folder")
    shipped = jinja2.FileSystemLoader(str(SHIPPED_TEMPLATES))
    if not folder.is_dir():
        return shipped
    return jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(folder)), shipped])


class RenderConfig(Protocol):
    """What the renderer reads of the configuration (the wiring passes its `Config`)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def templates_dir(self) -> Path: ...


class Renderer:
    """Renders issues and transactional emails with the templates of `config.templates_dir`,
    falling back file by file on the default templates shipped in the package.

    Built once by the wiring (`Services.renderer`): Jinja caches each compiled template and
    reloads one whose file changed, so a long-running process sees the designers' edits.
    """

    def __init__(self, config: RenderConfig) -> None:
        self._config = config
        self._settings = config.settings
        self._env = jinja2.Environment(
            loader=template_loader(config.templates_dir),
            autoescape=jinja2.select_autoescape(
                enabled_extensions=("html", "htm"), default_for_string=True, default=False
            ),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self._env.filters["typo"] = self._typography
        self._env.filters["http_url"] = lambda url: http_url(str(url)) or ""
        self._env.filters["image_box"] = display_box

    # -- public ------------------------------------------------------------------------------

    @property
    def config(self) -> RenderConfig:
        """The configuration this renderer renders with (its settings and templates folder)."""
        return self._config

    def render_issue(
        self, issue: Issue, placeholders: Placeholders | None = None, *, tracked: bool = False
    ) -> RenderedMessage:
        """The digest of `issue`, inlined once, with per-recipient placeholders left in
        (new ones for this render unless given). `tracked`: article links are click markers
        (`Placeholders.click`) each copy fills with its own /c/ link (copies that are mailed
        to readers, when `[links] track_clicks` is on)."""
        placeholders = placeholders or Placeholders.fresh()
        newsletter = self._settings.newsletter
        clicks = placeholders if tracked else None
        view = self.issue_view(issue, clicks)
        intro = markdown_text(self._typography(issue.intro))
        context = {
            "subject": view.subject,
            "preheader": view.preheader,
            "issue": issue,
            "date": view.date,
            "intro_html": view.intro_html,
            "intro_text": intro.text,
            "intro_links": intro.links,
            "sections": view.sections,
            "contents": table_of_contents(
                [item.title for section in view.sections for item in section.items]
            ),
            "funding": funding_rows(
                issue, partial(self._link, issue, clicks=clicks), self._typography
            )
            if self._settings.digest.funding
            else [],
            "web_url": f"{newsletter.base_url}/archive/{issue.id}",
        }
        html, text = self._render_pair("digest", context, placeholders)
        return RenderedMessage(
            subject=view.subject,
            preheader=view.preheader,
            html=html,
            text=text,
            issue_id=issue.id,
            categories=("digest",),
            placeholders=placeholders,
        )

    def issue_view(self, issue: Issue, clicks: Placeholders | None = None) -> IssueView:
        """The subject, date, intro and article cards of `issue` (the web archive shows them
        with its own template); with `clicks`, article links are its click markers."""
        newsletter = self._settings.newsletter
        return IssueView(
            subject=self._typography(
                fill_subject(issue.subject, name=newsletter.name, number=issue.number)
            ),
            preheader=self._typography(issue.preheader),
            date=format_date(
                issue.sent_at or issue.send_at or issue.created_at,
                newsletter.timezone,
                newsletter.language,
                weekday=True,
            ),
            intro_html=markdown_html(self._typography(issue.intro)),
            sections=self._sections(issue, clicks),
        )

    def render_email(
        self,
        name: str,
        context: Mapping[str, object],
        placeholders: Placeholders | None = None,
    ) -> RenderedMessage:
        """A transactional email (`confirm`, `welcome`, `test`); its templates set the subject
        and preheader in `{% block subject %}` / `{% block preheader %}`."""
        if name not in TRANSACTIONAL:
            raise RenderError(f"unknown email {name!r} (one of: {', '.join(TRANSACTIONAL)})")
        placeholders = placeholders or Placeholders.fresh()
        html, text, subject, preheader = self._render_transactional(
            name, dict(context), placeholders
        )
        return RenderedMessage(
            subject=subject,
            preheader=preheader,
            html=html,
            text=text,
            categories=(name,),
            placeholders=placeholders,
        )

    # -- views -------------------------------------------------------------------------------

    def _sections(self, issue: Issue, clicks: Placeholders | None) -> list[SectionView]:
        """Items in position order, grouped under their section heading as they come."""
        sections: list[tuple[str | None, list[ItemView]]] = []
        for item in sorted(issue.items, key=lambda i: i.position):
            heading = item.section or item.article.section
            if not sections or sections[-1][0] != heading:
                sections.append((heading, []))
            sections[-1][1].append(self._item(issue, item, clicks))
        return [SectionView(heading, tuple(items)) for heading, items in sections]

    def _link(self, issue: Issue, item: IssueItem, clicks: Placeholders | None) -> str | None:
        """The item's article link as readers get it; with `clicks`, its click marker."""
        name = self._settings.newsletter.name
        url = article_url(item.article.url, issue.number, name, self._settings)
        return clicks.click(item.article.id) if url and clicks is not None else url

    def _item(self, issue: Issue, item: IssueItem, clicks: Placeholders | None) -> ItemView:
        article = item.article
        newsletter = self._settings.newsletter
        url = self._link(issue, item, clicks)
        published = article.published_at
        image = http_url(article.image_url)
        return ItemView(
            title=self._typography(item.display_title),
            summary=self._typography(item.display_summary),
            url=url,
            image_url=image,
            image_size=image_size(article.image_width, article.image_height) if image else None,
            source=article.source_name,
            author=article.author,
            date=format_date(published, newsletter.timezone, newsletter.language)
            if isinstance(published, datetime)
            else None,
        )

    def _typography(self, text: str) -> str:
        language = self._settings.newsletter.language
        return french_spacing(text) if language.lower().startswith("fr") else text

    # -- templates -----------------------------------------------------------------------------

    def _common(self, placeholders: Placeholders) -> dict[str, Any]:
        settings = self._settings
        language = settings.newsletter.language
        return {
            "newsletter": settings.newsletter,
            "sender": settings.sender,
            "theme": settings.theme,
            "lang": language,
            "dir": "rtl" if language.split("-")[0].lower() in _RTL_LANGUAGES else "ltr",
            "base_url": settings.newsletter.base_url,
            "subscribe_url": f"{settings.newsletter.base_url}/subscribe",
            "unsubscribe_url": placeholders.unsubscribe_url,
            "preferences_url": placeholders.preferences_url,
            "name_placeholder": placeholders.name,
        }

    def _render_pair(
        self, name: str, context: Mapping[str, Any], placeholders: Placeholders
    ) -> tuple[str, str]:
        full = {**self._common(placeholders), **context}
        html = self._template(f"{name}.html").render(full)
        text = self._template(f"{name}.txt").render(full)
        return self._inline(html, placeholders), wrap(text)

    def _render_transactional(
        self, name: str, context: dict[str, Any], placeholders: Placeholders
    ) -> tuple[str, str, str, str]:
        full = {**self._common(placeholders), **context}
        template = self._template(f"{name}.html")
        try:
            blocks = template.new_context(full)
            subject = "".join(template.blocks["subject"](blocks)).strip()
            preheader = "".join(template.blocks["preheader"](blocks)).strip()
        except KeyError as exc:
            raise RenderError(f"{name}.html: needs a {{% block {exc.args[0]} %}}") from None
        except jinja2.TemplateError as exc:
            raise RenderError(f"{name}.html: {exc}") from None
        full.setdefault("subject", unescape(subject))
        full.setdefault("preheader", unescape(preheader))
        html, text = self._render_pair(name, full, placeholders)
        return html, text, full["subject"], full["preheader"]

    def _template(self, name: str) -> _Template:
        try:
            return _Template(name, self._env.get_template(name))
        except jinja2.TemplateNotFound:
            folder = self._config.templates_dir
            raise RenderError(
                f"{name}: template not found in {folder} nor in the shipped templates"
            ) from None
        except jinja2.TemplateSyntaxError as exc:
            raise RenderError(f"{exc.filename or name}:{exc.lineno}: {exc.message}") from None

    # -- inlining ------------------------------------------------------------------------------

    def _inline(self, html: str, placeholders: Placeholders) -> str:
        """CSS rules moved into style attributes; @media rules stay in a <style> block."""
        try:
            root = lxml_html.document_fromstring(html)
        except (etree.ParserError, ValueError) as exc:
            raise RenderError(f"the rendered HTML cannot be parsed: {exc}") from None
        inliner = premailer.Premailer(
            # URLs are made absolute below: premailer's own rewrite would turn the
            # unsubscribe placeholder into {base_url}/%%unsubscribe_url_...%%.
            disable_link_rewrites=True,
            strip_important=False,
            keep_style_tags=False,
            remove_classes=False,
            allow_network=False,
            # The templates set width/height attributes on purpose (Outlook reads them); CSS
            # widths such as 100% must not overwrite them.
            disable_basic_attributes=["width", "height"],
            cssutils_logging_level=logging.CRITICAL,
        )
        inliner.transform(root)
        _absolute_links(root, self._settings.newsletter.base_url, placeholders)
        body: str = etree.tostring(root, method="html", encoding="unicode")
        return "<!DOCTYPE html>\n" + body


class _Template:
    """A loaded template whose rendering errors become one-line RenderErrors."""

    def __init__(self, name: str, template: jinja2.Template) -> None:
        self.name, self._template = name, template
        self.blocks = template.blocks
        self.new_context = template.new_context

    def render(self, context: Mapping[str, Any]) -> str:
        try:
            return self._template.render(context)
        except jinja2.TemplateError as exc:
            line = _template_line(exc)
            raise RenderError(f"{self.name}{line}: {exc}") from None


def _template_line(exc: BaseException) -> str:
    tb = exc.__traceback__
    line = ""
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith((".html", ".txt", ".css")):
            line = f":{tb.tb_lineno}"
        tb = tb.tb_next
    return line


def _absolute_links(root: Any, base_url: str, placeholders: Placeholders) -> None:
    """Every href/src absolute against `base_url`; this render's placeholders, #anchors and
    mailto: kept; any other scheme (javascript:, data:, vbscript:) removed with its attribute."""
    base = base_url.rstrip("/") + "/"
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for attribute in ("href", "src"):
            value = element.get(attribute)
            if value is None:
                continue
            value = value.strip()
            if placeholders.is_marker(value) or value.startswith("#"):
                continue
            if attribute == "href" and value.lower().startswith("mailto:"):
                continue
            absolute = http_url(value) or (None if _has_scheme(value) else _joined(base, value))
            if absolute is None:
                del element.attrib[attribute]
            else:
                element.set(attribute, absolute)


def _has_scheme(value: str) -> bool:
    try:
        return bool(urlsplit(value).scheme)
    except ValueError:
        return True


def _joined(base: str, value: str) -> str | None:
    try:
        return http_url(urljoin(base, value))
    except ValueError:
        return None
