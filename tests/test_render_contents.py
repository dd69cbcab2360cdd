"""The digest's "Au sommaire": the same titles, and the same count of the others, in the HTML
part and the plain-text part."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.domain.delivery import RenderedMessage
from newsletter.render.renderer import Renderer
from tests.render_support import parse, render_config
from tests.sample_issue import sample_issue


def rendered(tmp_path: Path, articles: int) -> RenderedMessage:
    return Renderer(render_config(tmp_path)).render_issue(sample_issue(articles))


def html_contents(message: RenderedMessage) -> list[str]:
    items = parse(message.html).xpath("//ul[contains(@class, 'nl-toc-list')]/li")
    return [" ".join(item.text_content().split()) for item in items]


def text_contents(message: RenderedMessage) -> list[str]:
    """The text part's list under AU SOMMAIRE, each entry unwrapped onto one line."""
    lines = message.text.splitlines()
    if "AU SOMMAIRE" not in lines:
        return []
    entries: list[str] = []
    for line in lines[lines.index("AU SOMMAIRE") + 3 :]:
        if line.startswith("- "):
            entries.append(line[2:])
        elif line.startswith("  ") and entries:
            entries[-1] += " " + line.strip()
        else:
            break
    return [" ".join(entry.split()) for entry in entries]


@pytest.mark.parametrize(
    ("articles", "others"),
    [(3, None), (6, None), (7, "et 1 autre article"), (9, "et 3 autres articles")],
)
def test_both_parts_list_the_first_six_titles_then_the_others_count(
    tmp_path: Path, articles: int, others: str | None
) -> None:
    """From three articles on, both parts open with the issue's first six titles in order,
    then how many more follow."""
    message = rendered(tmp_path, articles)
    issue = sample_issue(articles)
    titles = [
        " ".join(item.article.title.split())  # spaces of any kind (typography) as one
        for item in sorted(issue.items, key=lambda i: i.position)
    ]
    expected = titles[:6] + ([others] if others else [])
    assert expected == html_contents(message)
    assert expected == text_contents(message)
    assert message.text.index("AU SOMMAIRE") < message.text.index("Lire la suite")


def test_a_two_article_issue_has_no_contents(tmp_path: Path) -> None:
    """Two articles are read at a glance: neither part lists them first."""
    message = rendered(tmp_path, 2)
    assert html_contents(message) == [] and text_contents(message) == []
    assert "Au sommaire" not in message.html and "AU SOMMAIRE" not in message.text
