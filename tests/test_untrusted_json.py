"""JSON from outside: parsed into values every later step can store, or refused readably."""

from __future__ import annotations

import pytest

from newsletter.domain.untrusted_json import MAX_DEPTH, UnreadableJson, parse


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"email": ', "Expecting value"),
        (b"[" * 100_000 + b"]" * 100_000, "nested"),  # past the parser's own recursion limit
        (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), "nested"),
        (b'{"a": {"b": ' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}}", "nested"),
        (b'{"name": "\\ud800"}', "surrogate"),
        (b'{"\\udfff": 1}', "surrogate"),
        (b'["ok", ["\\ud83d"]]', "surrogate"),  # half of an emoji
        (b'{"reason": "a\\u0000b"}', "NUL"),
        # Without any \\u escape: a surrogate encoded in the bytes themselves (the parser reads
        # bytes with surrogatepass), in UTF-8 and in UTF-16.
        (b'{"name": "\xed\xa0\x80"}', "surrogate"),
        ('["x\ud800"]'.encode("utf-16-le", "surrogatepass"), "surrogate"),
        (b'["\xed\xbf\xbf"]', "surrogate"),
        (b"1e999", "too large"),
        (b"-1e999", "too large"),
        (b"NaN", "NaN"),
        (b"[Infinity]", "Infinity"),
        (b"9" * 21, "digits"),
        (b'{"a": "\xc3"}', "UTF-8"),
    ],
)
def test_refused(body: bytes, words: str) -> None:
    """Each body is refused with a message saying why."""
    with pytest.raises(UnreadableJson, match=words):
        parse(body)


def test_accepted() -> None:
    """Ordinary bodies, real surrogate pairs (an emoji) and the maximum depth parse as usual."""
    assert parse(b'{"email": "a@example.org", "name": "Zo\\u00e9 \\ud83d\\ude00"}') == {
        "email": "a@example.org",
        "name": "Zoé 😀",
    }
    deepest = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert parse(deepest) is not None
    assert parse(b"[1.5, -20, 12345678901234567890]") == [1.5, -20, 12345678901234567890]
