"""The desk's one-screen editor over HTTP: the autosave endpoint (save, add, remove, dismiss
in one request), the inbox panel and its bulk actions, one draft at a time, numbers given at
sending, the pre-send check, test copies to several addresses and the send-now progress."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from newsletter.cli import cli
from newsletter.curate import issues as issue_cases
from newsletter.curate.presend import Rules, presend_check
from newsletter.deliver.memory import MemoryProvider
from newsletter.domain.model import ArticleDraft
from newsletter.runtime import curation, jobs
from newsletter.runtime.wiring import Services
from newsletter.store import tables
from newsletter.store.issues import NewItem
from tests.desk_support import EDITOR_EMAIL, logged_in, newsroom


def memory(services: Services) -> MemoryProvider:
    provider = services.provider
    assert isinstance(provider, MemoryProvider)
    return provider


def unused_ids(services: Services) -> list[int]:
    return [article.id for article in services.store.articles.unused(100)]


def is_dismissed(services: Services, article_id: int) -> bool:
    query = select(tables.articles.c.dismissed).where(tables.articles.c.id == article_id)
    with services.store.engine.connect() as connection:
        return bool(connection.execute(query).scalar_one())


def more_articles(services: Services, count: int, title: str = "Brève") -> None:
    store, now = services.store, services.clock()
    drafts = [
        ArticleDraft(
            feed_name="frenchweb",
            guid=f"more-{title}-{index}",
            url=f"https://www.frenchweb.fr/more-{index}/",
            title=f"{title} {index}",
            summary="Un résumé.",
            content_html="",
            image_url="javascript:alert(1)",
            author=None,
            published_at=now - timedelta(minutes=index),
        )
        for index in range(count)
    ]
    store.articles.add(store.feeds.id_of("frenchweb"), drafts, now)


def test_autosave_saves_adds_removes_and_dismisses_in_one_request(services: Services) -> None:
    issue = newsroom(services, articles=4)
    more_articles(services, 3)
    client, csrf = logged_in(services)
    kept, gone = issue.items[0].article.id, issue.items[1].article.id
    new, dismissed = unused_ids(services)[:2]
    form = {
        "csrf": csrf,
        "subject": "Objet de la semaine",
        "preheader": "Un aperçu",
        "intro": "Bonjour",
        "item": [str(i.article.id) for i in issue.items],
        "add": [str(new), "1 OR 1=1", "-3", "99999999999999"],  # hostile ids: ignored
        "remove": [str(gone)],
        "dismiss": [str(dismissed)],
    }
    response = client.post(f"/desk/issues/{issue.id}/edit", data=form)
    assert response.status_code == 200, response.text
    answer = response.json()
    saved = services.store.issues.get(issue.id)
    assert saved is not None
    ids = [item.article.id for item in saved.items]
    assert kept in ids and new in ids and gone not in ids and len(ids) == 4
    assert (saved.subject, saved.preheader, saved.intro) == (
        "Objet de la semaine",
        "Un aperçu",
        "Bonjour",
    )
    assert is_dismissed(services, dismissed) and not is_dismissed(services, new)
    assert answer["count"] == 4 and answer["panel"] is True
    assert f'id="item-{new}"' in answer["items"] and f'id="item-{gone}"' not in answer["items"]
    assert answer["subject"] == "Objet de la semaine"
    # A plain text edit: no re-render of the rows; the check follows the content.
    form = {
        "csrf": csrf,
        "subject": "Objet",
        "preheader": "",
        "intro": "",
        "item": [str(i) for i in ids],
    }
    answer = client.post(f"/desk/issues/{issue.id}/edit", data=form).json()
    assert answer["items"] is None
    assert "L’introduction est vide" in answer["checks"]
    # Without the CSRF token, nothing is saved.
    refused = client.post(
        f"/desk/issues/{issue.id}/edit", data={**form, "csrf": "x", "subject": "Pirate"}
    )
    assert refused.status_code == 403
    assert services.store.issues.get(issue.id).subject == "Objet"  # type: ignore[union-attr]
    # Once scheduled, the editor cannot change it.
    issue_cases.schedule(services.store.issues, issue.id, services.clock() + timedelta(days=1))
    late = client.post(f"/desk/issues/{issue.id}/edit", data=form)
    assert late.status_code == 409 and "état" in late.json()["error"]


def test_panel_rows_search_without_accents_and_never_link_a_script(services: Services) -> None:
    issue = newsroom(services, articles=4)
    more_articles(services, 2)
    more_articles(services, 1, title="Générative : un robot conversationnel pour artisans")
    client, _ = logged_in(services)
    panel = client.get(f"/desk/issues/{issue.id}/panel", params={"q": "GENERATIVE"})
    assert panel.status_code == 200
    assert "Générative : un robot conversationnel pour artisans 0" in panel.text
    assert "Brève 0" not in panel.text
    everything = client.get(f"/desk/issues/{issue.id}/panel").text
    assert "javascript:" not in everything  # a feed's image URL is shown only when http(s)
    inbox = client.get("/desk/inbox", params={"q": "generative"})
    assert (
        "Générative : un robot conversationnel pour artisans 0" in inbox.text
        and "Brève 1" not in inbox.text
    )


def test_inbox_bulk_add_opens_the_one_draft(services: Services) -> None:
    newsroom(services, articles=4)
    client, csrf = logged_in(services)
    draft = services.store.issues.open_draft()
    assert draft is not None
    issue_cases.cancel(services.store.issues, draft.id)
    more_articles(services, 4)
    first, second, third = unused_ids(services)[:3]
    page = client.get("/desk/inbox").text
    assert "Aucun brouillon ouvert" in page
    added = client.post(
        "/desk/inbox/bulk",
        data={"csrf": csrf, "action": "add", "article_id": [str(first), str(second)]},
    )
    assert added.status_code == 303 and "ok=added" in added.headers["location"]
    opened = services.store.issues.open_draft()
    assert opened is not None and opened.id != draft.id
    assert [item.article.id for item in opened.items] == [first, second]
    client.post("/desk/inbox/bulk", data={"csrf": csrf, "action": "add", "article_id": str(third)})
    again = services.store.issues.open_draft()
    assert again is not None and again.id == opened.id and len(again.items) == 3
    client.post(
        "/desk/inbox/bulk", data={"csrf": csrf, "action": "dismiss", "article_id": [str(first)]}
    )
    assert is_dismissed(services, first)
    nothing = client.post("/desk/inbox/bulk", data={"csrf": csrf, "action": "add"})
    assert "err=nothing" in nothing.headers["location"]


def test_one_draft_at_a_time_from_the_desk_the_cli_and_the_weekly_job(services: Services) -> None:
    issue = newsroom(services, articles=4)
    more_articles(services, 5)
    client, csrf = logged_in(services)
    response = client.post("/desk/issues/draft", data={"csrf": csrf})
    assert response.headers["location"] == f"/desk/issues/{issue.id}?ok=opened"
    jobs.draft_digest(services)
    outcome = curation.draft(services)
    assert outcome.existing and outcome.issue is not None and outcome.issue.id == issue.id
    assert len(services.store.issues.all()) == 1


def test_numbers_are_given_at_sending_so_a_canceled_draft_leaves_no_gap(
    services: Services,
) -> None:
    issue = newsroom(services, articles=4, subscribers=2)
    client, _ = logged_in(services)
    issue_cases.cancel(services.store.issues, issue.id)
    article = issue.items[0].article.id
    second = services.store.issues.create(
        "MaddyNews n°{number}", [NewItem(article)], services.clock()
    )
    # Before sending: the number it would get, in the desk and the preview's subject.
    assert (second.number, second.numbered) == (1, False)
    page = client.get(f"/desk/issues/{second.id}").text
    assert "MaddyNews n°1" in page and "{number}" not in page.split('id="subject"')[0]
    copy = client.get(f"/desk/issues/{second.id}/preview.html").text
    assert "n°1" in copy
    issue_cases.send_now(services.store.issues, second.id, services.clock())
    jobs.dispatch_due(services)
    sent = services.store.issues.get(second.id)
    assert sent is not None and (sent.number, sent.numbered) == (1, True)
    assert sent.subject == "MaddyNews n°1"
    assert {copy.copy.subject for copy in memory(services).sent} == {"MaddyNews n°1"}
    archive = client.get("/archive").text
    assert "N°1" in archive and "N°2" not in archive
    canceled = services.store.issues.get(issue.id)
    assert canceled is not None and not canceled.numbered and canceled.number == 2


def test_presend_check_names_each_problem() -> None:
    from tests.sample_issue import sample_issue

    issue = sample_issue()
    now = max(item.article.published_at or item.article.collected_at for item in issue.items)
    rules = Rules(default_subject=issue.subject, now=now + timedelta(days=30))
    alerts = presend_check(
        replace(issue, intro="Voir [ici](javascript:alert(1)) et <ftp://x>", preheader=""),
        "<p>" + "x" * 110_000 + "</p><img src='https://a.example/i.png'>",
        rules,
    )
    kinds = {alert.kind for alert in alerts}
    assert {"subject", "preheader", "link", "old", "size", "alt"} <= kinds
    assert sum(alert.kind == "link" for alert in alerts) == 2
    clean = presend_check(
        replace(
            issue,
            subject="Un objet choisi",
            preheader="Un aperçu choisi",
            intro="Bonjour [ici](https://example.org)",
        ),
        "<p>ok</p>",
        Rules(default_subject="{name} n°{number}", now=now),
    )
    assert [
        alert.kind
        for alert in clean
        if alert.kind in ("subject", "preheader", "intro", "link", "old", "size")
    ] == []


def test_test_copies_to_several_addresses_all_or_none(services: Services) -> None:
    issue = newsroom(services)
    client, csrf = logged_in(services)
    response = client.post(
        f"/desk/issues/{issue.id}/test",
        data={
            "csrf": csrf,
            "email": f"{EDITOR_EMAIL}, relecture@example.org;\nchef@example.org",
            "next": f"/desk/issues/{issue.id}",
        },
    )
    assert response.headers["location"] == f"/desk/issues/{issue.id}?ok=tested_many"
    assert sorted(sent.recipient.email for sent in memory(services).sent) == sorted(
        [EDITOR_EMAIL, "relecture@example.org", "chef@example.org"]
    )
    bad = client.post(
        f"/desk/issues/{issue.id}/test",
        data={
            "csrf": csrf,
            "email": "ok@example.org, pas-une-adresse",
            "next": "https://evil.example/",
        },
    )
    assert bad.headers["location"] == f"/desk/issues/{issue.id}/preview?err=address"
    assert len(memory(services).sent) == 3  # nothing more went out


def test_send_now_says_sending_with_the_audience_at_once(services: Services) -> None:
    issue = newsroom(services, subscribers=5)
    client, csrf = logged_in(services)
    client.post(f"/desk/issues/{issue.id}/send", data={"csrf": csrf, "confirm": "yes"})
    progress = client.get(f"/desk/issues/{issue.id}/progress.json").json()
    assert progress["sending"] is True and progress["label"] == "Envoi en cours"
    assert (progress["total"], progress["pending"], progress["sent"]) == (5, 5, 0)
    page = client.get(f"/desk/issues/{issue.id}").text
    assert 'id="sending-banner"' in page and "Programmé" not in page.split("</h1>")[0]
    jobs.dispatch_due(services)
    done = client.get(f"/desk/issues/{issue.id}/progress.json").json()
    assert done["sending"] is False and done["sent"] == 5 and done["state"] == "sent"
    assert 'id="sending-banner"' not in client.get(f"/desk/issues/{issue.id}").text


def test_cli_check_and_test_copies(services: Services) -> None:
    from click.testing import CliRunner

    issue = newsroom(services)
    path = str(services.config.path)
    runner = CliRunner()
    checked = runner.invoke(cli, ["issue", "check", str(issue.id), "--json", "--config", path])
    assert checked.exit_code == 0, checked.output
    kinds = {w["kind"] for w in json.loads(checked.output)["warnings"]}
    assert "subject" in kinds and "intro" in kinds
    to = ["--to", "a@example.org", "--to", "b@example.org"]
    copies = runner.invoke(cli, ["issue", "test", str(issue.id), *to, "--config", path])
    assert copies.exit_code == 0, copies.output
    assert "sent to a@example.org" in copies.output and "sent to b@example.org" in copies.output
    outbox = services.config.path.parent / "outbox"
    assert len(list(outbox.glob("*.eml"))) == 2
