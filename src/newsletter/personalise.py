"""Per-recipient copies of a message rendered once: placeholder substitution, nothing more.

The renderer leaves these placeholders in the inlined HTML and in the text; each recipient's
copy replaces them. Values are HTML-escaped for the HTML part. The SendGrid provider sends the
same placeholders as substitutions so SendGrid fills them in itself.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from newsletter.model import Recipient, RenderedMessage

UNSUBSCRIBE_URL = "%%unsubscribe_url%%"
NAME = "%%name%%"
PLACEHOLDERS = (UNSUBSCRIBE_URL, NAME)


@dataclass(frozen=True)
class PersonalCopy:
    subject: str
    html: str
    text: str


def values_for(recipient: Recipient) -> dict[str, str]:
    """The raw (unescaped) value of each placeholder for this recipient."""
    return {UNSUBSCRIBE_URL: recipient.unsubscribe_url, NAME: recipient.name or ""}


def personalise(message: RenderedMessage, recipient: Recipient) -> PersonalCopy:
    values = values_for(recipient)
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
