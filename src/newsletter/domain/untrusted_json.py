"""JSON from outside (request bodies), parsed into values every later step can handle.

`json.loads` accepts things that fail much later and far away: nesting deep enough to exhaust
the stack (RecursionError), `"\\ud800"` (a lone surrogate: a str that cannot be encoded, so no
database or email can take it), `"\\u0000"` (PostgreSQL text cannot hold NUL), numbers of
thousands of digits, `NaN` and `1e999`. `parse` refuses all of them up front with
`UnreadableJson`, whose message says what is wrong. Pure.
"""

from __future__ import annotations

import json
from typing import Any

from newsletter.domain.errors import NewsletterError

MAX_DEPTH = 32  # far above any body the project reads (a webhook event: 3 levels)
MAX_DIGITS = 20  # enough for any 64-bit integer


class UnreadableJson(NewsletterError, ValueError):
    """A body that is not usable JSON; the message is one short English phrase."""


def parse(body: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of `body`, or UnreadableJson."""
    try:
        value = json.loads(
            body, parse_int=_integer, parse_float=_finite, parse_constant=_no_constant
        )
    except UnreadableJson:
        raise
    except RecursionError:
        raise UnreadableJson(f"nested more than {max_depth} levels deep") from None
    except UnicodeDecodeError:
        raise UnreadableJson("not UTF-8 text") from None
    except ValueError as exc:
        raise UnreadableJson(str(exc).split(":")[0]) from None
    _check(value, max_depth, texts=not _plain_utf8(body))
    return value


def _plain_utf8(body: bytes | str) -> bool:
    """Bytes that are strict UTF-8 (no encoded surrogate), with no NUL byte (so read as UTF-8,
    not UTF-16/32) and no \\u escape: no string parsed from them can hold a lone surrogate or a
    NUL (the parser refuses raw control characters), so none needs looking at."""
    if not isinstance(body, bytes) or b"\\u" in body or b"\x00" in body:
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _check(value: Any, max_depth: int, texts: bool = True) -> None:
    """Depth, and the text of every string when `texts`, level by level without recursion
    (the value may be deep)."""
    if isinstance(value, str) and texts:
        _text(value)
    level = [value] if isinstance(value, list | dict) else []
    depth = 0
    while level:
        if depth >= max_depth:
            raise UnreadableJson(f"nested more than {max_depth} levels deep")
        deeper: list[Any] = []
        for item in level:
            children = item.values() if isinstance(item, dict) else item
            if texts:
                for text in item if isinstance(item, dict) else ():
                    _text(text)
                for child in children:
                    if isinstance(child, str):
                        _text(child)
            deeper += [child for child in children if isinstance(child, (list, dict))]
        level = deeper
        depth += 1


def _text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UnreadableJson(
            "a string holds a lone surrogate (\\ud800 to \\udfff), which is not a character"
        ) from None
    if "\x00" in text:
        raise UnreadableJson("a string holds a NUL character (\\u0000), which is not text")


def _integer(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_DIGITS:
        raise UnreadableJson(f"a number has more than {MAX_DIGITS} digits")
    return int(digits)


def _finite(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise UnreadableJson(f"the number {text[:20]} is too large")
    return number


def _no_constant(name: str) -> Any:
    raise UnreadableJson(f"{name} is not a JSON number")
