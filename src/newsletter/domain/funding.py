"""Funding facts read from an article's title and summary: company, amount, round, investors.

Pure and rule-based (no model): an article announces a funding round when it uses the words of
one (lève, boucle un tour de table, série A, amorçage, réunit, investisseurs...) with a sum of
money or a round, and is not one of the near misses that also carry sums: an acquisition, a
fund being created, a barometer of the month's rounds. The facts of a story are the merge of
its articles' facts (`merge`): one article names the round, another the investors.

The domain holds this (not curate/) because the renderer lists the facts in the digest and
curation ranks and shows them: both read the same definition.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from newsletter.domain.french import STOP_WORDS, amounts, fold, straight

MAX_INVESTORS = 8
MAX_TEXT = 2000


@dataclass(frozen=True)
class FundingFacts:
    """A funding round: `amount` in currency units, `currency` an ISO 4217 code."""

    company: str
    amount: int | None = None
    currency: str | None = None
    round: str | None = None  # "amorçage", "pré-amorçage", "série A"...
    investors: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, object]:
        return {**asdict(self), "investors": list(self.investors)}


_TRIGGER = re.compile(
    r"\b(?:leve|levent|leves|levee|levees|boucle|bouclent|tour de table|reunit|reuni|"
    r"obtient|obtenu|securise|decroche|empoche|apporte|apportent|injecte|injectent|"
    r"investissent|investisseurs|financement)\b"
)
_NEAR_MISS = re.compile(
    r"\b(?:rachete|rachetee|rachat|acquiert|acquisition|s'offre|barometre)\b"
    r"|\b(?:cree|creent|lance|lancent|nouveau|nouveaux)\b[^.]{0,30}\b(?:fonds|vehicule)\b"
    r"|\bdote de\b"
    r"|\b(?:les|des) (?:startups?|start-ups?|jeunes pousses)\b[^.]{0,30}\bont leve\b"
)
_ROUND = re.compile(r"\b(?:serie ([a-f])\b|(pre-?amorcage|pre-?seed)|(amorcage|seed))")
_CAPITALISED = re.compile(
    r"[A-ZÀ-ÖØ-Þ][\w&'’.-]*"
    r"(?:[ -](?:[A-ZÀ-ÖØ-Þ0-9][\w&'’.-]*|AI|IA|de|du|des|d'|d’)(?=[\s,.;:]|$))*"
)
# Where investors are named: after these words, or before a verb saying they put money in.
_INVESTORS_AFTER = re.compile(
    r"(?:(?:aupres|aux cotes|avec la participation) (?:d'|(?:de la|des|du|de) )|"
    r"(?:mene|menee|menes|suivi|suivie|soutenu|soutenue|conduit|conduite) par |"
    r"menent |mene |avec |associe )"
)
_INVESTORS_BEFORE = re.compile(
    r"(?:^|[.!?]\s+)([^.!?]{2,120}?)\s(?:apportent|apporte|investissent|investit|injectent|"
    r"injecte|menent|mene|misent|mise)\b"
)
_SEPARATORS = re.compile(r",|;|\bet\b|\bainsi que\b|\bavec\b")
# Where a list of investors ends: what follows says what the money is for, or who they are.
_LIST_END = re.compile(r"\b(?:pour|afin|qui|dont|dans|afin|en vue|sur)\b|[.!?:(]")
_LEAD_WORDS = frozenset(("le", "la", "les", "l", "un", "une", "des", "du", "de", "d", "apres"))


def extract(title: str, summary: str) -> FundingFacts | None:
    """The funding round `title` and `summary` announce, or None when they announce none.

    Only the first `MAX_TEXT` characters of each are read (a summary is 300 long; anything
    longer is not a news summary)."""
    title, summary = title[:MAX_TEXT], summary[:MAX_TEXT]
    text = f"{title.strip().rstrip('.')}. {summary.strip()}"
    folded = f"{fold(title).strip().rstrip('.')}. {fold(summary).strip()}"  # folds are cached
    if not _TRIGGER.search(folded) or _NEAR_MISS.search(folded):
        return None
    sums = amounts(title) or amounts(summary)
    stage = _round(folded)
    if not sums and stage is None:
        return None
    company = _company(title) or _company(summary)
    if company is None:
        return None
    amount, currency = sums[0] if sums else (None, None)
    return FundingFacts(company, amount, currency, stage, _investors(text, company))


def merge(facts: Iterable[FundingFacts | None]) -> FundingFacts | None:
    """One story's facts from its articles': the most named company and amount, the first
    round named, every investor once (in order of appearance)."""
    known = [f for f in facts if f is not None]
    if not known:
        return None
    company = Counter(f.company for f in known).most_common(1)[0][0]
    sums = Counter((f.amount, f.currency) for f in known if f.amount is not None)
    amount, currency = sums.most_common(1)[0][0] if sums else (None, None)
    stage = next((f.round for f in known if f.round), None)
    investors: dict[str, str] = {}
    for f in known:
        for name in f.investors:
            investors.setdefault(fold(name), name)
    return FundingFacts(company, amount, currency, stage, tuple(investors.values())[:MAX_INVESTORS])


def _round(folded: str) -> str | None:
    match = _ROUND.search(folded)
    if match is None:
        return None
    if match[1]:
        return f"série {match[1].upper()}"
    return "pré-amorçage" if match[2] else "amorçage"


def _company(text: str) -> str | None:
    """The first proper name of `text` (after a 'Topic :' prefix), not a common word."""
    head, colon, rest = text.partition(" : ")
    if colon and len(head) <= 40:
        text = rest
    for match in _CAPITALISED.finditer(text):
        name = _trim(match.group(0))
        if name:
            return name
    return None


def _investors(text: str, company: str) -> tuple[str, ...]:
    plain = straight(text)
    folded = fold(plain)  # same length as `plain` for the letters French uses
    if len(folded) != len(plain):
        return ()
    spans: list[tuple[int, str]] = []
    for match in _INVESTORS_AFTER.finditer(folded):
        end = _LIST_END.search(folded, match.end())
        stop = end.start() if end else len(folded)
        spans.append((match.end(), plain[match.end() : stop]))
    for match in _INVESTORS_BEFORE.finditer(folded):
        spans.append((match.start(1), plain[match.start(1) : match.end(1)]))
    found: dict[str, str] = {}
    for _, span in sorted(spans):
        for part in _SEPARATORS.split(span):
            name = _trim(part)
            if name and not amounts(name) and fold(company) not in fold(name):
                found.setdefault(fold(name), name)
    return tuple(found.values())[:MAX_INVESTORS]


def _trim(part: str) -> str | None:
    """`part` from its first capitalised word that is not a common word; None if there is none.

    Leading lower-case words go ("le fonds Calder Capital" -> "Calder Capital"), as do common
    words capitalised at a sentence start ("La", "Après").
    """
    tokens = straight(part).split()
    while tokens and (
        not tokens[0][:1].isupper()
        or fold(tokens[0]).strip("'.,") in _LEAD_WORDS | STOP_WORDS
        or (fold(tokens[0]).startswith(("l'", "d'")) and not tokens[0][2:3].isupper())
    ):
        tokens.pop(0)
    if tokens and fold(tokens[0]).startswith(("l'", "d'")):
        tokens[0] = tokens[0][2:]
    while tokens and not (tokens[-1][:1].isupper() or tokens[-1][:1].isdigit() or len(tokens) > 1):
        tokens.pop()
    name = " ".join(tokens).strip(" ,.;:'\"«»")
    if not 3 <= len(name) <= 80 or not name[:1].isupper() or any(c in name for c in "€$£"):
        return None
    return name


_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}
_SCALES = ((10**9, "Md"), (10**6, "M"), (10**3, "k"))


def display_amount(amount: int | None, currency: str | None) -> str:
    """An amount as French news write it: `12 M€`, `1,2 Md€`, `800 k€`, `2,5 M$`; "" if none."""
    if amount is None:
        return ""
    symbol = _SYMBOLS.get(currency or "", f" {currency}" if currency else "")
    for size, unit in _SCALES:
        if amount >= size:
            number = f"{amount / size:.2f}".rstrip("0").rstrip(".").replace(".", ",")
            return f"{number}\u00a0{unit}{symbol}"
    return f"{amount}\u00a0{symbol.strip()}".strip()
