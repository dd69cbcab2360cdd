"""Subscriber use-cases on a real database: addresses, double opt-in, import, purge, outbox."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from newsletter.audience import addresses, erasure, subscribers
from newsletter.cli import cli
from newsletter.domain.clock import FrozenClock
from newsletter.domain.delivery import Placeholders, RenderedMessage
from newsletter.domain.errors import ConfigError, InvalidAddress, TransientProviderError
from newsletter.domain.readers import SubscriberStatus
from newsletter.runtime.audience import audience_of, outbox_mailer
from newsletter.runtime.config import Config
from newsletter.runtime.wiring import Services
from newsletter.store.subscribers import SignupOutcome
from newsletter.web.messages import Messages
from newsletter.web.ratelimit import TokenBuckets

CONSENT = subscribers.Consent(ip="192.0.2.1", source="test", text="fr:abc")


def render(name: str, context: Mapping[str, object], placeholders: Placeholders) -> RenderedMessage:
    url = context.get("confirm_url") or ""
    return RenderedMessage(
        subject=name,
        preheader="",
        html=f"<a href='{url}'>x</a>",
        text=str(url),
        placeholders=placeholders,
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Ada@Example.ORG ", "ada@example.org"),
        ("Zoe@Bücher.example", "zoe@xn--bcher-kva.example"),
    ],
)
def test_addresses_are_normalised(raw: str, expected: str) -> None:
    """Lowercased, trimmed, IDN domains in ASCII: one spelling per mailbox."""
    assert addresses.normalise_address(raw) == expected


@pytest.mark.parametrize("raw", ["zoé@exemple.fr", "Zoé@Bücher.example", "用户@例子.广告"])
def test_a_non_ascii_local_part_is_refused_at_the_door(raw: str) -> None:
    """No copy could carry it in its To header: refused with its own code, not failed at send."""
    with pytest.raises(InvalidAddress) as refused:
        addresses.normalise_address(raw)
    assert refused.value.code == "non_ascii_local"


@pytest.mark.parametrize(
    "raw", ["ada@example.org\r\nBcc: x@example.org", "ada", "", "a@b", "a" * 400 + "@example.org"]
)
def test_bad_addresses_are_refused(raw: str) -> None:
    """Header injection, no domain, empty, too long: InvalidAddress with a reason."""
    with pytest.raises(InvalidAddress):
        addresses.normalise_address(raw)


def test_request_outcomes(services: Services, clock: FrozenClock) -> None:
    """New -> created; asking again soon -> nothing; later -> resent; active -> nothing."""
    first = subscribers.request_subscription(audience_of(services), "a@example.org", "Ada", CONSENT)
    again = subscribers.request_subscription(audience_of(services), "A@example.org", None, CONSENT)
    clock.advance(minutes=6)
    later = subscribers.request_subscription(audience_of(services), "a@example.org", None, CONSENT)
    services.store.subscribers.add("b@example.org", None, SubscriberStatus.ACTIVE, clock.now)
    active = subscribers.request_subscription(audience_of(services), "b@example.org", None, CONSENT)

    assert [first, again, later, active] == [
        SignupOutcome.CREATED,
        SignupOutcome.NOTHING,
        SignupOutcome.RESENT,
        SignupOutcome.NOTHING,
    ]
    found = services.store.subscribers.by_email("a@example.org")
    assert found is not None and found.name == "Ada"
    assert services.store.outbox.count() == 1  # one confirmation owed, not two


def test_a_sign_up_does_not_rewrite_what_a_reader_who_left_had_confirmed(
    services: Services, clock: FrozenClock
) -> None:
    """Anyone can post a sign-up for an address that left the list: it owes its owner a new
    confirmation, greeting them by their own name, and changes neither their name nor their
    sections (theirs to change, on the preferences page). A never-confirmed (pending) sign-up
    still takes the latest name."""
    audience = audience_of(services)
    left, _ = services.store.subscribers.add(
        "ada@example.org", "Ada", SubscriberStatus.ACTIVE, clock.now, sections=("Climat",)
    )
    assert services.store.subscribers.unsubscribe(left.id, clock.now)
    subscribers.request_subscription(audience, "zed@example.org", "Zed", CONSENT)
    clock.advance(minutes=6)

    stranger = subscribers.request_subscription(
        audience, "ada@example.org", "Le Troll", CONSENT, ["Tech"]
    )
    renamed = subscribers.request_subscription(audience, "zed@example.org", "Zoé", CONSENT)

    assert stranger is renamed is SignupOutcome.RESENT
    ada = services.store.subscribers.by_email("ada@example.org")
    assert ada is not None and (ada.name, ada.sections) == ("Ada", ("Climat",))
    zed = services.store.subscribers.by_email("zed@example.org")
    assert zed is not None and zed.name == "Zoé"
    outbox_mailer(services, render).flush()
    confirmations = services.provider.to("ada@example.org")  # type: ignore[attr-defined]
    assert [sent.recipient.name for sent in confirmations] == ["Ada"]


def test_purge_pending_erases_only_stale_sign_ups(services: Services, clock: FrozenClock) -> None:
    """Pending sign-ups older than pending_days go; recent or active ones stay."""
    subscribers.request_subscription(audience_of(services), "old@example.org", None, CONSENT)
    services.store.subscribers.add("kept@example.org", None, SubscriberStatus.ACTIVE, clock.now)
    clock.advance(days=10)
    subscribers.request_subscription(audience_of(services), "new@example.org", None, CONSENT)
    clock.advance(days=5)

    erased = erasure.purge_pending(audience_of(services))

    assert erased == 1
    remaining = sorted(s.email for s in services.store.subscribers.iter())
    assert remaining == ["kept@example.org", "new@example.org"]
    assert services.store.outbox.count() == 1  # the erased one's confirmation went with it


def test_mailer_sends_confirmations_and_retries_outages(services: Services) -> None:
    """The outbox is emptied by the mailer; a provider outage leaves the row for later."""
    subscribers.request_subscription(audience_of(services), "a@example.org", None, CONSENT)
    provider = services.provider
    provider.fail_next = 1  # type: ignore[attr-defined]
    mailer = outbox_mailer(services, render)

    assert mailer.flush() == 1
    assert services.store.outbox.count() == 1
    assert mailer.flush() == 0  # backing off
    services.clock.advance(minutes=1)  # type: ignore[attr-defined]
    assert mailer.flush() == 1
    assert services.store.outbox.count() == 0
    sent = provider.to("a@example.org")  # type: ignore[attr-defined]
    assert len(sent) == 1 and "/confirm/" in sent[0].copy.text


def test_mailer_renders_per_recipient_when_placeholders_do_not_survive(services: Services) -> None:
    """A template that mangles the placeholder is rendered per recipient with the real link."""
    calls: list[Mapping[str, object]] = []

    def mangling(
        name: str, context: Mapping[str, object], placeholders: Placeholders
    ) -> RenderedMessage:
        calls.append(context)
        url = str(context.get("confirm_url")).upper()
        return RenderedMessage(subject=name, preheader="", html=url, text=url)

    for n in range(2):
        subscribers.request_subscription(audience_of(services), f"m{n}@example.org", None, CONSENT)
    outbox_mailer(services, mangling).flush()

    sent = services.provider.to("m1@example.org")  # type: ignore[attr-defined]
    assert "/CONFIRM/" in sent[0].copy.text
    assert len(calls) == 3  # one try with placeholders, then one per recipient


def test_transient_errors_are_not_lost(services: Services) -> None:
    """TransientProviderError carries retry_after; the mailer honours it."""
    subscribers.request_subscription(audience_of(services), "r@example.org", None, CONSENT)

    class Down:
        name = "down"
        batch_size = 1

        def send_batch(self, *_: Any) -> Any:
            raise TransientProviderError("busy", retry_after=120)

        def close(self) -> None:
            pass

    services._provider = Down()  # type: ignore[assignment]
    outbox_mailer(services, render).flush()
    services.clock.advance(seconds=100)  # type: ignore[attr-defined]
    assert outbox_mailer(services, render).flush() == 0
    services.clock.advance(seconds=30)  # type: ignore[attr-defined]
    assert outbox_mailer(services, render).flush() == 1


def _cli(services: Services, *args: str) -> Any:
    result = CliRunner().invoke(cli, [*args, "--config", str(services.config.path)])
    return result


def test_import_reports_lines_and_respects_leavers(services: Services, tmp_path: Path) -> None:
    """Bad rows are reported with their line; unsubscribed addresses come back only with
    --force-resubscribe; complained ones never."""
    store = services.store.subscribers
    now = services.clock()
    gone, _ = store.add("gone@example.org", None, SubscriberStatus.ACTIVE, now)
    store.unsubscribe(gone.id, now)
    angry, _ = store.add("angry@example.org", None, SubscriberStatus.ACTIVE, now)
    store.leave(angry.id, SubscriberStatus.COMPLAINED, now)
    csv_file = tmp_path / "list.csv"
    csv_file.write_text(
        "Email,Name\nnew@example.org,Nina\nnot-an-address,X\ngone@example.org,\n"
        "angry@example.org,\n",
        encoding="utf-8",
    )

    plain = _cli(services, "subscribers", "import", str(csv_file), "--json")
    forced = _cli(services, "subscribers", "import", str(csv_file), "--json", "--force-resubscribe")

    assert plain.exit_code == 0, plain.output
    first = json.loads(plain.output)
    assert (first["added"], first["resubscribed"]) == (1, 0)
    assert [r["line"] for r in first["rejected"]] == [3, 4, 5]
    assert "--force-resubscribe" in first["rejected"][1]["error"]
    second = json.loads(forced.output)
    assert (second["added"], second["already"], second["resubscribed"]) == (0, 1, 1)
    assert [r["line"] for r in second["rejected"]] == [3, 5]
    assert store.by_email("gone@example.org").status is SubscriberStatus.ACTIVE  # type: ignore[union-attr]
    assert store.by_email("angry@example.org").status is SubscriberStatus.COMPLAINED  # type: ignore[union-attr]


def test_list_status_and_export(services: Services, tmp_path: Path) -> None:
    """`list --status` filters; `export` writes every subscriber as CSV."""
    now = services.clock()
    services.store.subscribers.add("a@example.org", "A", SubscriberStatus.ACTIVE, now)
    services.store.subscribers.add("p@example.org", None, SubscriberStatus.PENDING, now)
    out = tmp_path / "out.csv"

    listed = _cli(services, "subscribers", "list", "--status", "pending", "--json")
    exported = _cli(services, "subscribers", "export", "--out", str(out))

    assert json.loads(listed.output) == {
        "subscribers": [
            {"email": "p@example.org", "name": None, "status": "pending", "sections": []}
        ]
    }
    assert exported.exit_code == 0
    assert out.read_text().splitlines() == [
        "email,name,status,sections",
        "a@example.org,A,active,",
        "p@example.org,,pending,",
    ]


def test_cli_add_pending_owes_a_confirmation(services: Services) -> None:
    """`subscribers add` without --confirmed queues the confirmation email."""
    added = _cli(services, "subscribers", "add", "q@example.org")

    assert added.exit_code == 0, added.output
    assert services.store.outbox.count() == 1


def test_token_buckets_refill() -> None:
    """A bucket allows its burst, then says how long to wait, then refills with time."""
    now = [0.0]
    buckets = TokenBuckets(per_second=0.5, burst=2, clock=lambda: now[0])

    assert [buckets.take("k"), buckets.take("k")] == [0.0, 0.0]
    assert buckets.take("k") == pytest.approx(2.0)
    assert buckets.take("other") == 0.0
    now[0] += 2.0
    assert buckets.take("k") == 0.0
    assert TokenBuckets(0, 1).take("k") == 0.0  # disabled


def test_messages_fall_back_to_english() -> None:
    """French when available, English for an unknown language."""
    assert Messages("fr", "MaddyNews")("submit") == "Je m\u2019inscris"
    assert Messages("de", "MaddyNews")("submit") == "Subscribe"
    assert Messages("de", "X").lang == "en"


def test_sign_up_settings_are_validated(make_config: Callable[..., Config]) -> None:
    """Inconsistent or malformed sign-up settings name the key and the problem."""
    with pytest.raises(ConfigError, match="subscribe: pending_days"):
        make_config("[subscribe]\nconfirm_days = 10\npending_days = 5\n")
    with pytest.raises(ConfigError, match=r"web\.cors_origins"):
        make_config('[web]\ncors_origins = ["https://ok.example/path"]\n')
