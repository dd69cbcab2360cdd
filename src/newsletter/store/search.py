"""Accent- and case-insensitive text search, the same on SQLite and PostgreSQL.

`accent_folded_match(column, q)` is true where `column` contains `q` once both are folded by
`newsletter.domain.french.fold` (lower case, no accents, straight apostrophes): `levee` finds
« Levée », `ECHOS` finds « Échos ». SQLite calls that very function (registered on every
connection by `register_fold`); PostgreSQL spells it with lower() and translate(), without the
unaccent extension. Wildcards typed by the user (%, _) match themselves.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction
from sqlalchemy.types import Text

from newsletter.domain.french import APOSTROPHES, fold

SQLITE_FUNCTION = "newsletter_fold"
# Accented letters and their folded spelling, for PostgreSQL's translate() (one for one).
_ACCENTED = "àáâãäåāçćčďèéêëēėęěìíîïīľłñńňòóôõöøōŕřśšťùúûüūůýÿžźż" + APOSTROPHES
_PLAIN = "".join(fold(letter) for letter in _ACCENTED)


class Folded(GenericFunction[str]):
    """A text expression folded like `fold`: lower case, no accents."""

    type = Text()
    inherit_cache = True
    name = "folded"


@compiles(Folded, "sqlite")
def _sqlite(element: Folded, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{SQLITE_FUNCTION}({compiler.process(element.clauses, **kw)})"


@compiles(Folded)
def _other(element: Folded, compiler: SQLCompiler, **kw: Any) -> str:
    inner = compiler.process(element.clauses, **kw)
    ligatures = f"replace(replace(lower({inner}), 'œ', 'oe'), 'æ', 'ae')"
    # The dialect quotes the letters (apostrophes among them) and escapes % for the driver.
    accented, plain = (compiler.render_literal_value(text, Text()) for text in (_ACCENTED, _PLAIN))
    return f"translate({ligatures}, {accented}, {plain})"


def accent_folded_match(column: ColumnElement[str], q: str) -> ColumnElement[bool]:
    """`column` contains `q`, accents, case and apostrophes aside."""
    escaped = fold(q.strip()).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return Folded(column).like(literal(f"%{escaped}%"), escape="\\")


def register_fold(dbapi_connection: Any, _record: Any) -> None:
    """Give a SQLite connection the folding function (deterministic: usable in indexes)."""
    dbapi_connection.create_function(SQLITE_FUNCTION, 1, _fold_or_none, deterministic=True)


def _fold_or_none(value: object) -> str | None:
    return None if value is None else fold(str(value))
