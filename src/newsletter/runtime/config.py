"""Configuration: `config.toml` plus secrets from the environment.

The sections and their rules are in `newsletter.domain.settings`; this module reads the file and
the environment and resolves the paths against the file's folder.

`load(path, environ)` returns a validated, frozen `Config`; anything wrong raises `ConfigError`
naming the file, the key and the problem.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsletter.domain.checked import checked
from newsletter.domain.errors import ConfigError
from newsletter.domain.model import FeedSource
from newsletter.domain.settings import Secrets, Settings


@dataclass(frozen=True)
class Config:
    """Validated settings, the folder relative paths are resolved against, and the secrets."""

    path: Path
    settings: Settings
    secrets: Secrets

    @property
    def root(self) -> Path:
        return self.path.parent

    def resolve(self, relative: str) -> Path:
        """A path from the file, made absolute against the file's folder."""
        path = Path(relative).expanduser()
        return path if path.is_absolute() else self.root / path

    @property
    def database_url(self) -> str:
        return resolve_database_url(self.settings.database.url, self.root)

    @property
    def outbox(self) -> Path:
        return self.resolve(self.settings.email.file.dir)

    @property
    def data_dir(self) -> Path:
        return self.root / "subscribers"

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates" / "email"

    def feed_sources(self) -> list[FeedSource]:
        """The configured feeds, their locations made fetchable."""
        return [
            FeedSource(
                name=feed.name,
                url=self.feed_url(feed.url),
                section=feed.section,
                title=feed.title,
                weight=feed.weight,
            )
            for feed in self.settings.feeds
        ]

    def feed_url(self, url: str) -> str:
        """A feed location as a fetchable URL: http(s) and file: URLs kept, paths resolved."""
        if re.match(r"^(https?|file):", url):
            return url
        return self.resolve(url).resolve().as_uri()


def resolve_database_url(url: str, root: Path) -> str:
    """Make a relative SQLite path absolute against the config folder; other URLs unchanged."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str((root / url[len(prefix) :]).resolve())
    return url


def default_path(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("NEWSLETTER_CONFIG", "config.toml"))


def load(path: Path | str, environ: Mapping[str, str] | None = None) -> Config:
    """Read, validate and complete the configuration at `path`."""
    env = os.environ if environ is None else environ
    path = Path(path)
    shown = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            shown, "", "no such file (pass --config PATH or set NEWSLETTER_CONFIG)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(shown, "", f"cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(shown, "", f"invalid TOML: {exc}") from None
    return from_mapping(raw, path, env)


def from_mapping(raw: Mapping[str, Any], path: Path, environ: Mapping[str, str]) -> Config:
    """Validate an already parsed TOML document (tests build configs this way)."""
    data = dict(raw)
    if environ.get("NEWSLETTER_DATABASE_URL"):
        data["database"] = {**data.get("database", {}), "url": environ["NEWSLETTER_DATABASE_URL"]}
    try:
        settings = checked(Settings, data)
    except ConfigError as exc:
        raise ConfigError(str(path), exc.key, exc.problem) from None
    webhook_key = environ.get("SENDGRID_WEBHOOK_PUBLIC_KEY", "")
    secrets = Secrets(
        smtp_password=environ.get("NEWSLETTER_SMTP_PASSWORD", ""),
        sendgrid_api_key=environ.get("SENDGRID_API_KEY", ""),
        sendgrid_webhook_public_key=webhook_key or settings.email.sendgrid.webhook_public_key,
        secret_key=environ.get("NEWSLETTER_SECRET_KEY", ""),
    )
    return Config(path=path.resolve(), settings=settings, secrets=secrets)
