"""Quoted-printable body lines encoded once, a line with placeholders only where it differs.

binascii's encoder (`message.quoted_printable`, the one the email package path uses) decides
each character from the character itself, the length of the output line so far (the column,
under 76 between characters) and the next character (a line end, or the end of the data). So:

- a line is encoded on its own (the encoder restarts at every line end);
- before a placeholder, the text up to a "plain" character (printable ASCII but `=` and `.`,
  which the encoder writes as it is wherever it stands) is encoded once: encoded with that
  character last, whose output is then that one byte, it gives what precedes it and the
  column after;
- after the last placeholder, from a plain character to the line end (the tail): the encoding
  depends only on the column it starts at, so it is encoded once per column met, starting it
  at that column by leading it with as many `x` (written as they are, without a soft line
  break as long as they are fewer than 76);
- the part in between (the placeholders filled in, and the text among them) is encoded per
  copy, started at the prefix's column the same way, and followed by the tail's plain first
  character, whose output is its one byte, so that its own last character sees what follows.

Line ends are written CRLF, as the email package writes them. tests/test_copies.py checks the
result byte for byte against the email package's, on random lines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from newsletter.deliver.message import quoted_printable
from newsletter.render.personalise import fill

_LINE_ENDS = re.compile(rb"\r\n|\r|\n")
_PLAIN = frozenset(chr(code) for code in range(33, 127)) - {"=", "."}


def encoded(text: str) -> bytes:
    """`text` quoted-printable encoded, line ends written CRLF, as in a copy's body."""
    return _crlf(quoted_printable(text))


def _crlf(data: bytes) -> bytes:
    """Encoded text with its line ends written CRLF."""
    if b"\r" in data:
        return _LINE_ENDS.sub(b"\r\n", data)
    return data.replace(b"\n", b"\r\n")


class PersonalLine:
    """One body line holding placeholders (`%%...%%`), with its line end if it has one."""

    def __init__(self, line: str) -> None:
        self.line = line
        first, last = line.index("%%"), line.rindex("%%") + 2
        cut = next((n for n in range(first - 1, 0, -1) if line[n] in _PLAIN), 0)
        self.prefix, self.column = b"", 0
        if cut:
            before = quoted_printable(line[: cut + 1])[:-1]
            self.prefix = _crlf(before)
            self.column = len(before) - before.rfind(b"\n") - 1
        end = next((n for n in range(last, len(line)) if line[n] in _PLAIN), len(line))
        self.middle, self.tail = line[cut:end], line[end:]
        self._lead = "x" * self.column
        self._tails: dict[int, bytes] = {}

    def encoded(self, values: Mapping[str, str]) -> bytes:
        """The line with `values` filled in, encoded: `encoded(fill(line, values))`."""
        middle = fill(self.middle, values)
        if not self.tail:
            return self.prefix + encoded(self._lead + middle)[self.column :]
        data = quoted_printable(self._lead + middle + self.tail[0])[self.column : -1]
        newline = data.rfind(b"\n")
        column = len(data) - newline - 1 if newline >= 0 else self.column + len(data)
        tail = self._tails.get(column)
        if tail is None:
            tail = self._tails[column] = encoded("x" * column + self.tail)[column:]
        return self.prefix + _crlf(data) + tail
