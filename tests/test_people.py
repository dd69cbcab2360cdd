"""The people who run the newsletter and the people who read it, in the desk: two roles
(an editor is refused every admin action over HTTP, not only by a hidden button), one-time
password links, the log of who did what, each subscriber's page, and the CSV import's preview;
`newsletter editors list|remove|role`; the migration makes existing editors admins."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from fastapi.testclient import TestClient

from newsletter.cli import cli
from newsletter.curate.editors import Role, add_editor, list_editors
from newsletter.curate.issues import send_now
from newsletter.domain.delivery import EventAction, ProviderEvent
from newsletter.domain.readers import SubscriberStatus
from newsletter.runtime import jobs
from newsletter.runtime.config import Config
from newsletter.runtime.wiring import Services
from newsletter.store import Store, migrate
from newsletter.store.reader_tables import deliveries
from tests.desk_support import EDITOR, client_for, csrf_of, logged_in, newsroom
from tests.test_cli import run_cli

WRITER, WRITER_PASSWORD = "dominique", "un mot de passe solide"


def log_in_as(services: Services, name: str, password: str) -> tuple[TestClient, str]:
    client = client_for(services)
    page = client.get("/desk/login")
    answer = client.post(
        "/desk/login",
        data={"csrf": csrf_of(page.text), "name": name, "password": password, "next": "/desk"},
    )
    assert answer.status_code == 303, answer.text[:300]
    return client, csrf_of(client.get("/desk").text)


def writer(services: Services) -> tuple[TestClient, str]:
    """A logged-in editor whose role is `editor` (an admin exists already)."""
    add_editor(services.store.editors, services.clock(), WRITER, WRITER_PASSWORD, role=Role.EDITOR)
    return log_in_as(services, WRITER, WRITER_PASSWORD)


def log_actions(services: Services) -> list[tuple[str, str, str]]:
    return [(e.editor, e.action, e.target) for e in services.store.editors.recent_log()]


def test_first_editor_is_admin_and_the_next_ones_editors(services: Services) -> None:
    """Without a role, the first account is an admin (nobody is locked out), then editors."""
    now = services.clock()
    add_editor(services.store.editors, now, "ada", "0123456789ab")
    add_editor(services.store.editors, now, "bob", "0123456789ab")
    add_editor(services.store.editors, now, "cy", "0123456789ab", role=Role.ADMIN)
    roles = {e.name: e.role for e in list_editors(services.store.editors)}
    assert roles == {"ada": Role.ADMIN, "bob": Role.EDITOR, "cy": Role.ADMIN}


def test_editor_is_refused_every_admin_action_over_http(services: Services) -> None:
    """Sending, scheduling, erasing a subscriber, managing editors and reading the log answer
    403 to an editor, even posted by hand with a valid session and CSRF token; nothing changes."""
    issue = newsroom(services)
    logged_in(services)  # camille, the first account: admin
    client, csrf = writer(services)
    subscriber = services.store.subscribers.by_email("lecteur0@example.org")
    camille = services.store.editors.by_name(EDITOR)
    assert subscriber is not None and camille is not None
    posts = {
        f"/desk/issues/{issue.id}/send": {"confirm": "yes"},
        f"/desk/issues/{issue.id}/schedule": {"date": "2026-12-01", "time": "08:00"},
        f"/desk/subscribers/{subscriber.id}/erase": {},
        "/desk/editors/invite": {"name": "intrus", "role": "admin"},
        f"/desk/editors/{camille.id}/remove": {},
        f"/desk/editors/{camille.id}/reset": {},
        f"/desk/editors/{camille.id}/role": {"role": "editor"},
    }
    for path, data in posts.items():
        answer = client.post(path, data={"csrf": csrf, **data})
        assert answer.status_code == 403, (path, answer.status_code)
    for path in ("/desk/editors", "/desk/log"):
        assert client.get(path).status_code == 403, path
    assert services.store.issues.get(issue.id) == issue
    assert services.store.subscribers.get(subscriber.id) == subscriber
    assert {e.name: e.role for e in list_editors(services.store.editors)} == {
        EDITOR: Role.ADMIN,
        WRITER: Role.EDITOR,
    }
    page = client.get(f"/desk/subscribers/{subscriber.id}").text
    assert "/erase" not in page and "/desk/editors" not in page  # hidden too
    editor_page = client.get(f"/desk/issues/{issue.id}").text
    assert f"/desk/issues/{issue.id}/schedule" not in editor_page
    assert "réservés aux administrateurs" in editor_page
    assert log_actions(services) == []


def test_an_editors_browser_gets_a_desk_page_and_a_script_gets_json(services: Services) -> None:
    """The 403 an editor gets: a French page in the desk's layout, with a way back, for a
    browser (its Accept names text/html), whether it opens a page or posts a form; JSON for a
    script's fetch (Accept */* or application/json)."""
    issue = newsroom(services)
    logged_in(services)
    client, csrf = writer(services)
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    pages = [
        client.get("/desk/log", headers=browser),
        client.post(f"/desk/issues/{issue.id}/send", data={"csrf": csrf}, headers=browser),
    ]
    for page in pages:
        assert (page.status_code, page.headers["content-type"]) == (
            403,
            "text/html; charset=utf-8",
        )
        assert "<h1>Réservé aux administrateurs</h1>" in page.text
        assert 'href="/desk">Retour au tableau de bord</a>' in page.text
        assert f"Connecté·e : <strong>{WRITER}</strong>" in page.text  # the desk's layout
    for accept in ("*/*", "application/json"):
        answer = client.post(
            f"/desk/issues/{issue.id}/schedule", data={"csrf": csrf}, headers={"Accept": accept}
        )
        assert (answer.status_code, answer.json()) == (
            403,
            {"detail": "réservé aux administrateurs"},
        )
    assert log_actions(services) == []


def test_admin_sends_and_the_log_says_who_and_when(services: Services) -> None:
    """The admin's send goes through, and the log (admins only) names them."""
    issue = newsroom(services)
    client, csrf = logged_in(services)
    answer = client.post(f"/desk/issues/{issue.id}/send", data={"csrf": csrf, "confirm": "yes"})
    assert answer.status_code == 303 and "ok=sending" in answer.headers["location"]
    assert log_actions(services) == [(EDITOR, "issue_send", f"/desk/issues/{issue.id}/send")]
    page = client.get("/desk/log").text
    assert EDITOR in page and "Envoi ou programmation demandé" in page
    assert "lun. 23 novembre 2026, 08:00" in page  # when, in the newsletter's time zone


def test_invitation_link_sets_a_password_once(services: Services) -> None:
    """An admin invites an editor: the one-time link's page sets the password, the account
    logs in with it, and the same link then answers 400. The invited account cannot log in
    before."""
    admin, csrf = logged_in(services)
    page = admin.post(
        "/desk/editors/invite",
        data={"csrf": csrf, "name": WRITER, "email": "dom@redaction.example", "role": "editor"},
    )
    assert page.status_code == 200
    found = re.search(r'value="https://news\.example\.org(/desk/password/[^"]+)"', page.text)
    assert found, page.text[:2000]
    link = found.group(1)
    anonymous = client_for(services)
    login = anonymous.get("/desk/login")
    refused = anonymous.post(
        "/desk/login", data={"csrf": csrf_of(login.text), "name": WRITER, "password": ""}
    )
    assert refused.status_code == 401
    form = anonymous.get(link)
    assert form.status_code == 200 and WRITER in form.text
    short = anonymous.post(
        link, data={"csrf": csrf_of(form.text), "password": "court", "again": "court"}
    )
    assert short.status_code == 422
    done = anonymous.post(
        link,
        data={"csrf": csrf_of(form.text), "password": WRITER_PASSWORD, "again": WRITER_PASSWORD},
    )
    assert done.status_code == 303 and done.headers["location"] == "/desk/login?ok=password"
    log_in_as(services, WRITER, WRITER_PASSWORD)
    assert anonymous.get(link).status_code == 400  # used: the credentials changed
    assert anonymous.post(link, data={"csrf": csrf_of(form.text)}).status_code == 400
    assert [a for _, a, _ in log_actions(services)] == ["password_set", "editor_invited"]


def test_forged_or_reused_password_links_are_refused(services: Services) -> None:
    """A link with another id, an altered signature or garbage answers 400, never a form."""
    admin, csrf = logged_in(services)
    add_editor(services.store.editors, services.clock(), WRITER, WRITER_PASSWORD)
    target = services.store.editors.by_name(WRITER)
    assert target is not None
    page = admin.post(f"/desk/editors/{target.id}/reset", data={"csrf": csrf})
    found = re.search(r"/desk/password/([^\"]+)\"", page.text)
    assert found
    token = found.group(1)
    body, _, signature = token.partition(".")
    client = client_for(services)
    huge = services.signer.sign("editor-password:0", 2**40, services.clock())  # overflows ids
    for bad in (f"{body}.{signature[:-2]}AA", "x.y", "é", "a" * 500, f"{body}", huge):
        assert client.get(f"/desk/password/{bad}").status_code in (400, 404), bad
    assert client.get(f"/desk/password/{token}").status_code == 200


def test_the_last_admin_stays(services: Services) -> None:
    """Removing or demoting the only admin is refused; another admin can be named first."""
    client, csrf = logged_in(services)
    me = services.store.editors.by_name(EDITOR)
    assert me is not None
    answer = client.post(f"/desk/editors/{me.id}/role", data={"csrf": csrf, "role": "editor"})
    assert "err=lastadmin" in answer.headers["location"]
    add_editor(services.store.editors, services.clock(), WRITER, WRITER_PASSWORD)
    other = services.store.editors.by_name(WRITER)
    assert other is not None
    client.post(f"/desk/editors/{other.id}/role", data={"csrf": csrf, "role": "admin"})
    removed = client.post(f"/desk/editors/{other.id}/remove", data={"csrf": csrf})
    assert "ok=editor_removed" in removed.headers["location"]
    assert [e.name for e in list_editors(services.store.editors)] == [EDITOR]


def test_subscriber_page_history_edit_unsubscribe_erase(services: Services) -> None:
    """A subscriber's page shows their consent and the copies sent to them; the name is
    edited, the address unsubscribed, then erased by the admin: each step is logged."""
    issue = newsroom(services, subscribers=2)
    send_now(services.store.issues, issue.id, services.clock())
    jobs.dispatch_due(services)
    client, csrf = logged_in(services)
    subscriber = services.store.subscribers.by_email("lecteur1@example.org")
    assert subscriber is not None
    url = f"/desk/subscribers/{subscriber.id}"
    with services.store.engine.connect() as connection:
        delivery_id = connection.execute(
            sa.select(deliveries.c.id).where(deliveries.c.subscriber_id == subscriber.id)
        ).scalar_one()
    opened = ProviderEvent("ev-1", "open", EventAction.COUNTED, delivery_id=delivery_id)
    services.store.events.apply_all([opened], services.clock())
    page = client.get(url).text
    assert f"N°{issue.number}" in page and "Consentement" in page
    assert "<td>Envoyé</td>" in page and "<td>Ouverture</td>" in page
    other = services.store.subscribers.by_email("lecteur0@example.org")
    assert other is not None and "Ouverture" not in client.get(f"/desk/subscribers/{other.id}").text
    client.post(f"{url}/edit", data={"csrf": csrf, "name": "Lectrice Une"})
    assert services.store.subscribers.get(subscriber.id).name == "Lectrice Une"  # type: ignore[union-attr]
    client.post(f"{url}/unsubscribe", data={"csrf": csrf})
    left = services.store.subscribers.get(subscriber.id)
    assert left is not None and left.status is SubscriberStatus.UNSUBSCRIBED
    erased = client.post(f"{url}/erase", data={"csrf": csrf})
    assert erased.status_code == 303
    assert services.store.subscribers.get(subscriber.id) is None
    assert services.store.subscribers.is_suppressed("lecteur1@example.org")
    assert [(a, t) for _, a, t in log_actions(services)] == [
        ("subscriber_erased", "l•••1@example.org"),
        ("subscriber_unsubscribed", "lecteur1@example.org"),
        ("subscriber_edited", "lecteur1@example.org"),
    ]
    assert client.get(url).status_code == 404


def test_csv_import_previews_then_imports_what_was_previewed(services: Services) -> None:
    """The preview writes nothing and says, in French, why rows are refused; confirming
    imports the previewed text."""
    newsroom(services, subscribers=1)
    client, csrf = logged_in(services)
    csv = (
        "email,name\n"
        "nouvelle@example.org,Nouvelle\n"
        "lecteur0@example.org,Déjà là\n"
        "jean.dupont@,Sans domaine\n"
        "sans-arobase,Rien\n"
    )
    preview = client.post(
        "/desk/subscribers/import",
        data={"csrf": csrf, "step": "preview"},
        files={"file": ("liste.csv", csv.encode(), "text/csv")},
    )
    assert preview.status_code == 200, preview.text[:500]
    text = preview.text
    counts = {
        key: re.search(rf'id="count-{key}"><span class="n">(\d+)', text).group(1)  # type: ignore[union-attr]
        for key in ("new", "already", "resubscribed", "rejected")
    }
    assert counts == {"new": "1", "already": "1", "resubscribed": "0", "rejected": "2"}
    assert "Il manque la fin de l’adresse" in text and "Il manque le « @ »" in text
    assert "valid email" not in text
    assert services.store.subscribers.by_email("nouvelle@example.org") is None
    done = client.post(
        "/desk/subscribers/import",
        data={"csrf": csrf, "step": "import", "filename": "liste.csv", "csv": csv},
    )
    assert done.status_code == 303
    added = services.store.subscribers.by_email("nouvelle@example.org")
    assert added is not None and added.status is SubscriberStatus.ACTIVE
    assert log_actions(services)[0][1:] == (
        "subscribers_imported",
        "liste.csv : 1 ajoutés, 0 réinscrits, 2 refusés",
    )


def test_editors_cli_list_role_remove(make_config: Callable[..., Config]) -> None:
    """`editors add` (first admin, then editors, --role), `list --json`, `role`, `remove`;
    the last admin cannot be removed (exit 2, one line)."""
    config = make_config()
    runner = CliRunner()
    base = ["--config", str(config.path)]
    assert runner.invoke(cli, [*base, "init"]).exit_code == 0
    for name, extra in (("ada", []), ("bob", []), ("cy", ["--role", "admin"])):
        added = runner.invoke(
            cli, [*base, "editors", "add", name, *extra], input="0123456789ab\n0123456789ab\n"
        )
        assert added.exit_code == 0, added.output
    listed = json.loads(runner.invoke(cli, [*base, "editors", "list", "--json"]).output)
    assert listed == {
        "editors": [
            {"name": "ada", "email": None, "role": "admin"},
            {"name": "bob", "email": None, "role": "editor"},
            {"name": "cy", "email": None, "role": "admin"},
        ]
    }
    assert runner.invoke(cli, [*base, "editors", "role", "bob", "admin"]).exit_code == 0
    assert runner.invoke(cli, [*base, "editors", "remove", "cy"]).exit_code == 0
    assert runner.invoke(cli, [*base, "editors", "role", "ada", "editor"]).exit_code == 0
    last = run_cli("editors", "remove", "bob", config=config.path)
    assert last.returncode == 2, last.stderr
    assert last.stderr.strip().splitlines() == [
        "error: bob is the last admin: make another editor admin first"
    ]
    missing = run_cli("editors", "remove", "zoé", config=config.path)
    assert missing.returncode == 2 and "no editor is named 'zoé'" in missing.stderr
    listed = json.loads(runner.invoke(cli, [*base, "editors", "list", "--json"]).output)
    assert [(e["name"], e["role"]) for e in listed["editors"]] == [
        ("ada", "editor"),
        ("bob", "admin"),
    ]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_migration_makes_existing_editors_admins(database_url: str) -> None:
    """Editors created before roles existed are admins after 0008_people (nobody locked out)."""
    store = Store.from_url(database_url)
    migrate.upgrade(store.engine, "0005_sources")
    with store.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO editors (name, password_hash, created_at, session_epoch)"
                " VALUES ('ancien', 'x', '2026-01-01 00:00:00', 0)"
            )
        )
    store.migrate()
    stored = store.editors.by_name("ancien")
    store.close()
    assert stored is not None and stored.role == "admin"


def test_hostile_csv_and_names_stay_text_in_the_desk(services: Services) -> None:
    """A CSV whose cells close the preview's textarea and open a script, and an invited
    editor named like markup: the pages show them as text; the import stores the cells as
    written (inert for spreadsheets on export)."""
    client, csrf = logged_in(services)
    attack = "</textarea><script>alert(1)</script>"
    csv = f"email,name\nhostile@example.org,{attack}\n"
    preview = client.post(
        "/desk/subscribers/import",
        data={"csrf": csrf, "step": "preview"},
        files={"file": (f"{attack}.csv", csv.encode(), "text/csv")},
    )
    assert preview.status_code == 200
    assert "<script>" not in preview.text and "&lt;/textarea&gt;&lt;script&gt;" in preview.text
    textarea = re.search(r'<textarea name="csv"[^>]*>(.*?)</textarea>', preview.text, re.S)
    assert textarea is not None
    done = client.post(
        "/desk/subscribers/import",
        data={"csrf": csrf, "step": "import", "filename": "x.csv", "csv": csv},
    )
    assert done.status_code == 303
    stored = services.store.subscribers.by_email("hostile@example.org")
    assert stored is not None and stored.name == attack
    page = client.get(f"/desk/subscribers/{stored.id}").text
    assert "<script>" not in page and "&lt;/textarea&gt;" in page
    invited = client.post(
        "/desk/editors/invite", data={"csrf": csrf, "name": "<img src=x onerror=alert(1)>"}
    )
    assert "<img src=x" not in invited.text and "&lt;img src=x onerror=alert(1)&gt;" in invited.text
    log = client.get("/desk/log").text
    assert "<img src=x" not in log and "<script>" not in log


def test_unreadable_csv_is_refused_with_one_line(services: Services) -> None:
    """No `email` column, or a file over the desk's limit: 422, the page says why, nothing
    is imported."""
    client, csrf = logged_in(services)
    for name, body in (
        ("noemail.csv", b"nom,prenom\nx,y\n"),
        ("huge.csv", b"email\n" + b"a@example.org\n" * 80_000),
    ):
        answer = client.post(
            "/desk/subscribers/import",
            data={"csrf": csrf, "step": "preview"},
            files={"file": (name, body, "text/csv")},
        )
        assert answer.status_code in (413, 422), (name, answer.status_code)
        if answer.status_code == 422:
            problem = re.search(r'<p class="problem" role="alert">([^<]+)</p>', answer.text)
            assert problem and "email" in problem.group(1), answer.text[:500]
    assert services.store.subscribers.count() == 0
