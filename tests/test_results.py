"""Results that mean something: rates, clicks per link, comparison, "pas de données", and
what readers read (learning data for the ranking)."""

from __future__ import annotations

import json
import re
from typing import Any

from newsletter.curate.ranking import MIN_CLICKS, score
from newsletter.deliver.events import apply_events, read_events
from newsletter.domain.learning import click_rates
from newsletter.domain.results import figures, percent
from newsletter.runtime import curation
from newsletter.runtime.results import feed_click_rates, section_click_rates
from newsletter.runtime.wiring import Services
from tests.desk_support import client_for, logged_in
from tests.readers_support import copy_links, memory, readers, sent_issue

__all__ = ["readers"]

HOST = "https://news.example.org"


def _click(services: Services, email: str, index: int = 0) -> None:
    client = client_for(services)
    answer = client.get(copy_links(services, email)[index].removeprefix(HOST))
    assert answer.status_code == 302


def test_rates_are_none_without_provider_events_and_computed_with_them() -> None:
    """No events: open, delivery and complaint rates are None ("pas de données"), never 0 %."""
    none = figures(
        sent=200, failed=0, events={}, clicks=0, unique_clicks=0,
        unsubscribed_by_link=0, tracked=False,
    )  # fmt: skip
    assert (none.rates.open, none.rates.delivery, none.rates.click) == (None, None, None)
    assert percent(none.rates.open) == "pas de données"
    assert none.rates.unsubscribe == 0.0
    some = figures(
        sent=200, failed=0, events={"delivered": 190, "open": 50, "spamreport": 1, "bounce": 4},
        clicks=30, unique_clicks=20, unsubscribed_by_link=2, tracked=True,
    )  # fmt: skip
    assert (some.rates.delivery, some.rates.open, some.rates.click) == (0.95, 0.25, 0.1)
    assert (some.rates.complaint, some.rates.unsubscribe) == (0.005, 0.01)
    assert (some.bounced, some.complained, some.unsubscribed) == (4, 1, 2)
    assert percent(some.rates.click) == "10,0 %"


def test_issue_results_page_shows_rates_links_and_previous_issues(readers: Services) -> None:
    """The results page of an issue: "pas de données" without provider events, clicks per
    article, the previous issue beside it; the issue page links to it."""
    first = sent_issue(readers, 2)
    memory(readers).sent.clear()
    second = sent_issue(readers, 0)
    _click(readers, "r0@example.org", 0)
    _click(readers, "r1@example.org", 0)
    client, _ = logged_in(readers)
    page = client.get(f"/desk/issues/{second}/results")
    assert page.status_code == 200
    text = page.text
    assert "pas de données" in text
    assert "Ouvertures" in text and "pas fiables" in text
    assert f'href="/desk/issues/{first}/results"' in text  # the comparison row
    assert "Un logiciel libre lève 3 M€" in text
    assert "100,0 %" in text  # both readers clicked
    assert f'href="/desk/issues/{second}/results"' in client.get(f"/desk/issues/{second}").text
    assert client.get("/desk/issues/999/results").status_code == 404


def test_results_across_issues_show_what_readers_read(readers: Services) -> None:
    """/desk/results lists sent issues and the sections and sources readers clicked."""
    sent_issue(readers, 3)
    _click(readers, "r0@example.org", 0)  # Tech
    client, _ = logged_in(readers)
    page = client.get("/desk/results")
    assert page.status_code == 200
    sections = page.text.split("Rubriques les plus lues")[1].split("Sources les plus lues")[0]
    assert sections.index("Tech") < sections.index("Climat")  # most read first
    assert "<td>f</td>" in page.text.split("Sources les plus lues")[1]


def test_learning_rates_and_weights(readers: Services) -> None:
    """Clicks per section and per feed come out of the store as smoothed rates; weights
    favour what was read, within bounds."""
    issue_id = sent_issue(readers, 4)
    _click(readers, "r0@example.org", 0)
    _click(readers, "r1@example.org", 0)
    now = readers.clock()
    sections = section_click_rates(readers, now)
    assert sections["Tech"] > sections["Climat"]
    assert set(feed_click_rates(readers, now)) == {"f"}
    assert readers.store.clicks.per_section(now.replace(year=2020)) == {
        "Tech": (2, 4),
        "Climat": (0, 4),
    }
    rates = click_rates({"a": (50, 100), "b": (0, 100), "c": (10, 100)})
    assert rates["a"] > rates["c"] > rates["b"] > 0  # smoothed: never read is not zero
    learned = curation.click_rates(readers)  # what the inbox and the auto-draft rank with
    tech, climat = (
        score(published=now, now=now, feeds=("f",), section=s, weights={}, clicks=learned)
        for s in ("Tech", "Climat")
    )
    assert tech.total > climat.total and MIN_CLICKS <= climat.clicks < 1 < tech.clicks
    assert issue_id


def test_provider_events_fill_the_figures(readers: Services) -> None:
    """Opens, bounces, complaints and unsubscriptions from the provider show in the figures."""
    issue_id = sent_issue(readers, 3)
    ids = {c.recipient.email: c.recipient.delivery_id for c in memory(readers).sent}

    def event(n: int, kind: str, email: str, **more: Any) -> dict[str, Any]:
        return {
            "sg_event_id": f"e{n}", "event": kind, "email": email, "timestamp": 1_790_000_000,
            "delivery_id": str(ids[email]), "issue_id": str(issue_id), **more,
        }  # fmt: skip

    raw = [
        event(1, "delivered", "r0@example.org"),
        event(2, "delivered", "r1@example.org"),
        event(3, "open", "r0@example.org"),
        event(4, "open", "r0@example.org"),
        event(5, "spamreport", "r1@example.org"),
        event(6, "bounce", "r2@example.org", type="bounce"),
    ]
    apply_events(readers.store.events, readers.clock, read_events(json.dumps(raw).encode()))
    found = readers.store.clicks.results(issue_id)
    assert found.events["open"] == 1 and found.events["delivered"] == 2
    assert found.events["spamreport"] == 1 and found.events["bounce"] == 1


def test_desk_subscribers_list_shows_sections(readers: Services) -> None:
    """The desk's subscriber list says which sections each reader takes ("toutes": all)."""
    from tests.readers_support import bulk_readers

    bulk_readers(readers, ("Climat",), 1, 0)
    bulk_readers(readers, (), 1, 1)
    client, _ = logged_in(readers)
    page = client.get("/desk/subscribers").text
    rows = {
        re.sub(r"<[^>]+>", "", line.split("</td>")[0]): line for line in page.split("<tr><td>")[1:]
    }
    assert '<td class="small">Climat</td>' in rows["r0@example.org"]
    assert '<td class="small">toutes</td>' in rows["r1@example.org"]
