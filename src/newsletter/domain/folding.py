"""Text folded for search: without accents and case, so « ecosysteme » finds « Écosystème ».

`fold` is the one definition; the store applies the same folding to columns in SQL
(store/search.py) on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache


def fold(text: str) -> str:
    """`text` lower-cased, its letters stripped of accents (é → e, Ç → c); other letters kept
    (œ, ß stay as they are)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


@lru_cache(maxsize=1)
def single_letter_folds() -> tuple[str, str]:
    """Pairs of strings for SQL `translate(text, from, to)`: each accented Latin letter (and its
    capital) and the one letter `fold` makes of it. Letters that fold to more than one letter
    are left out: `translate` maps one character to one."""
    source, target = [], []
    for code in range(0xC0, 0x250):
        char = chr(code)
        folded = fold(char)
        if len(folded) == 1 and folded != char and folded.isascii():
            source.append(char)
            target.append(folded)
    return "".join(source), "".join(target)
