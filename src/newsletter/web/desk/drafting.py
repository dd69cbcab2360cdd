"""What the issue pages share: loading an issue, its email as a reader gets it, the pre-send
check, its items grouped by section as the email groups them, and reading the editor's form."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from fastapi import HTTPException
from starlette.datastructures import FormData

from newsletter.curate import issues as issue_cases
from newsletter.curate.editors import Editor
from newsletter.curate.presend import Alert, presend_check
from newsletter.domain.errors import NewsletterError
from newsletter.domain.model import Article, Issue, IssueItem
from newsletter.render.personalise import PersonalCopy, personalise
from newsletter.runtime import curation
from newsletter.store.issues import NewItem
from newsletter.web.desk.requests import Desk
from newsletter.web.desk.requests import field as form_field


@dataclass
class Group:
    """Consecutive items under one section heading, as the email shows them."""

    heading: str | None
    items: list[IssueItem] = field(default_factory=list)


def load(desk: Desk, issue_id: int) -> Issue:
    issue = desk.services.store.issues.get(issue_id)
    if issue is None:
        raise HTTPException(404, "no such issue")
    return issue


def preview_copy(desk: Desk, issue: Issue, editor: Editor | None) -> PersonalCopy:
    """The exact email as a reader gets it, personalised for the editor (inert unsubscribe);
    an unsent issue shows the number it would get if it were sent next."""
    rendered = desk.services.renderer.render_issue(issue)
    email = (editor.email if editor else None) or "apercu@example.org"
    recipient = issue_cases.test_recipient(desk.settings.newsletter.base_url, email)
    return personalise(rendered, recipient)


def presend_alerts(desk: Desk, issue: Issue, html: str | None) -> list[Alert]:
    """The one pre-send check, with the desk's configuration and clock."""
    return presend_check(issue, html, curation.presend_rules(desk.services.config, desk.now()))


def checked_preview(desk: Desk, issue: Issue, editor: Editor | None) -> tuple[list[Alert], str]:
    """The pre-send alerts of the issue's preview copy, and the copy's subject; when the copy
    cannot be made, the one alert saying why (and no subject)."""
    try:
        copy = preview_copy(desk, issue, editor)
    except NewsletterError as exc:
        return [Alert("render", f"L’e-mail n’a pas pu être généré : {exc}")], ""
    return presend_alerts(desk, issue, copy.html), copy.subject


def groups(items: Sequence[IssueItem]) -> list[Group]:
    """The items in order, grouped under their section heading as they come (as the email)."""
    found: list[Group] = []
    for item in items:
        heading = item.section or item.article.section
        if not found or found[-1].heading != heading:
            found.append(Group(heading))
        found[-1].items.append(item)
    return found


def ids_in(form: FormData, name: str) -> list[int]:
    """The row ids a form lists under `name`, in order, once each; anything else is ignored."""
    found: list[int] = []
    for raw in form.getlist(name):
        text = str(raw).strip()
        if text.isdigit() and len(text) < 10 and int(text) not in found:
            found.append(int(text))
    return found


def kept(items: Sequence[IssueItem]) -> list[NewItem]:
    """The items as they are saved, overrides included."""
    return [
        NewItem(article_id=i.article.id, section=i.section, title=i.title, summary=i.summary)
        for i in items
    ]


def with_added(items: list[NewItem], added: Sequence[Article]) -> list[NewItem]:
    """`items` with the articles not in them yet, each after the last item of its section (so
    the email's sections stay together), else at the end."""
    result = list(items)
    for article in added:
        if any(item.article_id == article.id for item in result):
            continue
        same = [i for i, item in enumerate(result) if item.section == article.section]
        at = same[-1] + 1 if same and article.section else len(result)
        result.insert(at, NewItem(article_id=article.id, section=article.section))
    return result


def items_from_form(issue: Issue, form: FormData) -> list[NewItem]:
    """The issue's items in the order the form lists them, with the editor's overrides.

    Only articles already in the issue count; the removals (`remove`, one or many) and a move
    asked by a button (`move=up:ID`) are applied after. A title or summary equal to the
    article's own is stored as no override.
    """
    current = {item.article.id: item for item in issue.items}
    order = [article_id for article_id in ids_in(form, "item") if article_id in current]
    order += [article_id for article_id in current if article_id not in order]
    removed = set(ids_in(form, "remove"))
    if form.get("remove_picked"):  # "Retirer la sélection" without the script
        removed |= set(ids_in(form, "pick"))
    order = [i for i in order if i not in removed]
    direction, _, moved = str(form.get("move", "")).partition(":")
    if moved.isdigit() and int(moved) in order:
        at = order.index(int(moved))
        to = at - 1 if direction == "up" else at + 1 if direction == "down" else at
        if 0 <= to < len(order):
            order[at], order[to] = order[to], order[at]
    items: list[NewItem] = []
    for article_id in order:
        article = current[article_id].article
        if f"title-{article_id}" in form:
            title = form_field(form, f"title-{article_id}", 500)
            summary = form_field(form, f"summary-{article_id}", 3000, multiline=True)
            section = form_field(form, f"section-{article_id}", 200) or None
        else:
            kept = current[article_id]
            title, summary, section = kept.display_title, kept.display_summary, kept.section
        items.append(
            NewItem(
                article_id=article_id,
                section=section,
                title=title if title and title != article.title else None,
                summary=summary if summary != article.summary.strip() else None,
            )
        )
    return items


def save_form(desk: Desk, issue: Issue, form: FormData, added: Sequence[Article] = ()) -> None:
    """Save what the editor's form holds (and the articles added) as the issue's content."""
    items = with_added(items_from_form(issue, form), added)
    store = desk.services.store.issues
    store.replace_items(issue.id, items)
    store.update_content(
        issue.id,
        subject=form_field(form, "subject", 300) or None,
        preheader=form_field(form, "preheader", 300) if "preheader" in form else None,
        intro=form_field(form, "intro", 5000, multiline=True) if "intro" in form else None,
    )
