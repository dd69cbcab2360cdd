"""Per-recipient copies of a message rendered once: placeholder substitution, nothing more.

The renderer leaves the placeholders of the message (`RenderedMessage.placeholders`, spelled
with a nonce drawn for that render) in the inlined HTML and in the text; each recipient's copy
replaces them. Values are HTML-escaped for the HTML part. The SendGrid provider sends the
same placeholders as substitutions so SendGrid fills them in itself.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass

from newsletter.domain.delivery import PREFERENCES_URL, Recipient, RenderedMessage
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
    """`template` with each placeholder (each key of `values`) replaced by its value.

    In one pass, left to right: a value is never searched for placeholders itself. Every
    placeholder is spelled `%%...%%` on one line: a text without `%%` holds none and is
    returned as it is, and filling a text line by line fills it whole (the fast copies,
    deliver/copies.py, rely on both).
    """
    if "%%" not in template or not values:
        return template
    return _pattern(tuple(values)).sub(lambda found: values[found.group(0)], template)


@functools.lru_cache(maxsize=32)
def _pattern(keys: tuple[str, ...]) -> re.Pattern[str]:
    """The placeholders, the longest first where one begins another."""
    return re.compile("|".join(re.escape(key) for key in sorted(keys, key=len, reverse=True)))
