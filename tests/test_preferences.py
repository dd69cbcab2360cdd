"""Readers' sections: the preferences page, the CLI and CSV, export and erasure."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from click.testing import CliRunner

from newsletter.audience import subscribers
from newsletter.cli import cli
from newsletter.domain.clock import FrozenClock
from newsletter.domain.readers import SubscriberStatus
from newsletter.domain.tokens import CONFIRM, UNSUBSCRIBE
from newsletter.runtime.audience import audience_of
from newsletter.runtime.wiring import Services
from newsletter.store.subscribers import SignupOutcome
from tests.desk_support import client_for
from tests.readers_support import bulk_readers, copy_links, readers, sent_issue
from tests.test_cli import run_cli

__all__ = ["readers"]

FORM = {"content-type": "application/x-www-form-urlencoded"}
CONSENT = subscribers.Consent(ip="192.0.2.1", source="test", text="fr:abc")


def _cli(services: Services, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, [*args, "--config", str(services.config.path)])
    assert result.exit_code == code, result.output
    return result.output


def _token(services: Services, email: str) -> str:
    subscriber = services.store.subscribers.by_email(email)
    assert subscriber is not None
    return services.signer.sign(UNSUBSCRIBE, subscriber.id, services.clock())


def test_preferences_page_shows_and_saves_sections(readers: Services) -> None:
    """The page lists every section checked for a reader of everything; saving two of them
    keeps exactly those; a later GET shows that choice; the unsubscribe button is there."""
    bulk_readers(readers, (), 1, 0)
    token = _token(readers, "r0@example.org")
    client = client_for(readers)
    page = client.get(f"/preferences/{token}")
    assert page.status_code == 200
    assert page.text.count("checked") == 3
    assert f'action="/unsubscribe/{token}"' in page.text
    assert "Vos rubriques" in page.text
    saved = client.post(
        f"/preferences/{token}",
        content="sections=Tech&sections=Climat&sections=Inconnue",
        headers=FORM,
    )
    assert saved.status_code == 200 and "Votre choix est enregistré" in saved.text
    subscriber = readers.store.subscribers.by_email("r0@example.org")
    assert subscriber is not None and subscriber.sections == ("Climat", "Tech")  # sorted
    again = client.get(f"/preferences/{token}")
    assert again.text.count("checked") == 2
    everything = client.post(f"/preferences/{token}", content="", headers=FORM)
    assert everything.status_code == 200
    subscriber = readers.store.subscribers.by_email("r0@example.org")
    assert subscriber is not None and subscriber.sections == ()


def test_bad_preferences_tokens_get_a_400_page(readers: Services) -> None:
    """A forged token, a confirmation token, an erased reader's token: 400, nothing saved."""
    bulk_readers(readers, ("Tech",), 1, 0)
    token = _token(readers, "r0@example.org")
    subscriber = readers.store.subscribers.by_email("r0@example.org")
    assert subscriber is not None
    confirm = readers.signer.sign(CONFIRM, subscriber.id, readers.clock())
    client = client_for(readers)
    for bad in (token[:-3] + "abc", confirm, "nope"):
        assert client.get(f"/preferences/{bad}").status_code == 400
        answer = client.post(f"/preferences/{bad}", content="sections=Climat", headers=FORM)
        assert answer.status_code == 400
    subscriber = readers.store.subscribers.by_email("r0@example.org")
    assert subscriber is not None and subscriber.sections == ("Tech",)
    _cli(readers, "subscribers", "remove", "r0@example.org")
    assert client.get(f"/preferences/{token}").status_code == 400


def test_cli_add_and_list_carry_sections(readers: Services) -> None:
    """`subscribers add --sections`, `list --json` gives `sections` ([] = every section); an
    unknown section is one clear line, exit 2."""
    _cli(readers, "subscribers", "add", "a@example.org", "--confirmed", "--sections", "Climat,Tech")
    _cli(readers, "subscribers", "add", "b@example.org", "--confirmed")
    listed = json.loads(_cli(readers, "subscribers", "list", "--json"))["subscribers"]
    assert {row["email"]: row["sections"] for row in listed} == {
        "a@example.org": ["Climat", "Tech"],
        "b@example.org": [],
    }
    result = run_cli(
        *("subscribers", "add", "c@example.org", "--sections", "Tech,Foot"),
        config=readers.config.path,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: unknown section 'Foot' (sections: Tech, Climat, Sport)"
    ]


def test_csv_import_and_export_carry_sections(readers: Services, tmp_path: Path) -> None:
    """The `sections` column is read on import (a bad one rejects its row) and written on
    export."""
    source = tmp_path / "list.csv"
    source.write_text(
        'email,name,sections\na@example.org,Ada,"Tech,Climat"\nb@example.org,Bob,\n'
        'c@example.org,Cy,"=HYPERLINK(1)"\n',
        encoding="utf-8",
    )
    report = _cli(readers, "subscribers", "import", str(source), "--json")
    data = json.loads(report)
    assert data["added"] == 2 and len(data["rejected"]) == 1
    out = tmp_path / "export.csv"
    _cli(readers, "subscribers", "export", "--out", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert {row["email"]: row["sections"] for row in rows} == {
        "a@example.org": "Climat,Tech",
        "b@example.org": "",
    }


def test_personal_export_has_sections_and_clicks_erasure_removes_them(readers: Services) -> None:
    """`export --email` shows the reader's sections and clicks; erasing deletes the clicks."""
    sent_issue(readers, 1)
    readers.store.subscribers.set_sections(
        readers.store.subscribers.by_email("r0@example.org").id,  # type: ignore[union-attr]
        ("Tech",),
    )
    client = client_for(readers)
    client.get(copy_links(readers, "r0@example.org")[0].removeprefix("https://news.example.org"))
    exported = _cli(readers, "subscribers", "export", "--email", "r0@example.org")
    rows = list(csv.reader(io.StringIO(exported)))
    assert ["sections", "Tech"] in rows
    assert [row[0] for row in rows if row[1].endswith(" https://example.org/tech")] == [
        "click issue 1"
    ]
    with readers.store.engine.connect() as connection:
        from sqlalchemy import func, select

        from newsletter.store.reader_tables import clicks

        assert connection.execute(select(func.count()).select_from(clicks)).scalar_one() == 1
    _cli(readers, "subscribers", "remove", "r0@example.org")
    with readers.store.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(clicks)).scalar_one() == 0


def test_sign_up_form_states_click_counting_when_tracked(readers: Services) -> None:
    """`[links] track_clicks` (on by default): the consent text says links are counted."""
    page = client_for(readers).get("/subscribe")
    assert page.status_code == 200
    assert "nous comptons ceux que les lecteurs ouvrent" in page.text


def test_a_sign_up_request_records_the_sections_asked_for(
    readers: Services, clock: FrozenClock
) -> None:
    """A new sign-up stores the sections it names (as the preferences page reads boxes); a
    later request that sends a confirmation again replaces them only when it names some; an
    active reader's choice is never changed by a sign-up."""
    audience = audience_of(readers)

    def ask(email: str, sections: list[str] | None) -> tuple[SignupOutcome, tuple[str, ...]]:
        outcome = subscribers.request_subscription(audience, email, None, CONSENT, sections)
        found = readers.store.subscribers.by_email(email)
        assert found is not None
        return outcome, found.sections

    readers.store.subscribers.add(
        "b@example.org", None, SubscriberStatus.ACTIVE, clock.now, sections=("Sport",)
    )
    steps = [ask("a@example.org", ["Climat", "Foot"]), ask("a@example.org", ["Tech"])]
    clock.advance(minutes=6)
    steps.append(ask("a@example.org", None))
    clock.advance(minutes=6)
    steps += [ask("a@example.org", ["Tech"]), ask("b@example.org", ["Tech"])]
    assert steps == [
        (SignupOutcome.CREATED, ("Climat",)),
        (SignupOutcome.NOTHING, ("Climat",)),  # too soon: nothing written
        (SignupOutcome.RESENT, ("Climat",)),
        (SignupOutcome.RESENT, ("Tech",)),
        (SignupOutcome.NOTHING, ("Sport",)),
    ]
