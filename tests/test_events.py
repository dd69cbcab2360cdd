"""Provider events applied set-based: a whole webhook request in one transaction and a few
statements, with the once-only semantics of one event at a time (on SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import event, select

from newsletter.deliver import events as provider_events
from newsletter.domain.delivery import DeliveryState, EventAction, ProviderEvent
from newsletter.domain.readers import SubscriberStatus
from newsletter.runtime.wiring import Services
from newsletter.store import events as event_store
from newsletter.store.reader_tables import deliveries, outbox
from newsletter.store.reader_tables import provider_events as event_table
from tests.delivery_helpers import add_subscribers, make_issue


def _uncertain_ledger(services: Services, count: int) -> tuple[int, list[int]]:
    """An issue whose `count` deliveries all ended uncertain; their ids in subscriber order."""
    issue_id = make_issue(services)
    add_subscribers(services, count)
    store = services.store
    store.deliveries.start(issue_id, services.clock())
    with store.engine.begin() as connection:
        connection.execute(deliveries.update().values(state=DeliveryState.UNCERTAIN))
        ids = connection.execute(select(deliveries.c.id).order_by(deliveries.c.id)).scalars()
        return issue_id, list(ids)


def _event(kind: str, delivery_id: int, issue_id: int, n: int = 0, **raw: Any) -> ProviderEvent:
    return provider_events.to_event(
        {
            "event": kind,
            "sg_event_id": f"{kind}-{delivery_id}-{n}",
            "delivery_id": str(delivery_id),
            "issue_id": str(issue_id),
            "email": f"u{delivery_id}@example.org",
            **raw,
        }
    )


def _apply(services: Services, events: list[ProviderEvent]) -> dict[str, int]:
    report = provider_events.apply_events(services.store.events, services.clock, events)
    return report.to_json()


def _states(services: Services) -> dict[int, tuple[str, str | None]]:
    with services.store.engine.connect() as connection:
        rows = connection.execute(select(deliveries.c.id, deliveries.c.state, deliveries.c.error))
        return {row.id: (row.state, row.error) for row in rows}


def test_an_id_repeated_within_one_request_is_applied_once(services: Services) -> None:
    """The same sg_event_id twice in one request, then the request replayed: one row, the
    rest counted as duplicates."""
    issue_id, ids = _uncertain_ledger(services, 1)
    opened = _event("open", ids[0], issue_id)

    first = _apply(services, [opened, opened, _event("click", ids[0], issue_id)])
    replay = _apply(services, [opened])

    assert first == {"applied": 2, "duplicates": 1}
    assert replay == {"applied": 0, "duplicates": 1}
    assert services.store.events.counts(issue_id) == {"open": 1, "click": 1}


def test_outcome_does_not_depend_on_order_and_keeps_the_first_bounce(
    services: Services,
) -> None:
    """A bounce before or after `delivered` fails the delivery; of two bounces the first
    reason stays; a soft bounce (blocked) changes nothing."""
    issue_id, ids = _uncertain_ledger(services, 3)
    a, b, c = ids
    events = [
        _event("bounce", a, issue_id, 1, type="bounce", reason="550 unknown user"),
        _event("delivered", a, issue_id),
        _event("delivered", b, issue_id),
        _event("bounce", b, issue_id, 1, type="bounce", reason="first"),
        _event("bounce", b, issue_id, 2, type="bounce", reason="second"),
        _event("bounce", c, issue_id, 1, type="blocked", reason="greylisted"),
    ]

    assert _apply(services, events) == {"applied": 6, "duplicates": 0}
    states = _states(services)
    assert states[a] == (DeliveryState.FAILED, "550 unknown user")
    assert states[b] == (DeliveryState.FAILED, "first")
    assert states[c] == (DeliveryState.UNCERTAIN, None)


def test_a_subscriber_takes_the_strongest_status_and_loses_its_owed_emails(
    services: Services,
) -> None:
    """Unsubscribe then spam report in one request: complained, whatever the order; an already
    complained subscriber is not weakened by a later unsubscribe; an address without ledger id
    is found by address; owed emails go."""
    issue_id, ids = _uncertain_ledger(services, 3)
    store = services.store
    now = services.clock()
    with store.engine.connect() as connection:
        subscriber_of: dict[int, int] = dict(
            connection.execute(select(deliveries.c.id, deliveries.c.subscriber_id)).all()
        )
    for sid in subscriber_of.values():
        store.outbox.enqueue("welcome", sid, now)
    store.subscribers.set_status(subscriber_of[ids[1]], SubscriberStatus.COMPLAINED, now)
    events = [
        _event("unsubscribe", ids[0], issue_id),
        _event("spamreport", ids[0], issue_id),
        _event("unsubscribe", ids[1], issue_id),
        provider_events.to_event(
            {"event": "dropped", "reason": "Bounced Address", "email": "U2@Example.org"}
        ),
    ]

    _apply(services, events)

    status = {d: store.subscribers.get(s).status for d, s in subscriber_of.items()}  # type: ignore[union-attr]
    assert status == {
        ids[0]: SubscriberStatus.COMPLAINED,
        ids[1]: SubscriberStatus.COMPLAINED,
        ids[2]: SubscriberStatus.BOUNCED,
    }
    with store.engine.connect() as connection:
        owed = connection.execute(select(outbox.c.subscriber_id)).scalars().all()
    assert owed == [subscriber_of[ids[1]]]  # not changed by the request: its email stays owed


def test_any_event_kind_is_logged(services: Services) -> None:
    """Kinds the newsletter does not act on (clicks, deferrals, kinds not known yet) are
    still recorded once, with their issue."""
    issue_id, ids = _uncertain_ledger(services, 1)
    kinds = ["click", "deferred", "group_resubscribe", "some_future_kind"]

    _apply(services, [_event(kind, ids[0], issue_id) for kind in kinds])

    assert services.store.events.counts(issue_id) == dict.fromkeys(kinds, 1)
    assert _states(services)[ids[0]][0] == DeliveryState.UNCERTAIN


def test_a_request_is_a_few_statements_whatever_its_size(services: Services) -> None:
    """1,000 events of every action cost the same handful of statements as 10 (set-based)."""
    issue_id, ids = _uncertain_ledger(services, 200)
    kinds = ["delivered", "open", "click", "bounce", "unsubscribe"]

    def statements(events: list[ProviderEvent]) -> int:
        seen: list[str] = []

        def count(*args: Any) -> None:
            seen.append(args[2])

        engine = services.store.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            _apply(services, events)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    small = [_event(k, d, issue_id, 1, type="bounce") for d in ids[:2] for k in kinds]
    large = [_event(k, d, issue_id, 2, type="bounce") for d in ids for k in kinds]

    assert len(large) == 1000
    assert statements(large) <= statements(small) + 2  # executemany may batch its rows
    assert services.store.deliveries.counts(issue_id)[DeliveryState.FAILED] == 200


def test_a_failure_mid_request_records_nothing(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If any statement fails, the whole request is rolled back: the provider's retry then
    applies every event (none is lost as an already-seen duplicate)."""
    issue_id, ids = _uncertain_ledger(services, 2)
    events = [_event("delivered", ids[0], issue_id), _event("spamreport", ids[1], issue_id)]

    def broken(*_args: object) -> set[int]:
        raise RuntimeError("database went away")

    monkeypatch.setattr(event_store, "leave_lists", broken)
    with pytest.raises(RuntimeError):
        _apply(services, events)
    with services.store.engine.connect() as connection:
        assert connection.execute(select(event_table.c.id)).all() == []
    assert _states(services)[ids[0]][0] == DeliveryState.UNCERTAIN
    monkeypatch.undo()

    assert _apply(services, events) == {"applied": 2, "duplicates": 0}
    assert _states(services)[ids[0]][0] == DeliveryState.SENT
    assert events[1].action is EventAction.COMPLAINED


def test_concurrent_replays_apply_each_event_once(services: Services) -> None:
    """SendGrid retries a request that timed out while the first is still being applied: the
    two overlap (in opposite orders), and each event is applied exactly once between them."""
    issue_id, ids = _uncertain_ledger(services, 100)
    events = [_event(k, d, issue_id) for d in ids for k in ("delivered", "open", "unsubscribe")]
    reports: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def post(batch: list[ProviderEvent]) -> None:
        try:
            reports.append(_apply(services, batch))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=post, args=(batch,)) for batch in (events, events[::-1]) * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(r["applied"] for r in reports) == len(events)
    assert sum(r["duplicates"] for r in reports) == 3 * len(events)
    assert services.store.deliveries.counts(issue_id)[DeliveryState.SENT] == 100
    assert services.store.subscribers.count(SubscriberStatus.UNSUBSCRIBED) == 100
