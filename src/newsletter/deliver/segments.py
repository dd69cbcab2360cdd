"""Sending by segment: one render per set of sections in use, and each copy's own links.

The audience is frozen with each reader's sections (`deliveries.segment`). Before its loop, a
send run makes sure every segment that still has copies to send has its render frozen: the
readers of every section get the issue's own render; a segment is rendered once, with only its
sections (`newsletter.domain.segments.for_segment`), or, when that leaves no item, its copies
are `skipped`. Idempotent, so a run that died half-way is completed by the next one.

`CopyLinks` gives each copy its per-copy values: the preferences link and, for a render with
click markers, a signed /c/ link per article naming the delivery and the article.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from newsletter.domain.clock import Clock
from newsletter.domain.delivery import CLICK_PREFIX, PREFERENCES_URL, Placeholders, RenderedMessage
from newsletter.domain.model import Issue
from newsletter.domain.segments import EVERYTHING, for_segment
from newsletter.domain.tokens import TokenSigner
from newsletter.store.deliveries import DeliveryRepository
from newsletter.store.issues import IssueRepository

Render = Callable[[Issue], RenderedMessage]  # an issue (or one segment's part of it) rendered
CopyValues = Callable[[int, str, RenderedMessage], tuple[tuple[str, str], ...]]


def segment_messages(
    issue_id: int,
    everything: RenderedMessage,
    *,
    issues: IssueRepository,
    deliveries: DeliveryRepository,
    render: Render,
    clock: Clock,
) -> dict[str, RenderedMessage]:
    """The frozen render of each segment with copies left to send (rendering and freezing
    those not yet frozen, skipping those with nothing); `everything` is the issue's own."""
    messages = {EVERYTHING: everything}
    issue: Issue | None = None
    for key in deliveries.pending_segments(issue_id):
        if key == EVERYTHING:
            continue
        frozen = issues.segment_render(issue_id, key)
        if frozen is None:
            issue = issue or issues.get(issue_id)
            assert issue is not None
            part = for_segment(issue, key)
            if not part.items:
                deliveries.skip_segment(issue_id, key, clock())
                continue
            issues.freeze_segment_render(issue_id, key, replace(render(part), issue_id=issue_id))
            frozen = issues.segment_render(issue_id, key)
            assert frozen is not None
        messages[key] = frozen
    return messages


@dataclass
class CopyLinks:
    """Each copy's preferences link and click links (`Sending.copy_values`)."""

    signer: Callable[[], TokenSigner]
    base_url: str
    _articles: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def __call__(
        self, delivery_id: int, unsubscribe_url: str, message: RenderedMessage
    ) -> tuple[tuple[str, str], ...]:
        # The preferences page takes the reader's unsubscribe token: one link identity per
        # reader, and the page's unsubscribe button posts to /unsubscribe/{token}.
        token = unsubscribe_url.rpartition("/")[2]
        values = [(PREFERENCES_URL, f"{self.base_url}/preferences/{token}")]
        signer = self.signer()
        for article_id in self._clicked(message):
            click = signer.sign_click(delivery_id, article_id)
            values.append((f"{CLICK_PREFIX}{article_id}", f"{self.base_url}/c/{click}"))
        return tuple(values)

    def _clicked(self, message: RenderedMessage) -> tuple[int, ...]:
        """The articles with click markers in `message`, found once per render."""
        placeholders: Placeholders = message.placeholders
        found = self._articles.get(placeholders.nonce)
        if found is None:
            found = placeholders.clicked_articles(message.html, message.text)
            self._articles[placeholders.nonce] = found
        return found
