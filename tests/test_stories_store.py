"""Stories on a real database (SQLite, and PostgreSQL when configured): article identity,
accent-folded search, `newsletter articles --json`, the draft from stories with its funding
block, dismissing a story, correcting its facts, the migration."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.domain.clock import FrozenClock
from newsletter.domain.funding import FundingFacts
from newsletter.domain.model import ArticleDraft, FeedSource
from newsletter.runtime import config as config_module
from newsletter.runtime import curation, wiring
from newsletter.runtime.collection import collect
from newsletter.store import Store, migrate
from newsletter.store.search import accent_folded_match
from newsletter.store.tables import articles
from tests.conftest import shared_path

Make = Callable[..., config_module.Config]
CORPUS_FEEDS = ("maddyness", "frenchweb", "lesechos-start")

NOW_PAGE = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>
<title>Notes de version</title><link>https://example.org/</link>
{items}
</channel></rss>"""
NOW_ITEM = """<item><title>Version du {day:02d} février</title>
<link>https://example.org/notes?utm_source=rss#2026-02-{day:02d}</link>
<guid isPermaLink="false">note-{day}</guid><description>Correctifs.</description></item>"""
TRACKED_ITEM = """<item><title>Une seule et même page</title>
<link>https://example.org/page?utm_source={source}&amp;fbclid={n}#xtor=RSS-{n}</link>
<description>Texte.</description></item>"""


def _build(make_config: Make, clock: FrozenClock, feeds: str, extra: str = "") -> wiring.Services:
    services = wiring.build(make_config(feeds=feeds, extra=extra), clock=clock)
    services.store.migrate()
    return services


def _corpus_feeds(tmp_path: Path) -> str:
    folder = shared_path("corpus", "fr-startups")
    tables = []
    for name in CORPUS_FEEDS:
        shutil.copy(folder / f"{name}.xml", tmp_path / f"{name}.xml")
        tables.append(f'[[feeds]]\nname = "{name}"\nurl = "{name}.xml"\n')
    return "\n".join(tables)


# -- identity -----------------------------------------------------------------------------------


def test_items_told_apart_by_guid_stay_apart_tracking_never_splits(
    tmp_path: Path, make_config: Make, clock: FrozenClock
) -> None:
    """A page of 30 notes linked by fragment stays 30 articles (each linked by its anchor);
    one page linked with different tracking parameters from two feeds is one article."""
    items = "".join(NOW_ITEM.format(day=day) for day in range(1, 31))
    (tmp_path / "notes.xml").write_text(NOW_PAGE.format(items=items))
    tracked = [TRACKED_ITEM.format(source=s, n=n) for n, s in enumerate(("a", "b"))]
    (tmp_path / "t1.xml").write_text(NOW_PAGE.format(items=tracked[0]))
    (tmp_path / "t2.xml").write_text(NOW_PAGE.format(items=tracked[1]))
    feeds = "".join(
        f'[[feeds]]\nname = "{name}"\nurl = "{name}.xml"\n' for name in ("notes", "t1", "t2")
    )
    services = _build(make_config, clock, feeds)
    try:
        report = collect(services).to_json()
        stored = services.store.articles.recent(100)
        again = collect(services).to_json()
    finally:
        services.close()
    new = {feed["name"]: feed["new"] for feed in report["feeds"]}
    assert new["notes"] == 30
    assert new["t1"] + new["t2"] == 1
    assert again["new_articles"] == 0
    notes = sorted(a.url for a in stored if a.feed_name == "notes")
    assert len(set(notes)) == 30
    assert "https://example.org/notes#2026-02-15" in notes
    assert [a.url for a in stored if a.feed_name in ("t1", "t2")] == ["https://example.org/page"]


def test_real_feeds_keep_every_entry_with_a_distinct_guid(store: Store, clock: FrozenClock) -> None:
    """For each real feed whose entries all have a link and distinct guids, as many articles
    are stored as feedparser reads entries (feeds sharing pages with one stored before are
    left out: their shared pages are rightly one article)."""
    from newsletter.collect.normalise import normalise
    from newsletter.collect.parse import parse
    from newsletter.domain.errors import ParseError
    from newsletter.store.articles import identity

    folder = shared_path("corpus", "real-feeds")
    known: set[str] = set()
    checked = 0
    for n, path in enumerate(sorted(folder.glob("*.xml"))):
        try:
            parsed = parse(path.read_bytes(), path.as_uri())
        except ParseError:
            continue
        drafts = [d for e in parsed.entries if (d := normalise(e, path.stem, path.as_uri()))]
        guids = {d.guid for d in drafts}
        links = {identity(d.url) for d in drafts}
        if not drafts or len(drafts) != len(parsed.entries) or len(guids) != len(drafts):
            continue
        if links & known:
            continue
        store.feeds.sync([FeedSource(f"feed{n}", path.as_uri())])
        new = store.articles.add(store.feeds.id_of(f"feed{n}"), drafts, clock())
        assert new == len(parsed.entries), (path.name, new, len(parsed.entries))
        known |= links
        checked += 1
    print(f"\nreal feeds with distinct guids: {checked}, each stored entry for entry")
    assert checked >= 50


# -- search -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("levee", True),
        ("LEVÉE", True),
        ("l'echappee", True),  # straight apostrophe finds the typographic one
        ("ÉCHAPPÉE", True),
        ("oeuvre", True),
        ("50%", False),  # % is a character, not a wildcard
        ("lev_e", False),
        ("fonds propres", False),
    ],
)
def test_accent_folded_match(store: Store, clock: FrozenClock, q: str, found: bool) -> None:
    store.feeds.sync([FeedSource("f", "https://example.org/feed")])
    draft = ArticleDraft(
        "f", "g", "https://example.org/a", "Levée de fonds pour l’Échappée", "Une Œuvre.",
        "", None, None, clock(),
    )  # fmt: skip
    store.articles.add(store.feeds.id_of("f"), [draft], clock())
    with store.engine.connect() as connection:
        hits = connection.execute(
            sa.select(articles.c.id).where(
                sa.or_(
                    accent_folded_match(articles.c.title, q),
                    accent_folded_match(articles.c.summary, q),
                )
            )
        ).all()
    assert bool(hits) is found


# -- the command, the draft, the email ----------------------------------------------------------


def test_articles_json_lists_stories_best_first(
    tmp_path: Path, make_config: Make, clock: FrozenClock
) -> None:
    """`newsletter articles --json`: the contract's keys, each story once with its sources and
    facts; --q accent-insensitive; --limit."""
    services = _build(make_config, clock, _corpus_feeds(tmp_path))
    try:
        collect(services)
        path = services.config.path
    finally:
        services.close()
    runner = CliRunner()

    def run(*args: str) -> dict[str, list[dict[str, object]]]:
        result = runner.invoke(cli, ["articles", "--json", *args, "--config", str(path)])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)  # type: ignore[no-any-return]

    everything = run("--limit", "100")["stories"]
    assert len(everything) == 21
    keys = {"id", "title", "url", "feed", "published_at", "section", "score", "sources", "funding"}
    assert all(keys <= set(story) for story in everything)
    assert all({"feed", "url", "title"} <= set(s) for st in everything for s in st["sources"])  # type: ignore[attr-defined]
    scores = [story["score"] for story in everything]
    assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]
    nuvela = next(s for s in everything if s["funding"] and "Nuvela" in str(s["funding"]))
    assert len(nuvela["sources"]) == 3  # type: ignore[arg-type]
    assert nuvela["funding"] == {
        "company": "Nuvela",
        "amount": 12_000_000,
        "currency": "EUR",
        "round": "série A",
        "investors": ["Rive Gauche Ventures", "Bpifrance"],
    }
    helixa = run("--q", "HELIXA")["stories"]
    assert [len(s["sources"]) for s in helixa] == [2]  # type: ignore[arg-type]
    assert run("--q", "reemploi")["stories"][0]["funding"]["company"] == "Verdeo"  # type: ignore[index]
    assert len(run("--limit", "3")["stories"]) == 3
    human = runner.invoke(cli, ["articles", "--q", "Nuvela", "--config", str(path)])
    assert human.exit_code == 0 and "Nuvela" in human.output


def test_draft_takes_each_story_once_and_the_email_lists_the_rounds(
    tmp_path: Path, make_config: Make, clock: FrozenClock
) -> None:
    """The draft holds one item per story (its lead); the digest carries "Levées de fonds de la
    semaine" with the facts of its funding stories, in HTML and text."""
    services = wiring.build(_with_funding(make_config, tmp_path, "true"), clock=clock)
    try:
        services.store.migrate()
        collect(services)
        outcome = curation.draft(services)
        assert outcome.issue is not None
        rendered = services.renderer.render_issue(outcome.issue)
    finally:
        services.close()
    without = wiring.build(_with_funding(make_config, tmp_path, "false"), clock=clock)
    try:
        plain = without.renderer.render_issue(outcome.issue)
    finally:
        without.close()
    assert "Levées de fonds de la semaine" not in plain.html
    assert "LEVÉES DE FONDS DE LA SEMAINE" not in plain.text
    assert len(outcome.issue.items) == 21
    assert "Levées de fonds de la semaine" in rendered.html
    block = rendered.text.split("LEVÉES DE FONDS DE LA SEMAINE")[1]
    for company, amount in (("Nuvela", "12\u00a0M€"), ("Helixa", "1,2\u00a0Md€")):
        assert company in block and amount in block
        assert company in rendered.html and amount in rendered.html
    assert "série C" in block  # from the story's other source: the lead's text has no round
    assert "Sézame" not in block and "Occitanie ·" not in block
    assert block.count("\n\n") >= 8  # 8 rounds, one paragraph each


def _with_funding(make_config: Make, tmp_path: Path, funding: str) -> config_module.Config:
    """The test config over the corpus feeds, with `[digest] funding` set and room for 30."""
    config = make_config(feeds=_corpus_feeds(tmp_path))
    text = config.path.read_text(encoding="utf-8")
    config.path.write_text(
        text.replace("max_articles = 12", f"max_articles = 30\nfunding = {funding}"),
        encoding="utf-8",
    )
    return config_module.load(config.path, {"NEWSLETTER_SECRET_KEY": "test-secret"})


def test_dismiss_a_story_and_correct_its_facts(
    tmp_path: Path, make_config: Make, clock: FrozenClock
) -> None:
    """Dismissing a story hides all its articles at once (restore brings them back); an
    editor's facts replace the ones read, and are escaped in the email."""
    services = wiring.build(_with_funding(make_config, tmp_path, "true"), clock=clock)
    try:
        services.store.migrate()
        collect(services)
        stories = curation.inbox_stories(services)
        nuvela = next(s for s in stories if s.funding and s.funding.company == "Nuvela")
        assert curation.dismiss_story(services, [a.id for a in nuvela.articles]) == 3
        after = curation.inbox_stories(services)
        assert len(after) == len(stories) - 1
        assert not {a.id for s in after for a in s.articles} & {a.id for a in nuvela.articles}
        curation.dismiss_story(services, [a.id for a in nuvela.articles], restore=True)
        fixed = FundingFacts("<b>Nuvela</b>", 13_000_000, "EUR", "série A", ("Bpifrance",))
        curation.correct_funding(services, nuvela.lead.id, fixed, by="zoe")
        again = next(s for s in curation.inbox_stories(services) if s.id == nuvela.id)
        assert again.funding == fixed
        from newsletter.domain.errors import UsageError

        with pytest.raises(UsageError):
            curation.correct_funding(services, 999_999, fixed)
        with pytest.raises(UsageError):
            curation.correct_funding(services, nuvela.lead.id, FundingFacts(" "))
        with pytest.raises(UsageError):
            curation.dismiss_story(services, [999_999])
        verdeo = next(
            s for s in curation.inbox_stories(services) if s.funding and "Verdeo" in str(s.funding)
        )
        curation.correct_funding(services, verdeo.lead.id, None, by="zoe")
        corrected = {s.id: s.funding for s in curation.inbox_stories(services)}
        assert corrected[verdeo.id] is None
        issue = curation.draft(services).issue
        assert issue is not None
        html = services.renderer.render_issue(issue).html
        block = html.split("Levées de fonds de la semaine")[1]
    finally:
        services.close()
    assert "&lt;b&gt;Nuvela&lt;/b&gt;" in block and "<b>Nuvela" not in block
    assert "13\u00a0M€" in block and "Verdeo" not in block


# -- the migration ------------------------------------------------------------------------------


def test_migration_keeps_articles_and_their_links_as_identity(database_url: str) -> None:
    """Articles stored before 0006 keep their link as identity: collecting them again stores
    nothing new, and a new item of the same feed sharing a link is kept apart."""
    store = Store.from_url(database_url)
    migrate.upgrade(store.engine, "0005_sources")
    now = datetime(2026, 11, 23, tzinfo=UTC)
    store.feeds.sync([FeedSource("f", "https://example.org/feed")])
    feed_id = store.feeds.id_of("f")
    with store.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO articles (feed_id, guid, url, title, summary, content_html, "
                "categories, collected_at, dismissed) VALUES (:feed, 'g1', "
                "'https://example.org/a', 'A', '', '', '', :now, false)"
            ),
            {"feed": feed_id, "now": now},
        )
    store.migrate()
    old = ArticleDraft("f", "g1", "https://example.org/a", "A", "", "", None, None, now)
    other = ArticleDraft("f", "g2", "https://example.org/a", "B", "", "", None, None, now)
    try:
        assert store.articles.add(feed_id, [old], now) == 0
        assert store.articles.add(feed_id, [other], now) == 1
        assert store.articles.count() == 2
    finally:
        store.close()


def test_the_articles_table_shows_feed_titles_as_written(services: wiring.Services) -> None:
    """A feed's title written as rich markup and emoji codes reaches the table as it is: no
    terminal link, no style, no emoji made of it."""
    hostile = "[link=https://evil.example]Levée[/link] [bold red]record[/bold red] :fire:"
    store, now = services.store, services.clock()
    store.feeds.sync([FeedSource("hostile", "https://hostile.example/feed")])
    draft = ArticleDraft("hostile", "g", "https://hostile.example/a", hostile, "", "", None,
                         None, now)  # fmt: skip
    store.articles.add(store.feeds.id_of("hostile"), [draft], now)
    result = CliRunner().invoke(
        cli, ["articles", "--config", str(services.config.path)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert hostile in result.output
    assert "🔥" not in result.output
