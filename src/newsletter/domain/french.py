"""French text made comparable: accents, case, apostrophes, elisions, words and amounts. Pure.

`fold` is the one definition of "the same letters": lower case, no accents, ligatures spelled
out, typographic apostrophes made straight. Search (the store's `accent_folded_match`), story
grouping, section rules and funding facts all compare folded text.

`words` splits folded text into the words that carry meaning: elisions (l', d', qu') dropped,
stop words dropped, a final plural s/x removed. `amounts` reads the sums French news writes in
many ways (`335 millions d'euros`, `12 M€`, `1,2 milliard d'euros`, `2,5 M$`, `un million
d'euros`, `800 000 euros`) as (value in currency units, ISO 4217 code).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

APOSTROPHES = "’‘ʼ`´′"
_APOSTROPHE_TABLE = str.maketrans({ch: "'" for ch in APOSTROPHES})
_LIGATURES = (("œ", "oe"), ("Œ", "OE"), ("æ", "ae"), ("Æ", "AE"), ("ß", "ss"))
_COMBINING = re.compile("[\u0300-\u036f]")

# Frequent French words that say nothing of the news (folded, without elision).
STOP_WORDS = frozenset(
    re.findall(
        r"\w+",
        """a au aux avec ce ces cet cette c d dans de des du elle elles en et est etre il ils j l
        la le les leur leurs lui m ma mais me meme mes moi mon n ne nos notre nous on ou par pas
        pour qu que qui s sa se ses son sur t ta te tes toi ton tu un une vos votre vous y ont
        ete sont plus moins tres tout tous toute toutes sans sous chez entre apres avant depuis
        vers lors dont ainsi aussi deja encore ceux celle celles cela ca ici fait faire selon
        afin jusqu lorsqu puisqu quelqu comme peut doit sera seront avoir deux trois an ans
        annee premier premiere nouveau nouvelle nouveaux nouvelles""",
    )
)
_WORD = re.compile(r"[a-z0-9]+(?:[-][a-z0-9]+)*")
_NUMBER_WORDS = {
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7,
    "huit": 8, "neuf": 9, "dix": 10, "cent": 100,
}  # fmt: skip
_MULTIPLIERS = {"milliard": 10**9, "md": 10**9, "mrd": 10**9, "million": 10**6, "m": 10**6}
_MULTIPLIERS |= {"mn": 10**6, "k": 10**3, "mille": 10**3}
_AMOUNT = re.compile(
    r"(?<![\w,.])(?P<prefix>[$€£]\s?)?"
    r"(?P<num>\d{1,3}(?:[ .]\d{3})+(?:,\d+)?|\d+(?:[,.]\d+)?|" + "|".join(_NUMBER_WORDS) + r")"
    r"(?:\s*(?P<mult>milliards?|mds?\b|mrds?\b|millions?|mns?\b|m\b|m(?=[$€£])|k\b|k(?=[$€£])|mille\b))?"
    r"(?:\s*(?:d'|de\s+)?(?P<cur>€|eur\b|euros?\b|\$|usd\b|dollars?\b|£|gbp\b|livres?\s+sterling|"
    r"chf\b|francs?\s+suisses))?"
)
_CURRENCY_HINT = re.compile(r"[€$£]|eur|dollar|usd|livre|gbp|chf|franc")
_CURRENCIES = {"€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "$": "USD", "usd": "USD"}
_CURRENCIES |= {"dollar": "USD", "dollars": "USD", "£": "GBP", "gbp": "GBP", "chf": "CHF"}


def straight(text: str) -> str:
    """`text` with its typographic apostrophes made straight."""
    return text.translate(_APOSTROPHE_TABLE)


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """`text` lower-cased, without accents, ligatures spelled out, apostrophes straight."""
    plain = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    for apostrophe in APOSTROPHES:
        if apostrophe in plain:
            plain = plain.replace(apostrophe, "'")
    if not plain.isascii():
        for ligature, spelled in _LIGATURES:
            plain = plain.replace(ligature, spelled)
    return plain.lower()


def words(text: str) -> list[str]:
    """The meaningful words of `text`, folded: no elision, no stop word, no plural s/x."""
    if len(_STEMS) > _MAX_STEMS:
        _STEMS.clear()
    found = []
    for word in _WORD.findall(fold(text).replace("'", " ")):
        stem = _STEMS.get(word)
        if stem is None:
            stem = _STEMS[word] = _stem(word)
        if stem:
            found.append(stem)
    return found


def _stem(word: str) -> str:
    """`word` without its plural s/x; "" for a stop word or a lone letter."""
    if word in STOP_WORDS or (len(word) < 2 and not word.isdigit()):
        return ""
    if len(word) > 3 and word[-1] in "sx" and word[-2] not in "su":
        return word[:-1]
    return word


# Each folded word's stem, as `words` found it (a cache: every text repeats most words).
_STEMS: dict[str, str] = {}
_MAX_STEMS = 200_000


def amounts(text: str) -> list[tuple[int, str]]:
    """The sums of money in `text`, in order: (value in currency units, ISO 4217 code)."""
    folded = fold(text)
    if not _CURRENCY_HINT.search(folded):
        return []
    found = []
    for match in _AMOUNT.finditer(folded):
        currency = match["cur"] or (match["prefix"] or "").strip()
        if not currency:
            continue
        number = _number(match["num"])
        if number is None:
            continue
        multiplier = match["mult"] or ""
        factor = next(
            (value for stem, value in _MULTIPLIERS.items() if multiplier.rstrip("s") == stem),
            1,
        )
        code = _currency(currency)
        if code:
            found.append((round(number * factor), code))
    return found


def _number(raw: str) -> float | None:
    if raw in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[raw])
    if re.fullmatch(r"\d{1,3}(?:[ .]\d{3})+(?:,\d+)?", raw):
        raw = raw.replace(" ", "").replace(".", "")
    try:
        return float(raw.replace(",", "."))
    except ValueError:
        return None


def _currency(raw: str) -> str | None:
    raw = " ".join(raw.split())
    if raw.startswith("livre"):
        return "GBP"
    if raw.startswith("franc"):
        return "CHF"
    return _CURRENCIES.get(raw)
