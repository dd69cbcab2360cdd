"""The desk's issue workflow over HTTP: inbox, editing, preview, test copy, scheduling,
sending through the scheduler tick, progress and results, subscribers."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from newsletter.deliver.memory import MemoryProvider
from newsletter.domain.clock import FrozenClock
from newsletter.domain.model import ArticleDraft, IssueState
from newsletter.domain.readers import SubscriberStatus
from newsletter.runtime import jobs
from newsletter.runtime.wiring import Services
from tests.desk_support import EDITOR_EMAIL, logged_in, newsroom


def as_form(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Form fields in order, repeated keys kept (what a browser posts)."""
    form: dict[str, list[str]] = {}
    for key, value in pairs:
        form.setdefault(key, []).append(value)
    return form


def memory(services: Services) -> MemoryProvider:
    provider = services.provider
    assert isinstance(provider, MemoryProvider)
    return provider


def test_editor_reorders_and_overrides_without_touching_articles(services: Services) -> None:
    """Saving the form stores its order, sections and per-item title/summary overrides; the
    articles themselves keep their own title and summary."""
    issue = newsroom(services)
    client, csrf = logged_in(services)
    ids = [item.article.id for item in issue.items]
    first, second = ids[0], ids[1]
    form: list[tuple[str, str]] = [("csrf", csrf), ("subject", "Le n°1 de la semaine")]
    form += [("preheader", "Levées de fonds et IA"), ("intro", "Bonjour **à tous** !")]
    for article_id in [second, first, *ids[2:]]:
        item = next(i for i in issue.items if i.article.id == article_id)
        form += [("item", str(article_id)), (f"section-{article_id}", item.section or "")]
        form += [(f"title-{article_id}", item.article.title)]
        form += [(f"summary-{article_id}", item.article.summary)]
    form = [
        (key, "Un résumé réécrit\r\npour l’e-mail." if key == f"summary-{first}" else value)
        for key, value in form
    ]
    form = [(key, "Titre court" if key == f"title-{second}" else value) for key, value in form]
    response = client.post(f"/desk/issues/{issue.id}", data=as_form(form))
    assert response.status_code == 303
    saved = services.store.issues.get(issue.id)
    assert saved is not None
    assert [item.article.id for item in saved.items] == [second, first, *ids[2:]]
    assert saved.items[0].title == "Titre court" and saved.items[0].summary is None
    assert saved.items[1].summary == "Un résumé réécrit\npour l’e-mail."
    assert saved.items[1].title is None
    assert (saved.subject, saved.preheader, saved.intro) == (
        "Le n°1 de la semaine",
        "Levées de fonds et IA",
        "Bonjour **à tous** !",
    )
    untouched = services.store.articles.get(first)
    assert untouched is not None and untouched.summary == issue.items[0].article.summary


def test_move_and_remove_buttons_work_without_javascript(services: Services) -> None:
    """The Up/Down/Remove buttons are submit buttons the server applies."""
    issue = newsroom(services)
    client, csrf = logged_in(services)
    ids = [item.article.id for item in issue.items]
    base = [("csrf", csrf)] + [("item", str(i)) for i in ids]
    client.post(f"/desk/issues/{issue.id}", data=as_form([*base, ("move", f"down:{ids[0]}")]))
    moved = services.store.issues.get(issue.id)
    assert moved is not None
    assert [i.article.id for i in moved.items] == [ids[1], ids[0], *ids[2:]]
    client.post(f"/desk/issues/{issue.id}", data=as_form([*base, ("remove", str(ids[2]))]))
    removed = services.store.issues.get(issue.id)
    assert removed is not None
    assert ids[2] not in [i.article.id for i in removed.items]
    assert len(removed.items) == len(ids) - 1


def test_inbox_filters_dismisses_and_adds(services: Services, clock: FrozenClock) -> None:
    """The inbox lists the stories no issue uses, filters them by feed, text and date,
    dismisses and restores, and adds a story's lead article to the open draft."""
    issue = newsroom(services, articles=4)
    client, csrf = logged_in(services)

    def article(feed: str, guid: str, title: str, when: datetime) -> ArticleDraft:
        return ArticleDraft(
            feed_name=feed,
            guid=guid,
            url=f"https://www.{feed}.example.fr/{guid}/",
            title=title,
            summary="Tardif.",
            content_html="",
            image_url=None,
            author=None,
            published_at=when,
        )

    store = services.store
    newcomer = article("frenchweb", "late", "Un article arrivé après le brouillon", clock())
    store.articles.add(store.feeds.id_of("frenchweb"), [newcomer], clock())
    older = article(
        "maddyness",
        "older",
        "Robotique : un atelier à Nantes",
        datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
    )
    store.articles.add(store.feeds.id_of("maddyness"), [older], clock())
    late = next(a for a in store.articles.recent() if a.guid == "late")
    page = client.get("/desk/inbox").text
    assert "Un article arrivé après le brouillon" in page and "atelier à Nantes" in page
    assert issue.items[0].article.title not in page  # the draft's articles are not inbox stories
    only_feed = client.get("/desk/inbox", params={"feed": "maddyness"}).text
    assert "Un article arrivé" not in only_feed and "atelier à Nantes" in only_feed
    by_text = client.get("/desk/inbox", params={"q": "ARTICLE arrivé"}).text
    assert "Un article arrivé" in by_text and "atelier à Nantes" not in by_text
    by_date = client.get("/desk/inbox", params={"since": "2026-01-05", "until": "2026-01-05"})
    assert "atelier à Nantes" in by_date.text and "Un article arrivé" not in by_date.text

    added = client.post(
        f"/desk/issues/{issue.id}/add",
        data={"csrf": csrf, "article_id": str(late.id), "next": "/desk/inbox"},
    )
    assert added.status_code == 303 and added.headers["location"].startswith("/desk/inbox")
    grown = store.issues.get(issue.id)
    assert grown is not None and grown.items[-1].article.id == late.id
    assert "Un article arrivé" not in client.get("/desk/inbox").text

    other = next(a for a in store.articles.recent() if a.guid == "older").id
    client.post(f"/desk/articles/{other}/dismiss", data={"csrf": csrf})
    assert "atelier à Nantes" not in client.get("/desk/inbox").text
    client.post(f"/desk/articles/{other}/dismiss", data={"csrf": csrf, "restore": "1"})
    assert "atelier à Nantes" in client.get("/desk/inbox").text


def test_feed_text_is_escaped_everywhere(services: Services, clock: FrozenClock) -> None:
    """Titles and summaries from feeds are plain text in every desk page."""
    newsroom(services)
    hostile = ArticleDraft(
        feed_name="maddyness",
        guid="evil",
        url="javascript:alert(1)",
        title='<script>alert("t")</script><img src=x onerror=alert(2)>',
        summary="<b onmouseover=alert(3)>résumé</b>",
        content_html="",
        image_url=None,
        author=None,
        published_at=clock(),
    )
    # Another story (days apart), left in the inbox while the first goes in the issue.
    kept = replace(hostile, guid="evil-kept", published_at=clock() - timedelta(days=10))
    services.store.articles.add(services.store.feeds.id_of("maddyness"), [hostile], clock())
    services.store.articles.add(services.store.feeds.id_of("maddyness"), [kept], clock())
    client, csrf = logged_in(services)
    evil = next(a for a in services.store.articles.recent() if a.guid == "evil")
    issue_id = services.store.issues.all()[0][0].id
    client.post(f"/desk/issues/{issue_id}/add", data={"csrf": csrf, "article_id": str(evil.id)})
    for url in ("/desk/inbox", f"/desk/issues/{issue_id}", f"/desk/issues/{issue_id}/preview"):
        page = client.get(url).text
        assert "<script>alert" not in page, url
        assert "<img src=x" not in page and "<b onmouseover" not in page, url
        assert 'href="javascript:' not in page, url
        assert "&lt;script&gt;" in page, url


def test_preview_is_the_personalised_email_with_checks(services: Services) -> None:
    """The preview frames serve the rendered email without placeholders, under a strict
    policy; the page shows its size against Gmail's limit and the warnings."""
    issue = newsroom(services)
    client, csrf = logged_in(services)
    first = issue.items[0].article.id
    form = [("csrf", csrf)] + [("item", str(i.article.id)) for i in issue.items]
    form += [(f"title-{first}", "Titre"), (f"summary-{first}", "")]
    client.post(f"/desk/issues/{issue.id}", data=as_form(form))
    html = client.get(f"/desk/issues/{issue.id}/preview.html")
    assert html.status_code == 200
    assert "%%" not in html.text and "Titre" in html.text
    assert "script-src" not in html.headers["content-security-policy"]
    assert "default-src 'none'" in html.headers["content-security-policy"]
    text = client.get(f"/desk/issues/{issue.id}/preview.txt")
    assert text.headers["content-type"].startswith("text/plain") and "%%" not in text.text
    page = client.get(f"/desk/issues/{issue.id}/preview").text
    assert "sur 102 Ko avant que Gmail" in page
    assert "n’a pas de résumé" in page
    assert 'width="375"' in page and 'width="640"' in page


def test_test_copy_goes_to_the_editor(services: Services) -> None:
    """A test copy is marked [TEST], goes to the editor's address and stays off the ledger."""
    issue = newsroom(services)
    client, csrf = logged_in(services)
    response = client.post(f"/desk/issues/{issue.id}/test", data={"csrf": csrf, "email": ""})
    assert response.status_code == 303 and "ok=tested" in response.headers["location"]
    copies = memory(services).to(EDITOR_EMAIL)
    assert len(copies) == 1 and copies[0].copy.subject.startswith("[TEST]")
    assert services.store.deliveries.status(issue.id, issue.state).total == 0
    bad = client.post(f"/desk/issues/{issue.id}/test", data={"csrf": csrf, "email": "nope"})
    assert "err=address" in bad.headers["location"]


def test_schedule_uses_the_newsletter_time_zone(services: Services) -> None:
    """A date and time typed in the desk are Paris time; past times are refused; unschedule
    and cancel move the issue back and away, and a canceled issue can be reopened."""
    issue = newsroom(services)
    client, csrf = logged_in(services)
    url = f"/desk/issues/{issue.id}"
    past = client.post(
        f"{url}/schedule", data={"csrf": csrf, "date": "2026-11-01", "time": "08:00"}
    )
    assert "err=past" in past.headers["location"]
    client.post(f"{url}/schedule", data={"csrf": csrf, "date": "2026-11-30", "time": "08:00"})
    scheduled = services.store.issues.get(issue.id)
    assert scheduled is not None and scheduled.state is IssueState.SCHEDULED
    assert scheduled.send_at == datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    assert "30 novembre 2026, 08:00" in client.get(url).text
    refused = client.post(url, data={"csrf": csrf, "subject": "Changé"})
    assert "err=state" in refused.headers["location"]
    client.post(f"{url}/unschedule", data={"csrf": csrf})
    draft = services.store.issues.get(issue.id)
    assert draft is not None and draft.state is IssueState.DRAFT and draft.send_at is None
    client.post(f"{url}/cancel", data={"csrf": csrf})
    canceled = services.store.issues.get(issue.id)
    assert canceled is not None and canceled.state is IssueState.CANCELED
    client.post(f"{url}/reopen", data={"csrf": csrf})
    reopened = services.store.issues.get(issue.id)
    assert reopened is not None and reopened.state is IssueState.DRAFT


def test_send_now_confirms_the_audience_and_the_tick_sends(
    services: Services, clock: FrozenClock
) -> None:
    """Send now shows the audience size, needs the confirmation box, and hands the issue to
    the scheduler: the next dispatch tick sends it; progress and results follow."""
    issue = newsroom(services, subscribers=4)
    services.store.subscribers.add(
        "parti@example.org", None, SubscriberStatus.UNSUBSCRIBED, clock()
    )
    client, csrf = logged_in(services)
    url = f"/desk/issues/{issue.id}"
    confirm = client.get(f"{url}/send").text
    assert "4 abonné(s) actif(s)" in confirm
    unconfirmed = client.post(f"{url}/send", data={"csrf": csrf})
    assert "err=confirm" in unconfirmed.headers["location"]
    assert services.store.issues.get(issue.id).state is IssueState.DRAFT  # type: ignore[union-attr]
    client.post(f"{url}/send", data={"csrf": csrf, "confirm": "yes"})
    queued = services.store.issues.get(issue.id)
    assert queued is not None and queued.state is IssueState.SCHEDULED
    assert queued.send_at == clock()
    assert client.get(f"{url}/progress.json").json()["state"] == "scheduled"

    jobs.dispatch_due(services)

    progress = client.get(f"{url}/progress.json").json()
    assert progress["state"] == "sent"
    assert (progress["total"], progress["sent"], progress["percent"]) == (4, 4, 100)
    assert len(memory(services).sent) == 4
    results = client.get(url).text
    assert "Résultats" in results and "ouvertures" in results and "désinscriptions" in results


def test_subscribers_page_searches_and_exports(services: Services, clock: FrozenClock) -> None:
    """Search by address, filter by status, export the list as CSV."""
    newsroom(services, subscribers=3)
    services.store.subscribers.add("zoe@exemple.fr", "Zoé", SubscriberStatus.PENDING, clock())
    client, _ = logged_in(services)
    found = client.get("/desk/subscribers", params={"q": "ZOE"}).text
    assert "zoe@exemple.fr" in found and "lecteur0@example.org" not in found
    pending = client.get("/desk/subscribers", params={"status": "pending"}).text
    assert "zoe@exemple.fr" in pending and "lecteur1@example.org" not in pending
    exported = client.get("/desk/subscribers/export.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {row["email"] for row in rows} == {
        "lecteur0@example.org",
        "lecteur1@example.org",
        "lecteur2@example.org",
        "zoe@exemple.fr",
    }


def test_dashboard_shows_draft_growth_and_feed_health(services: Services) -> None:
    """The dashboard links the open draft, draws the growth chart and counts failing feeds."""
    issue = newsroom(services)
    client, _ = logged_in(services)
    page = client.get("/desk").text
    assert f"/desk/issues/{issue.id}" in page
    assert "<svg" in page and "Abonnés actifs par semaine" in page
    assert "tous en bonne santé" in page


def test_a_full_issue_form_is_not_refused_for_its_size(services: Services) -> None:
    """Twelve articles with long French summaries make a form far above the public endpoints'
    body limit; the desk still saves it."""
    issue = newsroom(services, articles=12)
    client, csrf = logged_in(services)
    summary = "Une très longue présentation, réécrite à la main pour l’e-mail. " * 10
    pairs = [("csrf", csrf), ("subject", issue.subject)]
    for item in issue.items:
        article_id = item.article.id
        pairs += [("item", str(article_id)), (f"title-{article_id}", item.article.title)]
        pairs += [(f"summary-{article_id}", summary), (f"section-{article_id}", "À la une")]
    response = client.post(f"/desk/issues/{issue.id}", data=as_form(pairs))
    assert response.status_code == 303, response.text[:200]
    saved = services.store.issues.get(issue.id)
    assert saved is not None and all(i.summary == summary.strip() for i in saved.items)
