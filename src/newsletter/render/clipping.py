"""Gmail's clipping limit: the one definition the CLI and the desk both check against. Pure."""

from __future__ import annotations

from newsletter.domain.delivery import RenderedMessage

# Gmail hides the rest of a message whose HTML exceeds about 102 KB behind "[Message clipped]"
# (an unsubscribe link in the footer then disappears). 102 000 is the conservative reading.
GMAIL_CLIP_BYTES = 102_000
# Room left for what personalisation adds (a signed unsubscribe URL of ~150 bytes, a name).
PERSONALISATION_MARGIN = 1_000


def html_bytes(html: str) -> int:
    """Bytes of an HTML part as sent (UTF-8)."""
    return len(html.encode("utf-8"))


def clipped_size(html: str) -> int | None:
    """The size in bytes of `html` when Gmail would clip it (personalisation included), else
    None. A personalised copy is checked with the same margin, so every caller agrees."""
    size = html_bytes(html)
    return size if size + PERSONALISATION_MARGIN > GMAIL_CLIP_BYTES else None


def clipping_risk(message: RenderedMessage) -> int | None:
    """The HTML size in bytes when Gmail would clip it (personalisation included), else None."""
    return clipped_size(message.html)


def clipping_warning(message: RenderedMessage) -> str | None:
    """A one-line warning for the CLI, or None when the size is safe."""
    size = clipping_risk(message)
    if size is None:
        return None
    return (
        f"warning: the HTML is {size / 1000:.0f} KB; Gmail clips messages over "
        f"{GMAIL_CLIP_BYTES // 1000} KB and hides the rest, unsubscribe link included "
        "(use fewer articles or shorter summaries)"
    )
