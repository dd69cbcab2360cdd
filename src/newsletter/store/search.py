"""Accent- and case-insensitive text search, the same on SQLite and PostgreSQL.

`accent_folded_match(column, q)` is true where `column` contains `q` once both are folded by
`newsletter.domain.french.fold` (lower case, no accents, straight apostrophes): `levee` finds
« Levée », `ECHOS` finds « Échos ». SQLite calls that very function (the engine registers it on
every connection without importing this module, which only searches need); PostgreSQL spells it
with lower() and translate(), without the unaccent extension. Wildcards typed by the user (%, _)
match themselves.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction
from sqlalchemy.types import Text

from newsletter.domain.french import APOSTROPHES, fold
from newsletter.store.engine import SQLITE_FOLD

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
    return f"{SQLITE_FOLD}({compiler.process(element.clauses, **kw)})"


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
