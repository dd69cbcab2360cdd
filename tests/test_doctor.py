"""`newsletter doctor`: a table of checks, non-zero when one fails."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.config import Config
from newsletter.doctor import run_checks
from tests.conftest import shared_path
from tests.delivery_helpers import with_provider
from tests.sendgrid_server import API_KEY, SendgridServer


@pytest.fixture
def sendgrid() -> Iterator[SendgridServer]:
    server = SendgridServer(shared_path("sendgrid", "tsg_mail_v3.json")).start()
    yield server
    server.stop()


def test_healthy_deployment_passes(make_config: Callable[..., Config]) -> None:
    """After init, every check passes and the command exits 0."""
    config = make_config()
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(config.path), "init"]).exit_code == 0
    result = runner.invoke(cli, ["--config", str(config.path), "doctor"])
    assert result.exit_code == 0, result.output
    for name in ("config", "database", "migrations", "templates", "provider", "secret key"):
        assert name in result.output
    assert "FAIL" not in result.output


def test_uninitialised_database_fails(make_config: Callable[..., Config]) -> None:
    """Before init the migrations check fails, and the command says so with exit 1."""
    config = make_config()
    result = CliRunner().invoke(cli, ["--config", str(config.path), "doctor"])
    assert result.exit_code == 1
    failed = {c.name for c in run_checks(config) if not c.ok}
    assert failed == {"migrations"}


def test_sendgrid_key_is_checked(
    make_config: Callable[..., Config], sendgrid: SendgridServer
) -> None:
    """A key the (local) SendGrid accepts passes; a wrong one fails naming SENDGRID_API_KEY."""
    good = with_provider(make_config(environ={"SENDGRID_API_KEY": API_KEY}), "sendgrid",
                         host=sendgrid.url)  # fmt: skip
    provider_check = next(c for c in run_checks(good) if c.name == "provider")
    assert provider_check.ok, provider_check.detail
    assert "mail.send" in provider_check.detail

    bad = with_provider(make_config(environ={"SENDGRID_API_KEY": "SG.wrong"}), "sendgrid",
                        host=sendgrid.url)  # fmt: skip
    provider_check = next(c for c in run_checks(bad) if c.name == "provider")
    assert not provider_check.ok
    assert "SENDGRID_API_KEY" in provider_check.detail
