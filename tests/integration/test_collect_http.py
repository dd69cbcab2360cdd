"""Collection against a loopback HTTP server that misbehaves on purpose."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from newsletter.collect.fetch import USER_AGENT, FetchLimits, fetch, make_client
from newsletter.domain.clock import FrozenClock
from newsletter.domain.errors import FeedGone, FetchError, UsageError
from newsletter.domain.model import ArticleDraft, FeedSource, FeedStatus
from newsletter.runtime.collection import collect
from newsletter.runtime.wiring import Services
from tests import feedserver
from tests.conftest import ROOT, free_port, shared_path, write_config
from tests.feedserver import FeedServer, rss

pytestmark = pytest.mark.integration

TIMEOUT = 2.0
MAX_BYTES = 200_000

MakeServices = Callable[..., Services]


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with feedserver.running() as running:
        yield running


@pytest.fixture
def collector(feed_services: MakeServices) -> MakeServices:
    """Services whose configuration lists the given feeds, with tight collection limits."""

    def make(feeds: dict[str, str], **collect_settings: Any) -> Services:
        settings = {
            "timeout_seconds": TIMEOUT,
            "max_bytes": MAX_BYTES,
            "concurrency": 16,
            "max_redirects": 5,
            **collect_settings,
        }
        return feed_services(feeds, settings, section="S")

    return make


def good_feed(server: FeedServer, name: str, count: int = 3) -> str:
    items = [(f"{name} {n}", f"https://{name}.example.org/post/{n}") for n in range(count)]
    return server.add(f"/good/{name}.xml", feedserver.serve(rss(name, items)))


def outcomes(report: Any) -> dict[str, Any]:
    return {outcome.name: outcome for outcome in report.feeds}


def test_bad_feeds_fail_one_by_one_while_good_ones_land_within_one_timeout(
    server: FeedServer, collector: MakeServices
) -> None:
    """Every misbehaving server gets one clear error; good feeds are stored; slow ones overlap."""
    bomb = feedserver.gzip_bomb(20_000_000)
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<rss><channel><title>&lol2;</title></channel></rss>"
    )
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<rss version="2.0"><channel><title>&xxe;</title></channel></rss>'
    )
    bad = {
        "slow-body": (feedserver.trickle(server), "timed out after 2s"),
        "slow-body-2": (feedserver.trickle(server, 0.5), "timed out after 2s"),
        "no-answer": (feedserver.silent(server), "timed out after 2s"),
        "no-answer-2": (feedserver.silent(server), "timed out after 2s"),
        "no-answer-3": (feedserver.silent(server), "timed out after 2s"),
        "endless": (feedserver.endless(server), f"larger than {MAX_BYTES} bytes"),
        "huge": (feedserver.serve(b"x" * (MAX_BYTES + 1)), "Content-Length"),
        "huge-undeclared": (feedserver.huge_undeclared(5_000_000), f"larger than {MAX_BYTES}"),
        "gzip-bomb": (feedserver.compressed(bomb, "gzip"), "after decompression"),
        "brotli-bomb": (
            feedserver.compressed(feedserver.brotli_bomb(20_000_000), "br"),
            "after decompression",
        ),
        "redirect-loop": (feedserver.redirect(302, "/bad/redirect-loop-b"), "redirect loop"),
        "not-found": (feedserver.status(404), "HTTP 404"),
        "gone": (feedserver.status(410), "HTTP 410"),
        "server-error": (feedserver.status(500), "HTTP 500"),
        "html-page": (
            feedserver.serve(b"<!DOCTYPE html><html><body><p>Hi</p></body></html>", "text/html"),
            "not a feed",
        ),
        "invalid-xml": (
            feedserver.serve(b'<?xml version="1.0"?>\n<<<rss>>> </channel'),
            "invalid XML",
        ),
        "billion-laughs": (feedserver.serve(laughs), "declares entities"),
        "external-entity": (feedserver.serve(xxe), "declares entities"),
    }
    server.add("/bad/redirect-loop-b", feedserver.redirect(301, "/bad/redirect-loop"))
    feeds = {name: server.add(f"/bad/{name}", route) for name, (route, _) in bad.items()}
    good = {name: good_feed(server, name) for name in ("alpha", "beta", "gamma")}
    svc = collector({**feeds, **good})

    started = time.monotonic()
    report = collect(svc)
    elapsed = time.monotonic() - started

    found = outcomes(report)
    for name, (_, expected) in bad.items():
        assert found[name].status is FeedStatus.ERROR, name
        assert expected in (found[name].error or ""), (name, found[name].error)
        assert "\n" not in (found[name].error or "")
    for name in good:
        assert (found[name].status, found[name].new) == (FeedStatus.OK, 3)
    assert {a.feed_name for a in svc.store.articles.recent()} == set(good)
    assert svc.store.articles.count() == 9
    # Five feeds each hold a connection for the whole timeout; fetched one after another they
    # would take 5 timeouts. A generous bound that still proves they overlapped:
    assert elapsed < 3 * TIMEOUT, elapsed


def test_conditional_get_answers_304_and_keeps_articles(
    server: FeedServer, collector: MakeServices
) -> None:
    """The ETag of the first fetch is sent back; the 304 is reported as not_modified."""
    body = rss("etag", [("One", "https://etag.example.org/1")])
    url = server.add("/etag.xml", feedserver.with_etag(body, '"v1"'))
    svc = collector({"etag": url})

    first = collect(svc)
    second = collect(svc)

    assert [(o.status, o.new) for o in first.feeds] == [(FeedStatus.OK, 1)]
    assert [(o.status, o.new) for o in second.feeds] == [(FeedStatus.NOT_MODIFIED, 0)]
    assert server.hits("/etag.xml")[1].get("If-None-Match") == '"v1"'
    assert second.to_json()["feeds"][0]["status"] == "not_modified"


def test_unchanged_body_is_not_parsed_again(
    server: FeedServer, collector: MakeServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without validators, the same bytes (same hash) are not parsed a second time."""
    from newsletter.collect import decide as collect_module

    url = server.add("/same.xml", feedserver.serve(rss("same", [("A", "https://s.example/a")])))
    svc = collector({"same": url})
    calls: list[str] = []
    real_parse = collect_module.parse
    monkeypatch.setattr(
        collect_module, "parse", lambda body, u, t=None: calls.append(u) or real_parse(body, u, t)
    )

    statuses = [collect(svc).feeds[0].status for _ in range(2)]

    assert statuses == [FeedStatus.OK, FeedStatus.NOT_MODIFIED]
    assert calls == [url]


@pytest.mark.parametrize(("code", "moves"), [(301, True), (308, True), (302, False), (307, False)])
def test_permanent_redirects_move_the_feed(
    server: FeedServer, collector: MakeServices, code: int, moves: bool
) -> None:
    """301/308 store the new URL; temporary redirects are followed but not remembered."""
    target = good_feed(server, "moved", 2)
    url = server.add("/old.xml", feedserver.redirect(code, "/good/moved.xml"))
    svc = collector({"moved": url})

    report = collect(svc)

    assert (report.feeds[0].status, report.feeds[0].new) == (FeedStatus.OK, 2)
    state = svc.store.feeds.get("moved")
    assert state is not None
    assert state.url == (target if moves else url)


def test_too_many_redirects(server: FeedServer, collector: MakeServices) -> None:
    """A redirect chain longer than collect.max_redirects fails with a clear error."""
    for n in range(4):
        server.add(f"/hop/{n}", feedserver.redirect(302, f"/hop/{n + 1}"))
    good_feed(server, "end")
    server.add("/hop/4", feedserver.redirect(302, "/good/end.xml"))
    svc = collector({"hops": server.url("/hop/0")}, max_redirects=2)

    report = collect(svc)

    assert report.feeds[0].error == f"too many redirects (more than 2) ({server.url('/hop/0')})"


def test_redirect_to_a_file_url_is_refused(server: FeedServer, collector: MakeServices) -> None:
    """A web server cannot make the collector read local files."""
    url = server.add("/sneaky.xml", feedserver.redirect(302, "file:///etc/passwd"))
    svc = collector({"sneaky": url})

    report = collect(svc)

    assert "non-http URL refused" in (report.feeds[0].error or "")
    assert svc.store.articles.count() == 0


def test_gone_feed_is_paused_until_named(server: FeedServer, collector: MakeServices) -> None:
    """HTTP 410 pauses the feed: later runs skip it (and say so) unless --feed names it."""
    url = server.add("/gone.xml", feedserver.status(410))
    svc = collector({"gone": url, "alpha": good_feed(server, "alpha")})

    collect(svc)
    later = collect(svc)
    named = collect(svc, only="gone")

    state = svc.store.feeds.get("gone")
    assert state is not None and state.paused
    assert [o.name for o in later.feeds] == ["alpha"]
    assert [s.name for s in later.skipped] == ["gone"]
    assert later.to_json()["skipped"][0]["reason"].startswith("paused: HTTP 410")
    assert [o.name for o in named.feeds] == ["gone"]
    assert len(server.hits("/gone.xml")) == 2


def test_failing_feed_backs_off_exponentially(
    server: FeedServer, collector: MakeServices, clock: FrozenClock
) -> None:
    """Each consecutive failure doubles the wait before the next try; success resets it."""
    url = server.add("/flaky.xml", feedserver.status(503))
    svc = collector({"flaky": url})
    interval = timedelta(minutes=svc.config.settings.collect.every_minutes)

    collect(svc)
    first = svc.store.feeds.get("flaky")
    skipped = collect(svc)
    clock.advance(minutes=interval.total_seconds() / 60 + 1)
    collect(svc)
    second = svc.store.feeds.get("flaky")
    server.add("/flaky.xml", feedserver.serve(rss("flaky", [("x", "https://f.example/x")])))
    clock.advance(days=1)
    collect(svc)
    healed = svc.store.feeds.get("flaky")

    assert first is not None and second is not None and healed is not None
    assert first.consecutive_failures == 1
    assert first.last_error == f"HTTP 503 Service Unavailable ({url})"
    assert first.next_fetch_at == first.last_fetched_at + interval  # type: ignore[operator]
    assert [s.name for s in skipped.skipped] == ["flaky"] and skipped.feeds == []
    assert second.consecutive_failures == 2
    assert second.next_fetch_at == second.last_fetched_at + 2 * interval  # type: ignore[operator]
    assert (healed.consecutive_failures, healed.next_fetch_at, healed.last_status) == (
        0,
        None,
        "ok",
    )


def test_unknown_feed_name_is_a_usage_error(collector: MakeServices) -> None:
    """`collect --feed NAME` with a name that is not configured names it."""
    svc = collector({"sample": str(ROOT / "samples" / "maddynews-sample.xml")})

    with pytest.raises(UsageError, match="'nope'"):
        collect(svc, only="nope")


def test_same_article_from_two_feeds_is_stored_once(
    server: FeedServer, collector: MakeServices
) -> None:
    """The same canonical URL (tracking parameters aside) from two feeds is one article."""
    first = rss("one", [("Shared", "https://news.example.org/a?utm_source=one&id=7")])
    second = rss("two", [("Shared again", "https://NEWS.example.org/a?id=7&fbclid=XYZ#top")])
    svc = collector(
        {
            "one": server.add("/one.xml", feedserver.serve(first)),
            "two": server.add("/two.xml", feedserver.serve(second)),
        }
    )

    report = collect(svc)

    assert report.new_articles == 1
    assert [a.url for a in svc.store.articles.recent()] == ["https://news.example.org/a?id=7"]


def test_concurrent_inserts_of_the_same_articles_do_not_fail(services: Services) -> None:
    """Two writers adding the same drafts at once: no error, each article stored once."""
    services.store.feeds.sync([FeedSource("a", "https://a.example/feed")])
    feed_id = services.store.feeds.id_of("a")
    drafts = [
        ArticleDraft("a", f"g{n}", f"https://a.example/{n}", f"T{n}", "", "", None, None, None)
        for n in range(40)
    ]
    results: list[int] = []
    errors: list[BaseException] = []

    def add() -> None:
        try:
            results.append(services.store.articles.add(feed_id, drafts, services.clock()))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=add) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(results) == 40
    assert services.store.articles.count() == 40


def test_requests_name_the_project_and_accept_compression(
    server: FeedServer, collector: MakeServices
) -> None:
    """The User-Agent names the project and version; gzip, deflate and brotli are offered."""
    svc = collector({"alpha": good_feed(server, "alpha")})

    collect(svc)

    headers = server.hits("/good/alpha.xml")[0]
    assert headers["User-Agent"] == USER_AGENT
    assert "newsletter/" in USER_AGENT
    assert {"gzip", "deflate", "br"} <= {c.strip() for c in headers["Accept-Encoding"].split(",")}


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_compressed_feeds_are_decoded(
    server: FeedServer, collector: MakeServices, encoding: str
) -> None:
    """A feed sent compressed is decompressed before parsing."""
    import gzip
    import zlib

    import brotli

    body = rss("zipped", [("Zipped", "https://z.example/1"), ("Again", "https://z.example/2")])
    packed = {
        "gzip": gzip.compress(body),
        "deflate": zlib.compress(body),
        "br": brotli.compress(body),
    }[encoding]
    svc = collector({"zipped": server.add("/z.xml", feedserver.compressed(packed, encoding))})

    report = collect(svc)

    assert (report.feeds[0].status, report.feeds[0].new) == (FeedStatus.OK, 2)


def test_utf8_feed_labelled_latin1_keeps_its_french_text(
    server: FeedServer, collector: MakeServices
) -> None:
    """A server that lies about the charset does not turn "é" into "Ã©"."""
    body = rss("charset", [("Levée de fonds à Lille", "https://c.example/1")])
    route = feedserver.serve(body, "text/xml; charset=ISO-8859-1")
    svc = collector({"charset": server.add("/charset.xml", route)})

    collect(svc)

    assert [a.title for a in svc.store.articles.recent()] == ["Levée de fonds à Lille"]


def test_latin1_feed_declared_utf8_is_still_read(
    server: FeedServer, collector: MakeServices
) -> None:
    """A windows-1252 body that claims UTF-8 is read with a fallback, accents intact."""
    body = rss("charset", [("Levée de fonds à Lille", "https://c.example/1")])
    latin = body.decode("utf-8").encode("cp1252")
    svc = collector({"charset": server.add("/latin.xml", feedserver.serve(latin))})

    report = collect(svc)

    assert report.feeds[0].status is FeedStatus.OK
    assert [a.title for a in svc.store.articles.recent()] == ["Levée de fonds à Lille"]


def test_relative_links_resolve_against_the_feed_url(
    server: FeedServer, collector: MakeServices
) -> None:
    """Entry links, content links and images given relative resolve against the feed's URL."""
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>r</title>'
        b"<item><title>Rel</title><link>/posts/1</link>"
        b"<description>&lt;p&gt;See &lt;a href='more/2'&gt;more&lt;/a&gt;"
        b"&lt;img src='/img/a.jpg'&gt;&lt;/p&gt;</description></item></channel></rss>"
    )
    url = server.add("/blog/feed.xml", feedserver.serve(body))
    svc = collector({"rel": url})

    collect(svc)

    [article] = svc.store.articles.recent()
    assert article.url == server.url("/posts/1")
    assert f'href="{server.url("/posts/more/2")}"' in article.content_html
    assert article.image_url == server.url("/img/a.jpg")


def test_undated_entries_keep_the_feed_order(server: FeedServer, collector: MakeServices) -> None:
    """Without dates, the feed's own order (newest first) is the order articles come out in."""
    items = "".join(
        f"<item><title>{t}</title><link>https://u.example/{t}</link></item>"
        for t in ("newest", "middle", "oldest")
    )
    body = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>u</title>{items}</channel></rss>'
    )
    svc = collector({"undated": server.add("/undated.xml", feedserver.serve(body.encode()))})

    collect(svc)

    assert [a.title for a in svc.store.articles.recent()] == ["newest", "middle", "oldest"]
    assert all(a.published_at is None for a in svc.store.articles.recent())


def test_seed_article_is_collected_clean(server: FeedServer, collector: MakeServices) -> None:
    """The seed: French text intact, utm gone, no tracking pixel, promo block or reading stub."""
    seed = shared_path("corpus", "seed", "maddyness-fundtruck.xml").read_bytes()
    svc = collector({"maddyness": server.add("/feed/", feedserver.serve(seed))})

    report = collect(svc)

    assert report.new_articles == 1
    [article] = svc.store.articles.recent()
    assert article.title == "L’écosystème tech des Hauts-de-France croit en sa bonne étoile"
    assert article.url == (
        "https://www.maddyness.com/2024/06/20/ecosysteme-tech-hauts-de-france-fundtruck/"
    )
    assert "« <em>nous ne voulons pas être le plus gros poisson" in article.content_html
    assert article.summary.startswith("Dunkerque, puis Lille, accueilleront")
    for text in (article.content_html, article.summary):
        assert "pixel.gif" not in text
        assert "newsletter-promo" not in text and "JE M'INSCRIS" not in text
        assert "Temps de lecture" not in text
    assert article.image_url == (
        "https://www.maddyness.com/wp-content/uploads/sample/fundtruck-lille.jpg"
    )
    assert article.categories == ("Écosystème", "Fundtruck", "Hauts-de-France")
    assert article.author == "Maddyness"
    assert article.published_at is not None
    assert article.published_at.isoformat() == "2024-06-20T06:30:00+00:00"


def test_cli_collect_json_reports_each_feed(tmp_path: Path, database_url: str) -> None:
    """`newsletter collect --json`: the sample lands, an unreachable feed is a one-line error."""
    down_url = f"http://127.0.0.1:{free_port()}/feed"
    feeds = (
        f'[[feeds]]\nname = "sample"\nurl = "{ROOT / "samples" / "maddynews-sample.xml"}"\n\n'
        f'[[feeds]]\nname = "down"\nurl = "{down_url}"\n'
    )
    config = write_config(tmp_path, database_url, feeds=feeds)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "NEWSLETTER_SECRET_KEY": "t"}
    env.pop("NEWSLETTER_DATABASE_URL", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "newsletter.cli", "--config", str(config), *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)

    assert run("init").returncode == 0
    result = run("collect", "--json")

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    by_name = {feed["name"]: feed for feed in data["feeds"]}
    assert set(data) >= {"feeds", "new_articles"}
    assert by_name["sample"] | {"entries": 0} == {
        "name": "sample",
        "status": "ok",
        "new": 5,
        "error": None,
        "entries": 0,
        "without_link": 0,
        "moved_to": None,
    }
    assert by_name["down"]["status"] == "error"
    assert by_name["down"]["error"].startswith("cannot connect to 127.0.0.1")
    assert by_name["down"]["error"].endswith(f"({down_url})")  # the URL that failed
    assert data["new_articles"] == 5
    feeds_json = json.loads(run("feeds", "--json").stdout)
    down = next(feed for feed in feeds_json["feeds"] if feed["name"] == "down")
    assert (down["status"], down["failures"]) == ("error", 1) and down["next_try"]


# --- enrichment: thin articles take their page's OpenGraph / JSON-LD ---------------------------

PAGE = """<!doctype html><html><head>
<meta property="og:description" content="Une levée de 12 M€ pour &lt;b&gt;décarboner&lt;/b&gt;
 la logistique <script>alert(1)</script>">
<meta property="og:image" content="/images/logistique.jpg">
<meta name="twitter:image" content="javascript:alert(1)">
</head><body><p>Article</p></body></html>"""

LD_PAGE = """<html><head><script type="application/ld+json">
{"@context": "https://schema.org", "@graph": [{"@type": "NewsArticle",
 "description": "Le programme Next40 accueille dix nouveaux membres.",
 "image": {"@type": "ImageObject", "url": "https://cdn.example.org/next40.png"}}]}
</script></head><body></body></html>"""


def thin_feed(server: FeedServer) -> str:
    """Entries with a link only: no description, no image."""
    items = "".join(
        f"<item><title>{title}</title><link>{server.url(path)}</link><guid>{path}</guid></item>"
        for title, path in (("Logistique", "/a/1"), ("Next40", "/a/2"), ("Broken", "/a/3"))
    )
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        f"<link>https://example.org/</link>{items}</channel></rss>"
    ).encode()
    server.add("/a/1", feedserver.serve(PAGE.encode(), "text/html; charset=utf-8"))
    server.add("/a/2", feedserver.serve(LD_PAGE.encode(), "text/html; charset=utf-8"))
    # /a/3 is not served: a 404 page leaves its article as the feed gave it.
    return server.add("/thin.xml", feedserver.serve(body))


def test_thin_articles_are_enriched_from_their_pages(
    server: FeedServer,
    collector: MakeServices,
) -> None:
    """OpenGraph and JSON-LD fill summary and image, as plain text and http(s) URLs only."""
    svc = collector({"thin": thin_feed(server)}, enrich=True)
    report = collect(svc)
    assert report.new_articles == 3
    by_title = {a.title: a for a in svc.store.articles.recent()}
    logistique = by_title["Logistique"]
    assert logistique.summary.startswith("Une levée de 12 M€ pour décarboner la logistique")
    assert "<" not in logistique.summary and "alert" not in logistique.summary
    assert logistique.image_url == server.url("/images/logistique.jpg")
    assert by_title["Next40"].summary == "Le programme Next40 accueille dix nouveaux membres."
    assert by_title["Next40"].image_url == "https://cdn.example.org/next40.png"
    assert (by_title["Broken"].summary, by_title["Broken"].image_url) == ("", None)


def test_enrichment_is_off_by_default(server: FeedServer, collector: MakeServices) -> None:
    """Without `collect.enrich`, no article page is fetched."""
    collect(collector({"thin": thin_feed(server)}))
    assert server.hits("/a/1") == []


def test_pages_are_fetched_once(server: FeedServer, collector: MakeServices) -> None:
    """A page is fetched once: a stored article is never enriched (fetched) again."""
    svc = collector({"thin": thin_feed(server)}, enrich=True)
    collect(svc)
    changed = rss("T", [("Logistique", server.url("/a/1"))])
    server.add("/thin.xml", feedserver.serve(changed))
    report = collect(svc)  # the feed changed, its article did not: no second page fetch
    assert report.feeds[0].status == "ok"
    assert len(server.hits("/a/1")) == 1


def fetch_error(url: str) -> FetchError:
    """The error fetching `url` (the listed feed, so the loopback server is allowed) raises."""

    async def attempt() -> FetchError:
        limits = FetchLimits(timeout=TIMEOUT, max_bytes=MAX_BYTES)
        async with make_client(2, limits) as client:
            with pytest.raises(FetchError) as raised:
                await fetch(client, url, limits, listed_url=url)
        return raised.value

    return asyncio.run(attempt())


@pytest.mark.parametrize(("code", "kind"), [(404, FetchError), (503, FetchError), (410, FeedGone)])
def test_fetch_errors_say_where_and_which_status(
    server: FeedServer, code: int, kind: type[FetchError]
) -> None:
    """A failing answer after a redirect: the error names the URL that failed and its status."""
    failing = server.add(f"/fails/{code}.xml", feedserver.status(code))
    start = server.add(f"/to/{code}.xml", feedserver.redirect(302, f"/fails/{code}.xml"))

    error = fetch_error(start)

    assert type(error) is kind
    assert (error.url, error.status) == (failing, code)
    assert f"HTTP {code}" in str(error) and failing in str(error)


def test_fetch_errors_without_a_status_still_say_where(server: FeedServer) -> None:
    """A body over the cap and a server that never answers: the URL is known, no status."""
    huge = server.add("/context/huge.xml", feedserver.huge_undeclared(MAX_BYTES * 2))
    silent = server.add("/context/silent.xml", feedserver.silent(server))

    too_big = fetch_error(huge)
    timed_out = fetch_error(silent)

    assert (too_big.url, too_big.status) == (huge, None)
    assert "larger than" in str(too_big) and huge in str(too_big)
    assert (timed_out.url, timed_out.status) == (silent, None)
    assert "timed out" in str(timed_out) and silent in str(timed_out)
