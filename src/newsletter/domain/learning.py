"""What readers read, as numbers the ranking can use (pure).

The store counts, per feed or per section, the readers who clicked and the copies sent over
recent issues (`ClickRepository.per_source` / `per_section`). `click_rates` smooths them
towards the overall rate (a source seen in one small issue should not jump to the top); the
story ranking (`newsletter.curate.ranking`) turns them into a bounded score factor.
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
