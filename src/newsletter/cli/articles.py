"""`newsletter articles`: the inbox as stories, best first."""

from __future__ import annotations

import click

from newsletter.cli.options import config_option, json_option, services
from newsletter.cli.output import emit, table
from newsletter.domain.funding import FundingFacts, display_amount


@click.command()
@config_option
@json_option
@click.option(
    "--q",
    "q",
    metavar="TEXT",
    help="Only stories whose titles or summaries contain TEXT (accents and case aside).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="At most this many stories.",
)
def articles(as_json: bool, q: str | None, limit: int) -> None:
    """The inbox as stories, best first: articles no issue uses yet and no editor dismissed,
    the same news from several sources told once (its best-written source leads).

    \b
    Example:
        newsletter articles --q "levée" --limit 10 --json
    """
    from newsletter.runtime.curation import inbox_stories

    with services() as svc:
        found = inbox_stories(svc, q=q, limit=limit)
    data = {"stories": [story.to_json() for story in found]}
    emit(
        as_json,
        data,
        lambda: table(
            f"{len(found)} story(ies)",
            ["id", "score", "title", "sources", "section", "funding"],
            [
                [
                    story.id,
                    f"{story.score.total:.2f}",
                    story.lead.title,
                    ", ".join(dict.fromkeys(a.source_name for a in story.articles)),
                    story.section or "",
                    _funding(story.funding) if story.funding else "",
                ]
                for story in found
            ],
        ),
    )


def _funding(facts: FundingFacts) -> str:
    amount = display_amount(facts.amount, facts.currency)
    return " · ".join(part for part in (facts.company, amount, facts.round or "") if part)
