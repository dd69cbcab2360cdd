"""Per-recipient copies of a message rendered once: placeholder substitution, nothing more.

The renderer leaves the placeholders of the message (`RenderedMessage.placeholders`, spelled
with a nonce drawn for that render) in the inlined HTML and in the text; each recipient's copy
replaces them. Values are HTML-escaped for the HTML part. The SendGrid provider sends the
same placeholders as substitutions so SendGrid fills them in itself.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass

from newsletter.domain.model import Recipient, RenderedMessage
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
    return {
        placeholders.unsubscribe_url: recipient.unsubscribe_url,
        placeholders.name: reader_name(recipient.name),
    }


def html_values(values: Mapping[str, str]) -> dict[str, str]:
    """The same values, escaped for the HTML part."""
    return {key: html.escape(value, quote=True) for key, value in values.items()}


def personalise(message: RenderedMessage, recipient: Recipient) -> PersonalCopy:
    values = values_for(message, recipient)
    return PersonalCopy(
        subject=fill(message.subject, values),
        html=fill(message.html, html_values(values)),
        text=fill(message.text, values),
    )


def fill(template: str, values: Mapping[str, str]) -> str:
    """`template` with each placeholder replaced by its value, in the order of `values`.

    Every placeholder is spelled `%%...%%`: a text without `%%` holds none and is returned as
    it is (the fast copies rely on it to leave such lines encoded once).
    """
    if "%%" not in template:
        return template
    for key, value in values.items():
        template = template.replace(key, value)
    return template
