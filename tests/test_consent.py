"""Consent provenance and the subscriber commands around it: every row says how consent was
obtained (sign-up, import, editor), imports show what they will record before doing it and
refuse unreadable files, `--pending` asks each imported address to confirm, `export --email`
gives one reader everything kept about them; the migration keeps every row and reference."""

from __future__ import annotations

import codecs
import getpass
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from click.testing import CliRunner

from newsletter.audience import erasure, subscribers
from newsletter.cli import cli
from newsletter.domain.delivery import Placeholders, RenderedMessage
from newsletter.domain.readers import ConsentMethod, SubscriberStatus
from newsletter.runtime.audience import audience_of, outbox_mailer
from newsletter.runtime.wiring import Services
from newsletter.store import Store, migrate
from newsletter.store.outbox import CONFIRM
from newsletter.store.reader_tables import deliveries, outbox
from tests.delivery_helpers import add_subscribers, fake_render, make_issue
from tests.test_cli import run_cli

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # the frozen clock of the fixtures


def _cli(services: Services, *args: str) -> Any:
    return CliRunner().invoke(cli, [*args, "--config", str(services.config.path)])


def _consent(services: Services, email: str) -> dict[str, object]:
    found = services.store.subscribers.by_email(email)
    assert found is not None, email
    record = services.store.subscribers.consent(found.id)
    assert record is not None
    return record


def _render(
    name: str, context: Mapping[str, object], placeholders: Placeholders
) -> RenderedMessage:
    url = str(context.get("confirm_url") or "")
    return RenderedMessage(
        subject=name,
        preheader="",
        html=f"<a href='{url}'>x</a>",
        text=url,
        placeholders=placeholders,
    )


def _recent(value: object) -> bool:
    """A time recorded by a command run just now (commands run on the real clock)."""
    assert isinstance(value, datetime)
    return abs((datetime.now(UTC) - value).total_seconds()) < 120


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


# -- the migration -----------------------------------------------------------------------------


def test_migration_keeps_rows_and_references_and_backfills_provenance(database_url: str) -> None:
    """From revision 0001 with data: every subscriber keeps its id, the outbox its rows and the
    ledger its links (SQLite rebuilds the table: its foreign key actions must not fire), and the
    old consent_source says how consent was obtained."""
    store = Store.from_url(database_url)
    try:
        migrate.upgrade(store.engine, "0001")
        with store.engine.begin() as connection:
            ids = [
                connection.execute(
                    sa.text(
                        "INSERT INTO subscribers (email, status, created_at, consent_at, "
                        "consent_source) VALUES (:email, 'active', :now, :now, :source) "
                        "RETURNING id"
                    ),
                    {"email": f"s{number}@x.org", "now": NOW, "source": source},
                ).scalar_one()
                for number, source in enumerate(["web-form", "import", "cli"], start=1)
            ]
            connection.execute(
                sa.text(
                    "INSERT INTO outbox (kind, subscriber_id, created_at, attempts) "
                    "VALUES ('welcome', :id, :now, 0)"
                ),
                {"id": ids[1], "now": NOW},
            )
            issue_id = connection.execute(
                sa.text(
                    "INSERT INTO issues (number, state, subject, created_at) "
                    "VALUES (1, 'sending', 's', :now) RETURNING id"
                ),
                {"now": NOW},
            ).scalar_one()
            connection.execute(
                sa.text(
                    "INSERT INTO deliveries (issue_id, subscriber_id, email, state) "
                    "VALUES (:issue, :id, 's3@x.org', 'pending')"
                ),
                {"issue": issue_id, "id": ids[2]},
            )

        store.migrate()

        assert migrate.current_revision(store.engine) == migrate.HEAD
        with store.engine.connect() as connection:
            owed = connection.execute(sa.select(outbox.c.subscriber_id)).scalars().all()
            links = connection.execute(sa.select(deliveries.c.subscriber_id)).scalars().all()
        assert (owed, links) == ([ids[1]], [ids[2]])
        methods = {
            email: (record["consent_method"], record["consent_by"], record["consent_recorded_at"])
            for email, record in (
                (f"s{n}@x.org", store.subscribers.consent(ids[n - 1])) for n in (1, 2, 3)
            )
            if record is not None
        }
        assert methods == {
            "s1@x.org": ("sign-up", None, NOW),
            "s2@x.org": ("import", None, NOW),
            "s3@x.org": ("editor", "cli", NOW),
        }
        later, _ = store.subscribers.add("new@x.org", None, SubscriberStatus.ACTIVE, NOW)
        assert later.id == ids[2] + 1
    finally:
        store.close()


def test_erased_ids_are_never_given_again(store: Store) -> None:
    """Erase the newest subscriber: the next one gets a new id, never the erased one's."""
    first, _ = store.subscribers.add("a@example.org", None, SubscriberStatus.PENDING, NOW)
    newest, _ = store.subscribers.add("b@example.org", None, SubscriberStatus.PENDING, NOW)
    assert store.subscribers.erase("b@example.org", NOW)
    assert store.subscribers.erase("a@example.org", NOW)

    after, _ = store.subscribers.add("c@example.org", None, SubscriberStatus.PENDING, NOW)

    assert after.id > newest.id > first.id


# -- provenance of each way in -----------------------------------------------------------------


def test_sign_up_records_the_form(services: Services) -> None:
    """A sign-up: method sign-up, when, from which IP, through which form, which text."""
    consent = subscribers.Consent(ip="192.0.2.7", source="web-form", text="fr:abc123")
    subscribers.request_subscription(audience_of(services), "s@example.org", None, consent)

    record = _consent(services, "s@example.org")
    assert record == {
        "consent_method": "sign-up",
        "consent_at": NOW,
        "consent_recorded_at": NOW,
        "consent_source": "web-form",
        "consent_ip": "192.0.2.7",
        "consent_text": "fr:abc123",
        "consent_by": None,
        "consent_file": None,
        "confirmed_at": None,
    }


def test_cli_add_records_the_os_user(services: Services) -> None:
    """`subscribers add`: method editor, by the OS user who ran it (or "cli"), when."""
    result = _cli(services, "subscribers", "add", "e@example.org", "--confirmed")
    assert result.exit_code == 0, result.output

    record = _consent(services, "e@example.org")
    assert (record["consent_method"], record["consent_source"]) == ("editor", "cli")
    assert record["consent_by"] == _os_user()
    assert _recent(record["consent_recorded_at"])
    assert record["consent_at"] is None  # the editor vouches; when the person agreed is unknown


def test_desk_add_records_the_editor(services: Services) -> None:
    """The desk's form: method editor, by the logged-in editor; pending owes a confirmation;
    a malformed or erased address is refused with a message, not an error page."""
    from tests.desk_support import EDITOR, logged_in

    client, csrf = logged_in(services)
    added = client.post(
        "/desk/subscribers/add", data={"csrf": csrf, "email": "Desk@Example.org", "name": "Dé"}
    )
    vouched = client.post(
        "/desk/subscribers/add",
        data={"csrf": csrf, "email": "sure@example.org", "confirmed": "1"},
    )
    erasure.remove(audience_of(services), "gone@example.org")
    erased = client.post("/desk/subscribers/add", data={"csrf": csrf, "email": "gone@example.org"})
    malformed = client.post("/desk/subscribers/add", data={"csrf": csrf, "email": "x@"})
    forged = client.post("/desk/subscribers/add", data={"csrf": "nope", "email": "f@example.org"})

    assert [r.headers.get("location") for r in (added, vouched, erased, malformed)] == [
        "/desk/subscribers?ok=subscribed",
        "/desk/subscribers?ok=subscribed",
        "/desk/subscribers?err=erased",
        "/desk/subscribers?err=subscriber",
    ]
    assert forged.status_code == 403
    record = _consent(services, "desk@example.org")
    assert (record["consent_method"], record["consent_by"]) == ("editor", EDITOR)
    assert record["consent_source"] == "desk"
    statuses = {s.email: s.status for s in services.store.subscribers.iter()}
    assert statuses == {
        "desk@example.org": SubscriberStatus.PENDING,
        "sure@example.org": SubscriberStatus.ACTIVE,
    }
    assert services.store.outbox.count() == 1  # the pending one's confirmation
    page = client.get("/desk/subscribers?err=erased").text
    assert "effacée à la demande" in page


# -- import --------------------------------------------------------------------------------------


def test_import_records_file_time_user_and_the_rows_own_consent(
    services: Services, tmp_path: Path
) -> None:
    """Each imported row says: import, of which file, when, by whom, plus the row's own
    consent_at (local time without offset) and consent_source; bad dates reject the row."""
    path = tmp_path / "salon-2026.csv"
    path.write_text(
        "email;name;consent_at;consent_source\n"
        "a@example.org;Ada;2026-05-14 10:30;salon VivaTech\n"
        "b@example.org;Bo;2026-05-14T09:00:00Z;salon VivaTech\n"
        "c@example.org;;;\n"
        "d@example.org;;14/05/2026;papier\n"
        "e@example.org;;2999-01-01;papier\n",
        encoding="utf-8",
    )

    result = _cli(services, "subscribers", "import", str(path), "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["added"] == 3
    assert [(r["line"], r["error"][:40]) for r in report["rejected"]] == [
        (5, "consent_at '14/05/2026' is not an ISO 86"),
        (6, "consent_at '2999-01-01' is in the future"),
    ]
    assert report["recorded"] == {
        "file": "salon-2026.csv",
        "by": _os_user(),
        "pending": False,
        "rows": 5,
        "sources": [
            {"consent_source": "salon VivaTech", "rows": 2, "consent_at_given": 2},
            {"consent_source": None, "rows": 1, "consent_at_given": 0},
            {"consent_source": "papier", "rows": 2, "consent_at_given": 2},
        ],
    }
    common = {
        "consent_method": "import",
        "consent_file": "salon-2026.csv",
        "consent_by": _os_user(),
        "consent_ip": None,
        "consent_text": None,
    }
    ada = _consent(services, "a@example.org")
    assert _recent(ada.pop("consent_recorded_at")) and _recent(ada.pop("confirmed_at"))
    assert ada == {
        **common,
        "consent_at": datetime(2026, 5, 14, 8, 30, tzinfo=UTC),  # 10:30 in Paris (summer)
        "consent_source": "salon VivaTech",
    }
    assert _consent(services, "b@example.org")["consent_at"] == datetime(
        2026, 5, 14, 9, 0, tzinfo=UTC
    )
    cleo = _consent(services, "c@example.org")
    assert _recent(cleo.pop("consent_recorded_at")) and _recent(cleo.pop("confirmed_at"))
    assert cleo == {**common, "consent_at": None, "consent_source": None}


def test_import_shows_what_it_will_record_before_doing_it(
    services: Services, tmp_path: Path
) -> None:
    """Human output: the table (rows, consent source, file, status, who) comes first;
    --dry-run shows it and changes nothing."""
    path = tmp_path / "list.csv"
    path.write_text("email,consent_source\na@example.org,salon\nb@example.org,\n")

    dry = _cli(services, "subscribers", "import", str(path), "--pending", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert services.store.subscribers.count() == 0
    real = _cli(services, "subscribers", "import", str(path), "--pending")

    assert real.exit_code == 0, real.output
    for output in (dry.output, real.output):
        assert "consent recorded for the 2 row(s) of list.csv" in output
        for cell in ("salon", "(none)", "not given", "pending", "confirmation email"):
            assert cell in output, (cell, output)
        assert _os_user() in output
    assert real.output.index("consent recorded") < real.output.index("2 added")
    dry_json = json.loads(_cli(services, "subscribers", "import", str(path), "--dry-run",
                               "--json").output)  # fmt: skip
    assert dry_json["dry_run"] is True and dry_json["recorded"]["rows"] == 2


def test_pending_import_sends_confirmations_and_stays_pending(
    services: Services, tmp_path: Path
) -> None:
    """--pending: each new row is owed a confirmation email through the outbox, which the
    mailer sends; the rows stay pending until their owners confirm."""
    path = tmp_path / "list.csv"
    path.write_text("email,name\na@example.org,Ada\nb@example.org,Bo\n")

    result = _cli(services, "subscribers", "import", str(path), "--pending")
    assert result.exit_code == 0, result.output
    assert services.store.outbox.count() == 2
    outbox_mailer(services, _render).flush()

    for email in ("a@example.org", "b@example.org"):
        sent = services.provider.to(email)  # type: ignore[attr-defined]
        assert len(sent) == 1 and "/confirm/" in sent[0].copy.text
        found = services.store.subscribers.by_email(email)
        assert found is not None and found.status is SubscriberStatus.PENDING
    assert services.store.outbox.count() == 0
    # Purging stale sign-ups counts from the import, not from an older consent_at.
    assert erasure.purge_pending(audience_of(services)) == 0


def test_forced_resubscription_records_the_import(services: Services, tmp_path: Path) -> None:
    """An unsubscribed address brought back by --force-resubscribe now cites the import."""
    gone, _ = services.store.subscribers.add("g@example.org", None, SubscriberStatus.ACTIVE, NOW)
    services.store.subscribers.unsubscribe(gone.id, NOW)
    path = tmp_path / "back.csv"
    path.write_text("email\ng@example.org\n")

    result = _cli(services, "subscribers", "import", str(path), "--force-resubscribe")

    assert result.exit_code == 0, result.output
    record = _consent(services, "g@example.org")
    assert (record["consent_method"], record["consent_file"]) == ("import", "back.csv")
    found = services.store.subscribers.by_email("g@example.org")
    assert found is not None and found.status is SubscriberStatus.ACTIVE


def test_latin1_and_utf16_files_import_through_the_cli(services: Services, tmp_path: Path) -> None:
    """The same list saved by Excel as Latin-1 (`;`) or as UTF-16 ("Unicode text", tabs)."""
    latin = tmp_path / "latin.csv"
    latin.write_bytes("email;name\nzoe@exemple.fr;Zoé Lefèvre\n".encode("cp1252"))
    utf16 = tmp_path / "unicode.txt"
    utf16.write_bytes(
        codecs.BOM_UTF16_LE + "email\tname\nbea@exemple.fr\tBéa\n".encode("utf-16-le")
    )

    for path in (latin, utf16):
        result = _cli(services, "subscribers", "import", str(path), "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["added"] == 1

    names = {s.email: s.name for s in services.store.subscribers.iter()}
    assert names == {"zoe@exemple.fr": "Zoé Lefèvre", "bea@exemple.fr": "Béa"}


REFUSED_FILES = {
    "encoding": (b"email,name\na@example.org,Zo\x81\n", "line 2: byte 0x81 is not text"),
    "utf16-without-bom": (
        "email\na@example.org\n".encode("utf-16-le"),
        "line 1: control character U+0000",
    ),
    "field": (
        b"email,name\na@x.org,A\nb@x.org," + b"B" * 2_000 + b"\n",
        "line 3: a field is longer",
    ),
    "row": (
        b"email,a,b,c,d,e\nx@x.org," + b",".join([b"y" * 900] * 5) + b"\n",
        "line 2: the row",
    ),
    "header": (b"email," + b"c" * 5_000 + b"\n", "line 1: the header is longer"),
}


def test_refused_files_exit_2_with_one_line_and_import_nothing(tmp_path: Path) -> None:
    """As a user runs it: exit 2, one line naming the file and the line, no traceback, and not
    a single row imported (the whole file is checked first, so its good rows wait too)."""
    config = _plain_config(tmp_path)
    for name, (content, message) in REFUSED_FILES.items():
        path = tmp_path / f"{name}.csv"
        path.write_bytes(content)

        result = run_cli("subscribers", "import", str(path), config=config)

        assert result.returncode == 2, (name, result.stderr)
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {path}: {message}"), lines
    listed = run_cli("subscribers", "list", "--json", config=config)
    assert json.loads(listed.stdout) == {"subscribers": []}


def test_oversized_file_is_refused_naming_the_line(tmp_path: Path) -> None:
    """A file over the 50 MB limit: refused with the line where the limit is crossed."""
    config = _plain_config(tmp_path)
    path = tmp_path / "huge.csv"
    line = b"someone.with.a.long.address@example.org,Someone\n"  # 48 bytes
    with path.open("wb") as handle:
        handle.write(b"email,name\n")
        handle.write(line * (50_000_000 // len(line) + 10))

    result = run_cli("subscribers", "import", str(path), config=config)

    assert result.returncode == 2
    expected_line = (50_000_000 - 11) // len(line) + 2
    assert result.stderr.splitlines() == [
        f"error: {path}: line {expected_line}: the file is larger than 50,000,000 bytes; split it"
    ]


def _plain_config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/db.sqlite"\n')
    assert run_cli("init", config=path).returncode == 0
    return path


# -- export ---------------------------------------------------------------------------------------


def test_export_email_gives_one_readers_data_with_provenance(
    services: Services, tmp_path: Path
) -> None:
    """GDPR access: every field kept about the reader (consent record included) and the
    issues they were sent, as `field,value` CSV; unknown or erased addresses say so."""
    from newsletter.runtime.sending import send_issue

    path = tmp_path / "salon.csv"
    path.write_text("email,name,consent_at,consent_source\nzoe@example.org,=Zoé,2026-05-14,salon\n")
    assert _cli(services, "subscribers", "import", str(path)).exit_code == 0
    add_subscribers(services, 2)
    issue_id = make_issue(services)
    send_issue(services, issue_id, render=fake_render, sleep=lambda _s: None)

    result = _cli(services, "subscribers", "export", "--email", "Zoe@Example.org")

    assert result.exit_code == 0, result.output
    fields = dict(line.split(",", 1) for line in result.output.splitlines()[1:])
    assert fields["email"] == "zoe@example.org"
    assert fields["name"] == "'=Zoé"  # inert for spreadsheets
    assert fields["status"] == "active"
    assert fields["consent_method"] == "import"
    assert fields["consent_file"] == "salon.csv"
    assert fields["consent_source"] == "salon"
    assert fields["consent_by"] == _os_user()
    assert fields["consent_at"] == "2026-05-13T22:00:00+00:00"
    assert _recent(datetime.fromisoformat(fields["consent_recorded_at"]))
    assert fields["issue 1"].startswith("sent ")
    assert "u0@example.org" not in result.output  # nobody else's data

    unknown = _cli(services, "subscribers", "export", "--email", "who@example.org")
    erasure.remove(audience_of(services), "zoe@example.org")
    erased = _cli(services, "subscribers", "export", "--email", "zoe@example.org")
    assert "who@example.org is not on the list" in str(unknown.exception)
    assert "erased at its owner's request" in str(erased.exception)


def test_personal_export_of_an_unknown_address_exits_2(tmp_path: Path) -> None:
    """As a user runs it: exit 2, one line."""
    config = _plain_config(tmp_path)
    result = run_cli("subscribers", "export", "--email", "who@example.org", config=config)
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["error: who@example.org is not on the list"]


def test_confirmation_owed_by_add_is_queued_once(services: Services) -> None:
    """A pending add queues exactly one confirmation, in the same transaction as the row."""
    audience = audience_of(services)
    subscribers.add(audience, "p@example.org", by="tester")
    subscribers.add(audience, "p@example.org", by="tester")  # already known: nothing more
    with services.store.engine.connect() as connection:
        kinds = connection.execute(sa.select(outbox.c.kind)).scalars().all()
    assert kinds == [CONFIRM]
    assert _consent(services, "p@example.org")["consent_method"] == ConsentMethod.EDITOR
