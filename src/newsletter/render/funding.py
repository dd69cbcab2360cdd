"""The digest's "Levées de fonds de la semaine": one line per funding round of the issue."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from newsletter.domain.french import fold
from newsletter.domain.funding import display_amount
from newsletter.domain.model import Issue, IssueItem


@dataclass(frozen=True)
class FundingView:
    """One round as templates see it: plain text fields and the story's checked link."""

    company: str
    amount: str  # "12 M€", or "" when not known
    round: str | None
    investors: tuple[str, ...]
    url: str | None


def funding_rows(
    issue: Issue, link: Callable[[IssueItem], str | None], typo: Callable[[str], str]
) -> list[FundingView]:
    """The rounds the issue's stories announce, in issue order, each company once."""
    rows: dict[str, FundingView] = {}
    for item in sorted(issue.items, key=lambda i: i.position):
        facts = item.article.funding_facts
        if facts is None or fold(facts.company) in rows:
            continue
        rows[fold(facts.company)] = FundingView(
            company=typo(facts.company),
            amount=display_amount(facts.amount, facts.currency),
            round=facts.round,
            investors=tuple(typo(name) for name in facts.investors),
            url=link(item),
        )
    return list(rows.values())
