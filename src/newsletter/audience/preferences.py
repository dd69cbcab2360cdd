"""A reader's preferences: the sections they receive, chosen on the page their copies link to.

The page's link carries the reader's unsubscribe token (the same link identity as the
unsubscribe link: whoever holds one may use the other), so no cookie or login is needed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from newsletter.audience.dependencies import Audience
from newsletter.audience.links import check_unsubscribe_token
from newsletter.domain.readers import Subscriber
from newsletter.domain.segments import ticked_sections


@dataclass(frozen=True)
class Preferences:
    subscriber: Subscriber
    sections: tuple[str, ...]  # every section of the newsletter, in order

    def chosen(self, section: str) -> bool:
        """Whether the reader receives `section` (all of them when they chose none)."""
        return not self.subscriber.sections or section in self.subscriber.sections


def preferences(audience: Audience, token: str) -> Preferences:
    """The reader of a preferences link and the sections on offer. TokenError for a bad link."""
    return Preferences(check_unsubscribe_token(audience, token), audience.rules.sections)


def choose(audience: Audience, token: str, chosen: Iterable[str]) -> Preferences:
    """Save the sections a reader ticked (unknown names dropped; all ticked or none ticked:
    every section, including those added later). TokenError for a bad link."""
    sections = ticked_sections(chosen, audience.rules.sections)
    subscriber = check_unsubscribe_token(audience, token)
    audience.subscribers.set_sections(subscriber.id, sections)
    return preferences(audience, token)
