"""What readers read, as numbers the ranking can use (pure).

The store counts, per feed or per section, the readers who clicked and the copies sent over
recent issues (`ClickRepository.per_source` / `per_section`). `click_rates` smooths them
towards the overall rate (a source seen in one small issue should not jump to the top), and
`click_weights` turns rates into multipliers around 1.0 for a story score: a source read twice
as much as the average weighs up to `ceiling`, one never read down to `floor`.
"""

from __future__ import annotations

from collections.abc import Mapping

PRIOR_COPIES = 200  # how many copies' worth of the overall rate each figure starts with


def click_rates(
    counts: Mapping[str, tuple[int, int]], prior_copies: int = PRIOR_COPIES
) -> dict[str, float]:
    """Smoothed click rate per name from (readers who clicked, copies sent)."""
    clicked = sum(readers for readers, _ in counts.values())
    copies = sum(sent for _, sent in counts.values())
    overall = clicked / copies if copies else 0.0
    return {
        name: (readers + prior_copies * overall) / (sent + prior_copies)
        for name, (readers, sent) in counts.items()
        if sent + prior_copies > 0
    }


def click_weights(
    rates: Mapping[str, float], floor: float = 0.5, ceiling: float = 2.0
) -> dict[str, float]:
    """Each rate over the mean rate, kept within [floor, ceiling]; all 1.0 without clicks."""
    if not rates:
        return {}
    mean = sum(rates.values()) / len(rates)
    if mean <= 0:
        return dict.fromkeys(rates, 1.0)
    return {name: min(ceiling, max(floor, rate / mean)) for name, rate in rates.items()}
