"""The whole schema in one metadata: what the migrations build and the checks compare.

The tables are defined by subject in `tables`, `reader_tables` and `desk_tables`, so that a
command builds only those it queries; importing this module builds them all.
"""

from newsletter.store import desk_tables, reader_tables  # noqa: F401  (importing defines them)
from newsletter.store.tables import metadata

__all__ = ["metadata"]
