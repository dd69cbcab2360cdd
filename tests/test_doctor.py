"""`newsletter doctor`: a table of checks, non-zero when one fails."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.runtime import config as config_module
from newsletter.runtime.config import Config
from newsletter.runtime.doctor import Check, check_base_url, run_checks
from tests.conftest import ROOT, shared_path
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
    for name in ("config", "database", "migrations", "templates", "provider", "secret key",
                 "base_url"):  # fmt: skip
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


def _serving_at(config: Config, url: str) -> Config:
    """The same deployment with another [newsletter] base_url, in its file too."""
    config.path.write_text(config.path.read_text().replace("https://news.example.org", url))
    return config_module.load(config.path, {"NEWSLETTER_SECRET_KEY": "test-secret"})


@pytest.mark.parametrize("url", ["http://news.example.org", "http://203.0.113.5:8000"])
def test_plain_http_base_url_fails_and_says_why(
    make_config: Callable[..., Config], url: str
) -> None:
    """Links over plain http to the public: the check fails, citing RFC 8058, exit 1."""
    config = _serving_at(make_config(), url)
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(config.path), "init"]).exit_code == 0

    check = next(c for c in run_checks(config) if c.name == "base_url")
    result = runner.invoke(cli, ["--config", str(config.path), "doctor"])

    assert not check.ok
    assert "RFC 8058" in check.detail and "https" in check.detail and url in check.detail
    assert result.exit_code == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8000",
        "http://127.0.0.1:8000",
        "http://[::1]:8000",
        "http://newsletter.localhost",
    ],
)
def test_http_on_loopback_passes_as_development(
    make_config: Callable[..., Config], url: str
) -> None:
    """http on this machine is development: accepted, and the detail says so."""
    detail = check_base_url(_serving_at(make_config(), url))
    assert "development" in detail


def test_shipped_config_is_development_and_doctor_says_so() -> None:
    """The shipped config.toml serves http://localhost (a demo): the check passes as
    development, and names https as what readers need."""
    config = config_module.load(ROOT / "config.toml", {})
    assert urlsplit(config.settings.newsletter.base_url).hostname == "localhost"
    detail = check_base_url(config)
    assert "development" in detail and "https" in detail


def _own_templates(config: Config) -> Path:
    """The deployment's own copy of the project's email templates (never the repository's)."""
    folder = config.root / "templates"
    folder.unlink()
    shutil.copytree(ROOT / "templates", folder)
    return folder / "email"


def _templates_check(config: Config) -> Check:
    return next(c for c in run_checks(config) if c.name == "templates")


def test_every_email_template_is_rendered(make_config: Callable[..., Config]) -> None:
    """A typo in the digest (the test email is fine) fails the templates check, exit 1."""
    config = make_config()
    folder = _own_templates(config)
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(config.path), "init"]).exit_code == 0
    assert _templates_check(config).ok

    (folder / "digest.txt").write_text("{{ issue.no_such_field }}\n")
    check = _templates_check(config)
    result = runner.invoke(cli, ["--config", str(config.path), "doctor"])

    assert not check.ok
    assert check.detail.startswith("digest: digest.txt") and "no_such_field" in check.detail
    assert result.exit_code == 1


@pytest.mark.parametrize("email", ["confirm", "welcome"])
def test_a_broken_transactional_template_fails(
    make_config: Callable[..., Config], email: str
) -> None:
    """A syntax error in a sign-up email is caught by doctor, naming the file and line."""
    config = make_config()
    folder = _own_templates(config)
    (folder / f"{email}.html").write_text("<p>\n{% if %}</p>\n")
    check = _templates_check(config)
    assert not check.ok
    assert f"{email}: {folder / email}.html:2: " in check.detail


def test_a_deleted_template_falls_back_on_the_shipped_one(
    make_config: Callable[..., Config],
) -> None:
    """Deleting the deployment's digest.html is not a failure: the package's own one renders,
    and the detail says the folder is used over the shipped templates."""
    config = make_config()
    folder = _own_templates(config)
    (folder / "digest.html").unlink()
    check = _templates_check(config)
    assert check.ok, check.detail
    assert str(folder) in check.detail and "shipped" in check.detail


def test_an_unreadable_config_is_exit_2(tmp_path: Path) -> None:
    """A configuration doctor cannot read is bad configuration: exit 2, as the README says."""
    broken = tmp_path / "config.toml"
    broken.write_text("[newsletter\n")
    result = CliRunner().invoke(cli, ["--config", str(broken), "doctor"])
    assert result.exit_code == 2
    assert "FAIL" in result.output
