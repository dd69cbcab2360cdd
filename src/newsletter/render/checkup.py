"""Renders every email with sample values, so `doctor` proves each template works (a missing
block, a typo or an undefined variable fails here, not at the first sign-up or send)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from newsletter.domain.errors import RenderError
from newsletter.domain.model import Article, Issue, IssueItem, IssueState
from newsletter.render.renderer import TRANSACTIONAL, Renderer


@dataclass(frozen=True)
class TemplateCheck:
    email: str  # digest, confirm, welcome or test
    error: str | None  # the one-line RenderError, or None when it rendered


def check_every_email(renderer: Renderer, now: datetime) -> list[TemplateCheck]:
    """Each email (the digest and every transactional one) rendered once with sample values."""
    checks = [_check("digest", lambda: renderer.render_issue(sample_issue(now)))]
    for name in TRANSACTIONAL:
        context = sample_context(name, renderer.config.settings.newsletter.base_url)
        checks.append(_check(name, partial(renderer.render_email, name, context)))
    return checks


def sample_issue(now: datetime) -> Issue:
    """A one-article issue with every field a template may show."""
    article = Article(
        id=1,
        feed_name="Sample feed",
        guid="sample",
        url="https://example.org/sample",
        title="Sample article",
        summary="A sample summary.",
        content_html="<p>A sample summary.</p>",
        image_url="https://example.org/sample.jpg",
        author="Sample Author",
        published_at=now,
        collected_at=now,
        section="Sample section",
        image_width=600,
        image_height=300,
    )
    return Issue(
        id=1,
        number=1,
        state=IssueState.DRAFT,
        subject="{name} #{number}",
        preheader="A sample preheader",
        intro="A sample *introduction*.",
        created_at=now,
        items=(IssueItem(article=article, position=1),),
    )


def sample_context(email: str, base_url: str) -> Mapping[str, object]:
    """The values the outbox gives each transactional email (see audience/outbox.py)."""
    context: dict[str, object] = {"name": "Sample", "newsletter_name": "Sample"}
    if email == "confirm":
        context.update(confirm_url=f"{base_url}/confirm/sample", confirm_days=7)
    return context


def _check(email: str, render: Callable[[], object]) -> TemplateCheck:
    try:
        render()
    except RenderError as exc:
        return TemplateCheck(email, str(exc).splitlines()[0])
    return TemplateCheck(email, None)
