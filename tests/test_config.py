"""Configuration loading: defaults, env overrides, and one-line errors naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.domain.errors import ConfigError
from newsletter.runtime import config as config_module

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_config_loads() -> None:
    """The config.toml at the root is valid and its sample feed resolves to a local file."""
    config = config_module.load(ROOT / "config.toml", {})
    assert config.settings.newsletter.name == "MaddyNews"
    assert config.settings.email.provider == "file"
    sample = next(f for f in config.feed_sources() if f.name == "sample")
    assert sample.url.startswith("file://")
    assert Path(sample.url.removeprefix("file://")).is_file()
    assert config.database_url == f"sqlite:///{ROOT / 'subscribers' / 'newsletter.db'}"


def test_environment_overrides_database_and_secrets(tmp_path: Path) -> None:
    """NEWSLETTER_DATABASE_URL wins over the file; secrets come only from the environment."""
    path = tmp_path / "c.toml"
    path.write_text('[database]\nurl = "sqlite:///x.db"\n')
    env = {
        "NEWSLETTER_DATABASE_URL": "postgresql://db/news",
        "SENDGRID_API_KEY": "SG.key",
        "NEWSLETTER_SECRET_KEY": "s3cret",
    }
    config = config_module.load(path, env)
    assert config.database_url == "postgresql://db/news"
    assert config.secrets.sendgrid_api_key == "SG.key"
    assert config.secrets.secret_key == "s3cret"


@pytest.mark.parametrize(
    ("toml", "key", "problem"),
    [
        ("[collect]\ntimeout_seconds = 'abc'\n", "collect.timeout_seconds", "number"),
        ("[collect]\ntimeout = 3\n", "collect.timeout", "unknown key"),
        ("[newsletter]\ntimezone = 'Mars/Olympus'\n", "newsletter.timezone", "unknown time zone"),
        ("[digest]\nschedule = 'someday'\n", "digest.schedule", "weekday"),
        ("[email]\nprovider = 'pigeon'\n", "email.provider", "pigeon"),
        ("[[feeds]]\nurl = 'x'\n", "feeds[0].name", "required"),
        ("[newsletter]\nbase_url = 'localhost'\n", "newsletter.base_url", "http"),
        ("[[feeds]]\nname = 'a'\nurl = 'x'\n[[feeds]]\nname = 'a'\nurl = 'y'\n", "feeds", "two"),
        ("[[sections]]\nname = 'Tech'\n[[sections]]\nname = 'Tech'\n", "sections", "'Tech'"),
        ("[subscribe]\nconfirm_days = 20\npending_days = 10\n", "subscribe", "outlive"),
        ("[email.smtp]\nport = 0\n", "email.smtp.port", "at least 1"),
        ("[web]\ncors_origins = ['https://a.org/path']\n", "web.cors_origins", "origin"),
    ],
)
def test_bad_values_name_file_and_key(tmp_path: Path, toml: str, key: str, problem: str) -> None:
    """Each mistake is reported on one line with the file, the dotted key and the problem."""
    path = tmp_path / "config.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as caught:
        config_module.load(path, {})
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {key}: ")
    assert problem in message


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    """Syntax errors and a missing file are config errors too."""
    path = tmp_path / "config.toml"
    path.write_text("[newsletter\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        config_module.load(path, {})
    with pytest.raises(ConfigError, match="no such file"):
        config_module.load(tmp_path / "absent.toml", {})


@pytest.mark.parametrize(
    ("toml", "key", "problem"),
    [
        (
            "[email]\nunsubscribe_mailto = 'mailto:u@x.org?subject=a'\n",
            "unsubscribe_mailto",
            "mailto",
        ),
        ("[email]\nunsubscribe_mailto = 'u@x.org, e@evil.org'\n", "unsubscribe_mailto", "ASCII"),
        ("[email]\nunsubscribe_mailto = 'désabo@x.org'\n", "unsubscribe_mailto", "ASCII"),
        ("[newsletter]\nbase_url = 'https://x.org/a b'\n", "newsletter.base_url", "ASCII"),
        ("[sender]\nemail = 'news@exemple-é.fr'\n", "sender.email", "xn--"),
    ],
)
def test_header_values_are_checked_where_configured(
    tmp_path: Path, toml: str, key: str, problem: str
) -> None:
    """What is written as is into List-Unsubscribe and From is refused when it could not be."""
    path = tmp_path / "c.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=key) as caught:
        config_module.load(path, {})
    assert problem in str(caught.value)


def test_unsubscribe_mailto_accepts_an_address_or_a_mailto_uri(tmp_path: Path) -> None:
    """Both spellings give the bare address the list headers are built with."""
    path = tmp_path / "c.toml"
    for value in ("desabo@maddynews.fr", "mailto:desabo@maddynews.fr"):
        path.write_text(f"[email]\nunsubscribe_mailto = '{value}'\n", encoding="utf-8")
        loaded = config_module.load(path, {})
        assert loaded.settings.email.unsubscribe_mailto == "desabo@maddynews.fr"
