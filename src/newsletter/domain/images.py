"""Image sizes: what a feed or page declares, and the size an email shows an image at.

Pure. Outlook's Word engine draws an image exactly at its width and height attributes, so a
height that does not follow the image's real ratio squashes it; without a height attribute it
keeps the ratio of the picture it downloads. So the email states a height only when the ratio
is known, and computes it from that ratio.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Past this a declared size is a typo or a lie, not a picture: treat it as unknown.
MAX_DIMENSION = 20_000
_PIXELS = re.compile(r"\s*(\d{1,6})\s*(?:px)?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class ImageSize:
    """Pixels, both known and positive: the ratio the picture has."""

    width: int
    height: int


@dataclass(frozen=True)
class FoundImage:
    """An image a feed or a page offers: its URL and, when declared, its size."""

    url: str
    size: ImageSize | None = None


@dataclass(frozen=True)
class DisplayBox:
    """How big an email shows an image: a width always, a height only when the ratio is known."""

    width: int
    height: int | None


def dimension(value: object) -> int | None:
    """A declared width or height ("1200", "1200px", 1200) as pixels; None when not a size."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and (match := _PIXELS.fullmatch(value)):
        number = int(match.group(1))
    else:
        return None
    return number if 0 < number <= MAX_DIMENSION else None


def image_size(width: object, height: object) -> ImageSize | None:
    """The size declared by a width and a height, or None unless both are usable."""
    w, h = dimension(width), dimension(height)
    return ImageSize(w, h) if w is not None and h is not None else None


def display_box(size: ImageSize | None, max_width: int, max_height: int) -> DisplayBox:
    """The largest box of the image's ratio that fits `max_width` x `max_height`.

    Unknown ratio: the full width and no height (the client follows the picture). A tall image
    is narrowed rather than cropped: the email cannot crop in every client, and must not squash.
    """
    if size is None:
        return DisplayBox(max_width, None)
    width = max_width
    height = round(max_width * size.height / size.width)
    if height > max_height:
        width = max(1, round(max_height * size.width / size.height))
        height = max_height
    return DisplayBox(width, max(1, height))
