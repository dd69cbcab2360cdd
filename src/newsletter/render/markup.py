"""The editor's intro: a small, safe Markdown (paragraphs, emphasis, lists, quotes, http(s)
links) rendered to HTML for the email and to plain text with its links listed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

from newsletter.domain.links import http_url

# Raw HTML stays text; images (no size to give them) and headings (the layout owns them) are off.
_DISABLED = ["image", "heading", "lheading", "html_block", "html_inline", "fence", "code", "hr"]


class _AnyLinkMarkdown(MarkdownIt):
    """Parses every link so that `_unlink_unsafe` can drop unsafe ones with their URL;
    markdown-it's own check would leave `[x](javascript:...)` behind as visible text."""

    def validateLink(self, url: str) -> bool:
        return True


def _parser() -> MarkdownIt:
    parser = _AnyLinkMarkdown("commonmark", {"html": False, "typographer": False})
    parser.disable(_DISABLED)
    return parser


def _tokens(parser: MarkdownIt, source: str) -> list[Token]:
    """Parsed blocks where a link to anything but an absolute http(s) URL is just its text
    (so `[x](javascript:...)` leaves neither a link nor the URL behind)."""
    tokens = parser.parse(source)
    for block in tokens:
        if block.children:
            block.children = _unlink_unsafe(block.children)
    return tokens


def _unlink_unsafe(children: list[Token]) -> list[Token]:
    kept: list[Token] = []
    dropping = 0
    for child in children:
        if child.type == "link_open":
            if http_url(str(child.attrs.get("href", ""))) is None:
                dropping += 1
                continue
        elif child.type == "link_close" and dropping:
            dropping -= 1
            continue
        kept.append(child)
    return kept


def markdown_html(source: str) -> Markup:
    """The intro as HTML; anything that is not allowed Markdown shows as text."""
    if not source.strip():
        return Markup("")
    parser = _parser()
    return Markup(parser.renderer.render(_tokens(parser, source), parser.options, {}))


@dataclass(frozen=True)
class PlainText:
    text: str
    links: tuple[str, ...]


def markdown_text(source: str) -> PlainText:
    """The intro as plain text: paragraphs apart, `- ` bullets, each link as `text [n]`."""
    links: list[str] = []
    blocks: list[tuple[str, bool]] = []
    prefix: list[str] = []
    for token in _tokens(_parser(), source):
        if token.type in ("bullet_list_open", "ordered_list_open"):
            prefix.append("")
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            prefix.pop()
        elif token.type == "list_item_open":
            prefix[-1] = f"{token.info}{token.markup} " if token.info else "- "
        elif token.type == "blockquote_open":
            prefix.append("> ")
        elif token.type == "blockquote_close":
            prefix.pop()
        elif token.type == "inline":
            indent = "  " * max(0, len(prefix) - 1)
            line = indent + "".join(prefix[-1:]) + _inline(token.children or [], links)
            blocks.append((line, bool(prefix) and prefix[-1] != "> "))
    text = ""
    for index, (line, in_list) in enumerate(blocks):
        if index:
            text += "\n" if in_list and blocks[index - 1][1] else "\n\n"
        text += line
    return PlainText(text=text, links=tuple(links))


def _inline(children: Sequence[Token], links: list[str]) -> str:
    parts: list[str] = []
    href: str | None = None
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
        elif child.type == "link_open":
            href = str(child.attrs.get("href", ""))
        elif child.type == "link_close" and href:
            if href not in links:
                links.append(href)
            parts.append(f" [{links.index(href) + 1}]")
            href = None
    return "".join(parts)
