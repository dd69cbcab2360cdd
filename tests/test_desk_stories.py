"""The desk's inbox as stories over HTTP: one row per news with its other sources and the why
of its score, a story dismissed in one action (inbox page, bulk, editor), and its funding facts
corrected or cleared, the correction reaching the email."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from newsletter.curate.stories import Story, stories
from newsletter.deliver.memory import MemoryProvider
from newsletter.domain.clock import FrozenClock
from newsletter.domain.funding import FundingFacts
from newsletter.domain.model import ArticleDraft, FeedSource
from newsletter.runtime import config as config_module
from newsletter.runtime import curation, wiring
from newsletter.runtime.wiring import Services
from tests.conftest import sender_of
from tests.desk_support import logged_in
from tests.readers_support import SECTIONS_TOML

NEWS = [  # one news told by three sources, then two other news
    (
        "maddyness",
        "Nuvela lève 12 millions d’euros en série A pour son robot agricole",
        "La start-up Nuvela boucle une série A de 12 millions d’euros auprès de Rive Gauche "
        "Ventures pour industrialiser son robot agricole.",
    ),
    (
        "frenchweb",
        "Robot agricole : Nuvela lève 12 millions d’euros en série A",
        "Nuvela lève 12 millions d’euros pour son robot agricole.",
    ),
    (
        "lesechos",
        "Nuvela lève 12 millions d’euros pour son robot agricole",
        "Le robot agricole de Nuvela séduit : 12 millions d’euros en série A.",
    ),
    (
        "frenchweb",
        "Le Next40 accueille dix nouveaux membres",
        "La promotion annuelle du Next40 compte dix entrants.",
    ),
    (
        "maddyness",
        "Télétravail : les PME bretonnes changent de méthode",
        "Une enquête régionale sur le travail à distance.",
    ),
]


def seed_news(services: Services) -> None:
    """Three titled feeds and the news above, an hour apart."""
    store, now = services.store, services.clock()
    store.feeds.sync(
        [
            FeedSource("maddyness", "https://www.maddyness.com/feed/", None, "Maddyness"),
            FeedSource("frenchweb", "https://www.frenchweb.fr/feed", None, "FrenchWeb"),
            FeedSource("lesechos", "https://start.lesechos.fr/rss", None, "Les Echos Start"),
        ]
    )
    for index, (feed, title, summary) in enumerate(NEWS):
        collect(services, feed, f"n{index}", title, summary, now - timedelta(hours=index + 1))


def collect(
    services: Services, feed: str, guid: str, title: str, summary: str, published: datetime
) -> None:
    """One article collected from `feed` now."""
    draft = ArticleDraft(
        feed_name=feed,
        guid=guid,
        url=f"https://www.{feed}.example.fr/{guid}/",
        title=title,
        summary=summary,
        content_html="",
        image_url=None,
        author=None,
        published_at=published,
    )
    store = services.store
    store.articles.add(store.feeds.id_of(feed), [draft], services.clock())


@pytest.fixture
def desk_services(make_config: object, clock: FrozenClock) -> Iterator[Services]:
    """Services with the digest's funding block, three titled feeds and the news above."""
    config = make_config()  # type: ignore[operator]
    text = config.path.read_text(encoding="utf-8")
    config.path.write_text(text.replace("max_articles = 12", "max_articles = 12\nfunding = true"))
    config = config_module.load(config.path, {"NEWSLETTER_SECRET_KEY": "test-secret"})
    built = wiring.build(
        config, clock=clock, provider=MemoryProvider(sender=sender_of(config), batch_size=3)
    )
    built.store.migrate()
    seed_news(built)
    yield built
    built.close()


def nuvela(services: Services) -> Story:
    return next(s for s in curation.inbox_stories(services) if "Nuvela" in s.lead.title)


def rows(html: str) -> list[str]:
    """The inbox's story rows, each as its HTML."""
    return re.findall(r'<li class="row cand story".*?</li>', html, flags=re.S)


def test_two_sources_of_one_news_are_one_row_with_also_in(desk_services: Services) -> None:
    """Three articles of one news make one row: the lead's source, "Aussi dans" the others,
    and the why of its score; the inbox page and the editor's panel alike."""
    client, _ = logged_in(desk_services)
    story = nuvela(desk_services)
    assert len(story.articles) == 3
    page = client.get("/desk/inbox").text
    found = rows(page)
    assert len(found) == 3  # five articles, three news
    row = next(r for r in found if "Nuvela" in r)
    also = re.search(r"Aussi dans : ([^<]*)<", row)
    assert also is not None
    names = {"Maddyness", "FrenchWeb", "Les Echos Start"}
    assert set(also.group(1).split(", ")) == names - {story.lead.source_name}
    assert "3 sources" in row and "poids du flux 1,00" in row and "clics ×1,00" in row
    assert sum(title in page for _, title, _ in NEWS[:3]) == 1  # the others are not rows
    assert "Levée : <strong>Nuvela</strong>" in row
    # Best first: the story three sources tell comes before fresher news told once.
    assert "Nuvela" in found[0]
    issue = curation.open_or_start(desk_services)
    panel = client.get(f"/desk/issues/{issue.id}/panel").text
    assert len(rows(panel)) == 3 and "Aussi dans :" in panel


def test_dismissing_a_story_in_one_post_hides_all_its_articles(desk_services: Services) -> None:
    """One POST of the row's "Écarter" dismisses the three articles; the bulk action and the
    editor's autosave do the same for the whole story of the row they name."""
    client, csrf = logged_in(desk_services)
    story = nuvela(desk_services)
    answer = client.post(
        "/desk/stories/dismiss",
        data={"csrf": csrf, "story": str(story.lead.id), "next": "/desk/inbox"},
    )
    assert answer.status_code == 303
    left = {a.id for a in desk_services.store.articles.unused(100)}
    assert not left & {a.id for a in story.articles} and len(left) == 2
    assert "Nuvela" not in client.get("/desk/inbox").text
    assert (
        client.post("/desk/stories/dismiss", data={"csrf": csrf, "story": "999999"}).status_code
        == 404
    )
    refused = client.post("/desk/stories/dismiss", data={"csrf": "x", "story": "1"})
    assert refused.status_code == 403

    next40 = next(s for s in curation.inbox_stories(desk_services) if "Next40" in s.lead.title)
    client.post(
        "/desk/inbox/bulk",
        data={"csrf": csrf, "action": "dismiss", "article_id": str(next40.lead.id)},
    )
    assert [s.lead.title for s in curation.inbox_stories(desk_services)] == [NEWS[4][1]]

    for article_id in (a.id for a in story.articles):
        client.post(f"/desk/articles/{article_id}/dismiss", data={"csrf": csrf, "restore": "1"})
    issue = curation.open_or_start(desk_services)
    saved = client.post(
        f"/desk/issues/{issue.id}/edit",
        data={"csrf": csrf, "subject": "Objet", "dismiss": str(nuvela(desk_services).others[0].id)},
    )
    assert saved.status_code == 200 and saved.json()["panel"] is True
    assert not any("Nuvela" in s.lead.title for s in curation.inbox_stories(desk_services))


def test_funding_correction_is_saved_shown_and_in_the_email(desk_services: Services) -> None:
    """The row's form corrects the facts (escaped), they show in the inbox and the digest's
    funding block; a bad amount is refused; "Ce n’est pas une levée" clears them."""
    client, csrf = logged_in(desk_services)
    lead = nuvela(desk_services).lead.id
    form = {
        "csrf": csrf,
        "next": "/desk/inbox",
        f"company-{lead}": "<b>Nuvela SAS</b>",
        f"amount-{lead}": "15 000 000",
        f"currency-{lead}": "eur",
        f"round-{lead}": "série B",
        f"investors-{lead}": "Bpifrance, Kima Ventures",
    }
    answer = client.post(f"/desk/stories/{lead}/funding", data=form)
    assert answer.status_code == 303, answer.text
    facts = nuvela(desk_services).funding
    assert facts is not None
    assert (facts.company, facts.amount, facts.currency, facts.round, facts.investors) == (
        "<b>Nuvela SAS</b>",
        15_000_000,
        "EUR",
        "série B",
        ("Bpifrance", "Kima Ventures"),
    )
    row = next(r for r in rows(client.get("/desk/inbox").text) if "Nuvela" in r)
    assert "&lt;b&gt;Nuvela SAS&lt;/b&gt;" in row and "<b>Nuvela" not in row
    assert "série B" in row and "Kima Ventures" in row

    client.post("/desk/inbox/bulk", data={"csrf": csrf, "action": "add", "article_id": str(lead)})
    issue = desk_services.store.issues.open_draft()
    assert issue is not None and [i.article.id for i in issue.items] == [lead]
    html = desk_services.renderer.render_issue(issue).html
    block = html.split("Levées de fonds de la semaine")[1]
    assert "&lt;b&gt;Nuvela SAS&lt;/b&gt;" in block and "15\u00a0M€" in block

    bad = client.post(f"/desk/stories/{lead}/funding", data={**form, f"amount-{lead}": "12M; DROP"})
    assert bad.status_code == 422 and "montant invalide" in bad.text
    empty = client.post(f"/desk/stories/{lead}/funding", data={**form, f"company-{lead}": " "})
    assert empty.status_code == 422

    other = next(s for s in curation.inbox_stories(desk_services) if "Next40" in s.lead.title)
    client.post(f"/desk/stories/{lead}/funding", data={"csrf": csrf, "clear": "1"})
    client.post(f"/desk/stories/{other.lead.id}/funding", data={"csrf": csrf, "clear": "1"})
    cleared = desk_services.store.issues.get(issue.id)
    assert cleared is not None and cleared.items[0].article.funding_facts is None
    assert "Levées de fonds de la semaine" not in desk_services.renderer.render_issue(cleared).html


def test_a_story_in_an_issue_leaves_the_inbox_and_comes_back_when_removed(
    desk_services: Services,
) -> None:
    """Once one source of a news is in an issue, its other sources are not a new story; they
    are left undismissed, so taking that article out of the issue brings the story back."""
    from newsletter.store.issues import NewItem

    store = desk_services.store
    lead = nuvela(desk_services).lead
    issue = store.issues.create("Test", [NewItem(lead.id)], desk_services.clock())
    titles = [story.lead.title for story in curation.inbox_stories(desk_services)]
    assert not any("Nuvela" in title for title in titles) and len(titles) == 2
    store.issues.replace_items(issue.id, [])
    assert len(nuvela(desk_services).articles) == 3


# -- the inbox's cache: grouped once per state of the database (and minute) ------------------


@pytest.fixture
def groupings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the inbox's groupings (one item per call of curate/stories.stories)."""
    from newsletter.curate import inbox

    calls: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> list[Story]:
        calls.append(1)
        return stories(*args, **kwargs)

    monkeypatch.setattr(inbox, "stories", counted)
    return calls


def test_an_unchanged_inbox_is_not_grouped_again(
    desk_services: Services, clock: FrozenClock, groupings: list[int]
) -> None:
    """Reads, searches and the desk's dismiss (its whole story read first) share one grouping
    until something changes; the next minute groups again (freshness moves)."""
    client, csrf = logged_in(desk_services)
    first = curation.inbox_stories(desk_services)
    assert curation.inbox_stories(desk_services) == first
    assert [s.id for s in curation.inbox_stories(desk_services, q="robot", limit=1)] == [
        nuvela(desk_services).id
    ]
    assert client.get("/desk/inbox?q=Next40").status_code == 200
    assert len(groupings) == 1
    answer = client.post("/desk/stories/dismiss", data={"csrf": csrf, "story": str(first[0].id)})
    assert answer.status_code == 303 and len(groupings) == 1  # its whole story: no regrouping
    assert len(curation.inbox_stories(desk_services)) == len(first) - 1
    assert len(groupings) == 2  # the dismiss changed the inbox
    clock.advance(seconds=59)  # 07:00:59, the same minute
    curation.inbox_stories(desk_services)
    assert len(groupings) == 2
    clock.advance(seconds=1)
    curation.inbox_stories(desk_services)
    assert len(groupings) == 3


def titles(services: Services) -> list[str]:
    return [story.lead.title for story in curation.inbox_stories(services)]


def test_every_change_reaches_the_next_read(desk_services: Services, clock: FrozenClock) -> None:
    """Dismiss, restore, add to an issue, take out of it, correct funding, collect, a feed's
    new section and name: each is in the next read within one minute (the change itself moves
    the cache's key)."""
    from newsletter.store.issues import NewItem

    store, now = desk_services.store, desk_services.clock()
    story = nuvela(desk_services)
    ids = [a.id for a in story.articles]
    news, remote = titles(desk_services)[1:]
    store.stories.dismiss(ids)
    assert titles(desk_services) == [news, remote]
    store.stories.dismiss(ids[:1], dismissed=False)  # one source back: the story, told once
    assert len(nuvela(desk_services).articles) == 1
    store.stories.dismiss(ids, dismissed=False)
    assert len(nuvela(desk_services).articles) == 3
    by_title = {s.lead.title: s.lead.id for s in curation.inbox_stories(desk_services)}
    issue = store.issues.create("Test", [NewItem(by_title[news])], now)
    assert news not in titles(desk_services)
    # One item for another (SQLite may give the row the same id): the other one is taken.
    store.issues.replace_items(issue.id, [NewItem(by_title[remote])])
    assert news in titles(desk_services) and remote not in titles(desk_services)
    store.issues.replace_items(issue.id, [])
    assert titles(desk_services)[1:] == [news, remote]

    facts = FundingFacts("Nuvela SAS", 15_000_000, "EUR", "série B", ("Bpifrance",))
    curation.correct_funding(desk_services, story.lead.id, facts, by="zoe")
    assert nuvela(desk_services).funding == facts
    curation.correct_funding(desk_services, story.lead.id, replace(facts, amount=16_000_000))
    assert nuvela(desk_services).funding == replace(facts, amount=16_000_000)
    clock.advance(seconds=1)  # as any real clock: facts of the same size, a later instant
    curation.correct_funding(desk_services, story.lead.id, replace(facts, round="série C"))
    assert nuvela(desk_services).funding == replace(facts, round="série C")
    curation.correct_funding(desk_services, story.lead.id, None, by="zoe")
    assert nuvela(desk_services).funding is None

    late = "Quantix ouvre un laboratoire à Grenoble"
    collect(desk_services, "lesechos", "late", late, "Un laboratoire quantique.", now)
    assert late in titles(desk_services)
    renamed = FeedSource("lesechos", "https://start.lesechos.fr/rss", "Tech", "Les Echos")
    store.feeds.sync([renamed])
    story = next(s for s in curation.inbox_stories(desk_services) if s.lead.title == late)
    assert (story.lead.source_name, story.section) == ("Les Echos", "Tech")


def test_another_process_changes_are_seen(desk_services: Services, clock: FrozenClock) -> None:
    """Another process on the same database (its own Services and Store) dismisses a story,
    corrects a funding and adds an article to an issue: this process's next reads show it."""
    from newsletter.store.issues import NewItem

    other = wiring.build(desk_services.config, clock=clock)
    try:
        story = nuvela(desk_services)
        first = titles(desk_services)
        facts = FundingFacts("Nuvela", 9_000_000, "EUR", None, ())
        curation.correct_funding(other, story.lead.id, facts, by="zoe")
        assert nuvela(desk_services).funding == facts
        curation.dismiss_story(other, [a.id for a in story.articles])
        assert titles(desk_services) == first[1:]
        picked = curation.inbox_stories(other)[0].lead.id
        other.store.issues.create("Test", [NewItem(picked)], clock())
        assert titles(desk_services) == first[2:]
    finally:
        other.close()


SECTIONED_FEEDS = "".join(
    f'[[feeds]]\nname = "{name}"\nurl = "https://{name}.example.fr/rss"\nsection = "{section}"\n'
    for name, section in (("bourse", "Bourse"), ("tech", "Tech"), ("une", "À la une"))
)


def test_the_desk_lists_the_configured_sections_first_then_the_feeds_alphabetically(
    make_config: object, clock: FrozenClock
) -> None:
    """The inbox's section filter and an item's choices in the editor list the `[[sections]]`
    in their configured order, then the feeds' other sections (configured or stored) in
    alphabetical order, case and accents aside."""
    config = make_config(extra=SECTIONS_TOML, feeds=SECTIONED_FEEDS)  # type: ignore[operator]
    services = wiring.build(
        config, clock=clock, provider=MemoryProvider(sender=sender_of(config), batch_size=3)
    )
    try:
        services.store.migrate()
        seed_news(services)
        services.store.feeds.sync(
            [FeedSource("archives", "https://archives.example.fr/rss", "entrepreneuriat")]
        )
        client, _ = logged_in(services)
        inbox = client.get("/desk/inbox").text
        issue = curation.draft(services).issue
        assert issue is not None
        select = re.search(r'<select id="section".*?</select>', inbox, flags=re.S)
        datalist = re.search(
            r'<datalist id="sections">.*?</datalist>',
            client.get(f"/desk/issues/{issue.id}").text,
            flags=re.S,
        )
        assert select is not None and datalist is not None
        expected = ["Tech", "Climat", "Sport", "À la une", "Bourse", "entrepreneuriat"]
        assert expected == re.findall(r'<option value="([^"]+)"', select.group(0))
        assert expected == re.findall(r'<option value="([^"]+)"', datalist.group(0))
    finally:
        services.close()
