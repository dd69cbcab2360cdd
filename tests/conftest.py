"""Shared fixtures: a real temporary database (SQLite, and PostgreSQL when
NEWSLETTER_TEST_DATABASE_URL is set), a configuration in a temporary folder, and services
wired with the in-memory provider and a frozen clock."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from newsletter.deliver import sender_of
from newsletter.deliver.memory import MemoryProvider
from newsletter.domain.clock import FrozenClock
from newsletter.runtime import config as config_module
from newsletter.runtime import wiring
from newsletter.store import Store

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
PG_URL = os.environ.get("NEWSLETTER_TEST_DATABASE_URL", "")

DATABASES = ["sqlite"] + (["postgresql"] if PG_URL else [])
BASE_URL = "https://news.example.org"


def free_port() -> int:
    """A loopback port nothing listens on (for a server to take, or to find closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or a clean skip when the corpus is not there."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared/{'/'.join(parts)} is not available")
    return path


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh schema on the PostgreSQL test server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'newsletter.db'}"
        return
    yield from _postgres_schema()


def _postgres_schema() -> Iterator[str]:
    schema = f"t_{secrets.token_hex(6)}"
    admin = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    url = sa.engine.make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL schema, for tests that need PostgreSQL itself."""
    if not PG_URL:
        pytest.skip("NEWSLETTER_TEST_DATABASE_URL is not set")
    yield from _postgres_schema()


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    built = Store.from_url(database_url)
    built.migrate()
    yield built
    built.close()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 23, 7, 0, tzinfo=UTC))


def write_config(
    folder: Path, database_url: str, extra: str = "", feeds: str = "", base_url: str = BASE_URL
) -> Path:
    """A complete config.toml in `folder`, using the given database."""
    path = folder / "config.toml"
    path.write_text(
        f"""
[newsletter]
name = "MaddyNews"
base_url = "{base_url}"
timezone = "Europe/Paris"
language = "fr"
postal_address = "10 rue de l'Exemple, 75002 Paris"

[sender]
email = "newsletter@example.org"
name = "MaddyNews"

[database]
url = "{database_url}"

{feeds}

[digest]
max_articles = 12
min_articles = 1

[email]
provider = "file"
[email.file]
dir = "outbox"
{extra}
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def make_config(tmp_path: Path, database_url: str) -> Callable[..., config_module.Config]:
    """Build a Config in tmp_path; `extra` is appended TOML, `feeds` TOML [[feeds]] tables."""
    (tmp_path / "templates").symlink_to(ROOT / "templates")

    def make(
        extra: str = "",
        feeds: str = "",
        environ: dict[str, str] | None = None,
        base_url: str = BASE_URL,
    ) -> Any:
        path = write_config(tmp_path, database_url, extra, feeds, base_url)
        env = {"NEWSLETTER_SECRET_KEY": "test-secret", **(environ or {})}
        return config_module.load(path, env)

    return make


@pytest.fixture
def services(
    make_config: Callable[..., config_module.Config], clock: FrozenClock
) -> Iterator[wiring.Services]:
    """Services on a migrated temporary database, with the memory provider and a frozen clock."""
    config = make_config()
    provider = MemoryProvider(sender=sender_of(config), batch_size=3)
    built = wiring.build(config, clock=clock, provider=provider)
    built.store.migrate()
    yield built
    built.close()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--regen-golden",
        action="store_true",
        help="Rewrite the golden files under tests/golden/ (or set NEWSLETTER_REGEN_GOLDEN=1).",
    )


@pytest.fixture
def regen_golden(request: pytest.FixtureRequest) -> bool:
    """True when golden files should be rewritten instead of compared."""
    return bool(request.config.getoption("--regen-golden")) or (
        os.environ.get("NEWSLETTER_REGEN_GOLDEN") == "1"
    )
