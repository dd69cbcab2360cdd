"""Schema migrations with Alembic, driven from code (no alembic.ini to keep in sync).

Every command checks the schema is current; that check reads the version table directly
against `HEAD`, so commands do not pay for importing Alembic and parsing the migration files.
A test keeps `HEAD` equal to the newest migration.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).parent / "migrations"
HEAD = "0012_copy_in_flight"


def _alembic_config() -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest migration, read from the migration files."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            value = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:  # no version table: never migrated
        return None
    return str(value) if value is not None else None


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or migrate the schema; running it again on an up-to-date database does nothing."""
    from alembic import command

    config = _alembic_config()
    with (
        engine.connect() as connection,
        _sqlite_foreign_keys_off(connection),
        connection.begin(),
    ):
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        _check_references(connection)


@contextmanager
def _sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    """SQLite's way to rebuild a table (the only way to change some of its definitions).

    With foreign keys on, dropping the old copy of a table would run the ON DELETE actions of
    the tables that refer to it (emptying the outbox, unlinking the ledger). The pragma only
    works outside a transaction, hence on the driver's connection before SQLAlchemy begins one.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        driver.execute("PRAGMA foreign_keys=ON")


def _check_references(connection: Connection) -> None:
    """Refuse (roll back) a migration that left a reference to a missing row."""
    if connection.dialect.name != "sqlite":
        return  # PostgreSQL checks every statement
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"the migration left broken references: {broken[:5]}")


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == HEAD
