"""The command line: documented commands, exit codes, and the subscriber commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.runtime.config import Config

ROOT = Path(__file__).resolve().parent.parent


def run_cli(
    *args: str, config: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m newsletter.cli` in a subprocess, as a user would."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "NEWSLETTER_SECRET_KEY": "test"}
    env.pop("NEWSLETTER_DATABASE_URL", None)
    prefix = ["--config", str(config)] if config else []
    return subprocess.run(
        [sys.executable, "-m", "newsletter.cli", *prefix, *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=120,
    )


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, f"{prefix}{name} "))
    return found


def test_every_command_is_documented() -> None:
    """Each command has a help text: its docstring is the --help."""
    commands = _commands(cli)
    assert len(commands) >= 20
    undocumented = [name for name, command in commands if not (command.help or "").strip()]
    assert undocumented == []


def test_contract_commands_exist() -> None:
    """The commands of DESIGN.md section 4 are all there."""
    names = {name for name, _ in _commands(cli)}
    expected = {
        "init", "collect", "issue draft", "issue list", "issue preview", "issue test",
        "issue schedule", "issue send", "issue status", "subscribers add",
        "subscribers import", "subscribers export", "subscribers list", "subscribers remove",
        "feeds", "editors add", "doctor", "run",
    }  # fmt: skip
    assert expected <= names


def test_bad_config_exits_2_with_one_line(tmp_path: Path) -> None:
    """A wrong value: exit 2, one line naming file and key, no traceback."""
    path = tmp_path / "config.toml"
    path.write_text("[collect]\nconcurrency = 'many'\n")
    result = run_cli("init", config=path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"{path}: collect.concurrency:" in lines[0]
    assert "Traceback" not in result.stderr


def test_uninitialised_database_is_a_usage_error(tmp_path: Path) -> None:
    """Commands before `init` say what to do."""
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/db.sqlite"\n')
    result = run_cli("issue", "list", config=path)
    assert result.returncode == 2
    assert "newsletter init" in result.stderr


@pytest.fixture
def cli_config(make_config: Callable[..., Config]) -> Config:
    config = make_config()
    runner = CliRunner()
    first = runner.invoke(cli, ["--config", str(config.path), "init"])
    assert first.exit_code == 0, first.output
    return config


def invoke(config: Config, *args: str) -> str:
    result = CliRunner().invoke(cli, [*args, "--config", str(config.path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_init_is_idempotent(cli_config: Config) -> None:
    """A second init on the same database succeeds and changes nothing."""
    assert "database ready" in invoke(cli_config, "init")


def test_subscriber_commands(cli_config: Config, tmp_path: Path) -> None:
    """add, import (with line-numbered rejections), list --status, export, remove."""
    invoke(cli_config, "subscribers", "add", "Zoe@Exemple.FR", "--name", "Zoé", "--confirmed")
    invoke(cli_config, "subscribers", "add", "pending@example.org")
    csv_file = tmp_path / "list.csv"
    rows = "b@example.org,Bé\nnot-an-address,X\nzoe@exemple.fr,\nzoé@exemple.fr,\n"
    csv_file.write_text("email,name\n" + rows)
    report = json.loads(invoke(cli_config, "subscribers", "import", str(csv_file), "--json"))
    assert report["added"] == 1
    assert report["already"] == 1
    assert [r["line"] for r in report["rejected"]] == [3, 5]

    active = json.loads(invoke(cli_config, "subscribers", "list", "--status", "active", "--json"))
    assert [s["email"] for s in active["subscribers"]] == ["zoe@exemple.fr", "b@example.org"]
    exported = invoke(cli_config, "subscribers", "export")
    assert exported.splitlines()[0] == "email,name,status,sections"
    assert "pending@example.org,,pending," in exported

    assert "erased" in invoke(cli_config, "subscribers", "remove", "b@example.org")
    everyone = json.loads(invoke(cli_config, "subscribers", "list", "--json"))
    assert "b@example.org" not in {s["email"] for s in everyone["subscribers"]}


def test_issue_list_json_is_empty_at_first(cli_config: Config) -> None:
    """`issue list --json` has the contract's shape."""
    assert json.loads(invoke(cli_config, "issue", "list", "--json")) == {"issues": []}


def test_export_neutralises_formulas_and_imports_back(cli_config: Config, tmp_path: Path) -> None:
    """Names or addresses starting like a formula are exported inert and re-import unchanged."""
    runner = CliRunner()
    config = ["--config", str(cli_config.path)]
    added = runner.invoke(cli, [*config, "subscribers", "add", "--name", "=HYPERLINK(1)",
                                "--confirmed", "--", "-hello@example.org"])  # fmt: skip
    assert added.exit_code == 0, added.output
    exported = invoke(cli_config, "subscribers", "export")
    assert "'-hello@example.org,'=HYPERLINK(1),active," in exported.splitlines()
    removed = runner.invoke(cli, [*config, "subscribers", "remove", "--", "-hello@example.org"])
    assert removed.exit_code == 0, removed.output
    path = tmp_path / "back.csv"
    path.write_text(exported.replace("'-hello", "'-hallo"))
    report = json.loads(invoke(cli_config, "subscribers", "import", str(path), "--json"))
    assert report["added"] == 1, report
    listed = json.loads(invoke(cli_config, "subscribers", "list", "--json"))["subscribers"]
    hallo = {"email": "-hallo@example.org", "name": "=HYPERLINK(1)", "status": "active"}
    assert {**hallo, "sections": []} in listed


def test_malformed_address_is_bad_usage(tmp_path: Path) -> None:
    """A malformed address on the command line: exit 2 and one line saying why."""
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/db.sqlite"\n')
    assert run_cli("init", config=path).returncode == 0
    result = run_cli("subscribers", "add", "not-an-email", config=path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: 'not-an-email' is not a valid email address: An email address must have an @-sign."
    ]
    accented = run_cli("subscribers", "add", "zoé@exemple.fr", config=path)
    assert accented.returncode == 2
    assert accented.stderr.strip().splitlines() == [
        "error: 'zoé@exemple.fr' is not a valid email address: Internationalized characters"
        " before the @-sign are not supported: 'é'."
    ]


def test_issue_schedule_reads_a_time_without_offset_in_the_newsletter_zone(
    cli_config: Config,
) -> None:
    """`--at 2026-12-01T08:00` is 08:00 in [newsletter] timezone (Paris: 07:00 UTC in winter)."""
    from newsletter.runtime import wiring
    from tests.delivery_helpers import make_issue

    services = wiring.build(cli_config)
    try:
        issue_id = make_issue(services)
    finally:
        services.close()
    out = invoke(cli_config, "issue", "schedule", str(issue_id), "--at", "2026-12-01T08:00")
    assert "2026-12-01T07:00:00+00:00" in out
