"""Per-recipient copies of a message rendered once: placeholder substitution, nothing more.

The renderer leaves the placeholders of the message (`RenderedMessage.placeholders`, spelled
with a nonce drawn for that render) in the inlined HTML and in the text; each recipient's copy
replaces them. Values are HTML-escaped for the HTML part. The SendGrid provider sends the
same placeholders as substitutions so SendGrid fills them in itself.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from newsletter.domain.model import PREFERENCES_URL, Recipient, RenderedMessage
from newsletter.render.headers import NAME_LIMIT, display_text


@dataclass(frozen=True)
class PersonalCopy:
    subject: str
    html: str
    text: str


def reader_name(name: str | None) -> str:
    """A reader's name as every copy shows it, in headers and bodies alike (may be empty)."""
    return display_text(name or "", NAME_LIMIT)


def values_for(message: RenderedMessage, recipient: Recipient) -> dict[str, str]:
    """The raw (unescaped) value of each placeholder of `message` for this recipient."""
    placeholders = message.placeholders
    extra = dict(recipient.extra)
    values = {
        placeholders.unsubscribe_url: recipient.unsubscribe_url,
        placeholders.name: reader_name(recipient.name),
        # Without a reader's own link (web version, test copy), the unsubscribe one stands in.
        placeholders.preferences_url: extra.pop(PREFERENCES_URL, recipient.unsubscribe_url),
    }
    values.update({placeholders.named(key): value for key, value in extra.items()})
    return values


def personalise(message: RenderedMessage, recipient: Recipient) -> PersonalCopy:
    values = values_for(message, recipient)
    escaped = {key: html.escape(value, quote=True) for key, value in values.items()}
    return PersonalCopy(
        subject=_fill(message.subject, values),
        html=_fill(message.html, escaped),
        text=_fill(message.text, values),
    )


def _fill(template: str, values: dict[str, str]) -> str:
    if "%%" not in template:
        return template
    for key, value in values.items():
        template = template.replace(key, value)
    return template
