"""Search that fits French: accent- and case-insensitive matching on SQLite and PostgreSQL.

`accent_folded_match(column, q)` is the one helper: the column is folded in SQL the way
`newsletter.domain.folding.fold` folds the query (SQLite calls that very function, registered
on each connection by store/engine.py; PostgreSQL maps the same letters with `translate`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, String, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from newsletter.domain.folding import fold, single_letter_folds

SQLITE_FOLD = "newsletter_fold"  # the name store/engine.py registers `fold` under


class folded(FunctionElement[str]):
    """The column's text folded like `fold`, in the database's own SQL."""

    type = String()
    inherit_cache = True
    name = "folded"


@compiles(folded)
def _folded_default(element: folded, compiler: Any, **kw: Any) -> str:
    return f"{SQLITE_FOLD}({compiler.process(element.clauses, **kw)})"


@compiles(folded, "postgresql")
def _folded_postgresql(element: folded, compiler: Any, **kw: Any) -> str:
    source, target = single_letter_folds()
    column = compiler.process(element.clauses, **kw)
    accented = compiler.process(literal(source), **kw)
    plain = compiler.process(literal(target), **kw)
    return f"lower(translate({column}, {accented}, {plain}))"


def accent_folded_match(column: Any, q: str) -> ColumnElement[bool]:
    """`column` contains `q`, ignoring accents and case; `%`, `_` and `\\` in `q` are literal."""
    escaped = fold(q.strip()).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return folded(column).like(f"%{escaped}%", escape="\\")


def register_sqlite_fold(dbapi_connection: Any) -> None:
    """Make `fold` callable from SQL on a SQLite connection."""
    dbapi_connection.create_function(SQLITE_FOLD, 1, _fold_or_null, deterministic=True)


def _fold_or_null(value: object) -> str | None:
    return None if value is None else fold(str(value))
