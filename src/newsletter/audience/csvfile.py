"""CSV files of subscribers, read and written safely. Pure: bytes and text in, rows out.

Reading accepts what spreadsheets save: UTF-8 (with or without a BOM), UTF-16 with its BOM,
and Latin-1 as Windows writes it (Windows-1252, whose printable characters include all of
Latin-1's); the separator is the one of `,` `;` or tab that gives the header an `email` column.
Anything else, and any field, row or file over the limits, is refused with one line naming the
line, before a single row is imported.

Writing makes every cell inert for spreadsheets (OWASP "CSV injection"): wherever a spreadsheet
could start a cell, at the start of the value or after any separator it might be told to use
(`,` `;` tab) or a line break, a formula trigger (= + - @ tab CR) gets a `'` in front of it.
Quoting alone is not enough: a file opened with another separator than the one it was written
with splits quoted values too. `live` undoes `inert` exactly, so an export imports back unchanged.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

from newsletter.domain.errors import UsageError

SEPARATORS = (",", ";", "\t")
FORMULA_TRIGGERS = "=+-@\t\r"


@dataclass(frozen=True)
class CsvLimits:
    file_bytes: int = 50_000_000  # about a million subscribers
    field_chars: int = 1_000  # an address is at most 320, a name 200
    row_chars: int = 4_000
    columns: int = 50


DEFAULT_LIMITS = CsvLimits()


class CsvRefused(UsageError):
    """The file as a whole cannot be imported; the message names the line."""


@dataclass(frozen=True)
class CsvRow:
    line: int
    cells: dict[str, str]  # by column name (lowercased); a missing cell is ""


@dataclass(frozen=True)
class CsvTable:
    encoding: str
    separator: str
    columns: list[str]
    rows: list[CsvRow]


def read_table(data: bytes, limits: CsvLimits = DEFAULT_LIMITS) -> CsvTable:
    """The rows of a CSV file with a header row naming an `email` column.

    `data` may hold one byte more than the limit (the caller reads no further); CsvRefused says
    why and where when the file is not acceptable as a whole.
    """
    if len(data) > limits.file_bytes:
        text, _ = _decode(data[: limits.file_bytes], lenient=True)
        raise CsvRefused(
            f"line {text.count(chr(10)) + 1}: the file is larger than "
            f"{limits.file_bytes:,} bytes; split it"
        )
    text, encoding = _decode(data, lenient=False)
    _refuse_control_characters(text)
    header, separator = _header(text, limits)
    rows: list[CsvRow] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    try:
        next(reader)  # the header, read above
        for cells in reader:
            line = reader.line_num
            _check_row(cells, line, limits)
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            values: dict[str, str] = {}
            for column, cell in zip(header, cells, strict=False):
                values.setdefault(column, cell)  # a repeated column: the first one counts
            rows.append(CsvRow(line, {column: values.get(column, "") for column in header}))
    except csv.Error as exc:
        line = reader.line_num
        if "field larger than field limit" in str(exc):
            raise CsvRefused(_field_too_long(line, limits)) from None
        raise CsvRefused(f"line {line}: not readable as CSV ({exc})") from None
    return CsvTable(encoding, separator, header, rows)


def _decode(data: bytes, lenient: bool) -> tuple[str, str]:
    errors = "replace" if lenient else "strict"
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data[len(codecs.BOM_UTF8) :], "utf-8", errors), "utf-8"
    if data.startswith(codecs.BOM_UTF16_LE):
        return _strict(data[2:], "utf-16-le", errors), "utf-16"
    if data.startswith(codecs.BOM_UTF16_BE):
        return _strict(data[2:], "utf-16-be", errors), "utf-16"
    try:
        return data.decode("utf-8", errors), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "latin-1"
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CsvRefused(
            f"line {line}: byte 0x{data[exc.start]:02x} is not text in UTF-8, UTF-16 (with its "
            "byte-order mark) or Latin-1; save the file as CSV UTF-8"
        ) from None


def _strict(body: bytes, codec: str, errors: str) -> str:
    """`body` (after its byte-order mark) decoded, or CsvRefused naming the first bad line."""
    try:
        return body.decode(codec, errors)
    except UnicodeDecodeError as exc:
        line = body[: exc.start].decode(codec).count("\n") + 1
        label = "UTF-8" if codec == "utf-8" else "UTF-16"
        raise CsvRefused(
            f"line {line}: the file starts as {label} but is not valid {label} here"
        ) from None


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _refuse_control_characters(text: str) -> None:
    found = _CONTROL.search(text)
    if found:
        line = text.count("\n", 0, found.start()) + 1
        hint = " (UTF-16 without its byte-order mark?)" if found.group() == "\x00" else ""
        raise CsvRefused(
            f"line {line}: control character U+{ord(found.group()):04X} in the file; "
            f"a CSV is text{hint}"
        )


def _header(text: str, limits: CsvLimits) -> tuple[list[str], str]:
    first = text.split("\n", 1)[0]
    if len(first) > limits.row_chars:
        raise CsvRefused(f"line 1: the header is longer than {limits.row_chars:,} characters")
    for separator in SEPARATORS:
        try:
            cells = next(csv.reader([first], delimiter=separator), [])
        except csv.Error:
            continue
        columns = [cell.strip().lower() for cell in cells]
        if "email" in columns:
            return columns, separator
    raise CsvRefused(
        "line 1: the CSV needs a header row with an `email` column (separated by , ; or tab)"
    )


def _check_row(cells: list[str], line: int, limits: CsvLimits) -> None:
    if len(cells) > limits.columns:
        raise CsvRefused(f"line {line}: more than {limits.columns} columns")
    if any(len(cell) > limits.field_chars for cell in cells):
        raise CsvRefused(_field_too_long(line, limits))
    if sum(len(cell) for cell in cells) > limits.row_chars:
        raise CsvRefused(f"line {line}: the row is longer than {limits.row_chars:,} characters")


def _field_too_long(line: int, limits: CsvLimits) -> str:
    return (
        f"line {line}: a field is longer than {limits.field_chars:,} characters "
        "(an unclosed quote?)"
    )


# Where a spreadsheet may start a cell: the start of the value, or after a separator or a line
# break; then any spaces (some tools trim them), the quotes already there, and a trigger. The
# separator is consumed but the trigger only looked at, so a tab or CR that is both (a trigger
# ending one cell start, a separator opening the next) is seen in both roles in one pass.
_TRIGGER = "(?=[" + re.escape(FORMULA_TRIGGERS) + "])"
_CELL_START = re.compile(r"(^|[,;\t\r\n])( *)('*)" + _TRIGGER)
_INERT_START = re.compile(r"(^|[,;\t\r\n])( *)'('*)" + _TRIGGER)


def inert(value: str) -> str:
    """`value` with one `'` more before every formula trigger that could start a cell."""
    return _CELL_START.sub(r"\1\2'\3", value)


def live(value: str) -> str:
    """Undo `inert`: take away the one `'` it put at each cell start."""
    return _INERT_START.sub(r"\1\2\3", value)


def write_rows(rows: Iterable[list[str]]) -> str:
    """CSV text (`,` separated, CRLF line ends as RFC 4180) with every cell made inert."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([inert(cell) for cell in row])
    return buffer.getvalue()
