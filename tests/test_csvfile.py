"""Reading and writing subscriber CSV files (pure): the encodings spreadsheets save, refusals
naming the line, and formula injection made inert wherever a spreadsheet could start a cell."""

from __future__ import annotations

import codecs
import csv
import io

import pytest

from newsletter.audience.csvfile import (
    FORMULA_TRIGGERS,
    CsvLimits,
    CsvRefused,
    inert,
    live,
    read_table,
    write_rows,
)

TEXT = "email,name\r\nzoe@exemple.fr,Zoé Lefèvre\r\nbea@exemple.fr,Béatrice d’Arc\r\n"
EXPECTED = [
    {"email": "zoe@exemple.fr", "name": "Zoé Lefèvre"},
    {"email": "bea@exemple.fr", "name": "Béatrice d’Arc"},
]


LATIN_1 = TEXT.replace("’", "'")  # plain Latin-1 has no curly apostrophe


@pytest.mark.parametrize(
    ("data", "encoding", "text"),
    [
        (TEXT.encode("utf-8"), "utf-8", TEXT),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8", TEXT),
        (TEXT.encode("utf-16"), "utf-16", TEXT),  # with its BOM, in this machine's byte order
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16", TEXT),
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16", TEXT),
        (TEXT.encode("cp1252"), "latin-1", TEXT),  # Excel's "CSV" on a French Windows
        (LATIN_1.encode("iso-8859-1"), "latin-1", LATIN_1),
    ],
    ids=["utf8", "utf8-bom", "utf16", "utf16-be", "utf16-le", "windows-1252", "iso-8859-1"],
)
def test_spreadsheet_encodings_are_read(data: bytes, encoding: str, text: str) -> None:
    """UTF-8 with or without BOM, UTF-16 with BOM, Latin-1: the same rows, line numbers kept."""
    table = read_table(data)

    assert table.encoding == encoding
    expected = [dict(zip(["email", "name"], line.split(","), strict=True))
                for line in text.splitlines()[1:]]  # fmt: skip
    assert [row.cells for row in table.rows] == expected
    assert [row.line for row in table.rows] == [2, 3]


@pytest.mark.parametrize("separator", [";", "\t"])
def test_other_separators_are_found_from_the_header(separator: str) -> None:
    """Excel in French saves with `;`; exports from other tools use tabs."""
    data = TEXT.replace(",", separator).encode("utf-8")
    assert [row.cells for row in read_table(data).rows] == EXPECTED


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"email,name\na@example.org,Zo\x81\n", "line 2: byte 0x81 is not text in UTF-8"),
        ("email\na@example.org\n".encode("utf-16-le"), "line 1: control character U+0000"),
        (b"email\na@example.org\n\x00\x01\x02binary\n", "line 3: control character U+0000"),
        (codecs.BOM_UTF8 + b"email\na@x.org\n\xff\xfe\n", "line 3: the file starts as UTF-8"),
        (codecs.BOM_UTF16_LE + b"e\x00\n\x00\x00\xd8", "line 2: the file starts as UTF-16"),
        (b"mail,name\na@example.org,A\n", "line 1: the CSV needs a header row with an `email`"),
    ],
    ids=[
        "latin1-undefined-byte",
        "utf16-without-bom",
        "binary",
        "bad-utf8",
        "bad-utf16",
        "no-email-column",
    ],
)
def test_unreadable_files_are_refused_naming_the_line(data: bytes, message: str) -> None:
    """Not UTF-8, UTF-16 (BOM) or Latin-1 text: refused as a whole, one line naming where."""
    with pytest.raises(CsvRefused) as refused:
        read_table(data)
    assert str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)


LIMITS = CsvLimits(file_bytes=2_000, field_chars=50, row_chars=120, columns=5)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"email,name\na@x.org,A\nb@x.org," + b"B" * 51 + b"\n", "line 3: a field is longer"),
        (b'email,name\na@x.org,A\n"b@x.org","B\n' + b"B" * 60 + b"\n", "line 4: a field is"),
        (b"email,a,b,c\n" + b"x@x.org," + b",".join([b"y" * 40] * 3) + b"\n", "line 2: the row"),
        (b"email\na@x.org,1,2,3,4,5\n", "line 2: more than 5 columns"),
        (b"email,name\n" + b"a@example.org,Ada\n" * 200, "line 112: the file is larger than"),
        (b"email," + b"x" * 130 + b"\n", "line 1: the header is longer"),
    ],
    ids=["field", "multiline-field", "row", "columns", "file", "header"],
)
def test_oversized_fields_rows_and_files_are_refused(data: bytes, message: str) -> None:
    """Each limit is enforced before anything is imported, with the line where it was crossed."""
    with pytest.raises(CsvRefused) as refused:
        read_table(data, LIMITS)
    assert str(refused.value).startswith(message)


def test_field_beyond_the_csv_modules_own_limit_names_its_line() -> None:
    """A field longer than Python's csv limit (128 KiB) gets the same one-line refusal."""
    data = b"email,name\na@x.org,A\nb@x.org," + b"B" * 140_000 + b"\n"
    with pytest.raises(CsvRefused, match=r"^line 3: a field is longer than 1,000 characters"):
        read_table(data)


NASTY = [
    '=HYPERLINK("http://evil.example","clic")',
    "+33 6 12 34 56 78",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    'x;=HYPERLINK("http://evil.example")',
    "x,=1+1",
    "x\t-1",
    "Dupont; =cmd|' /C calc'!A0",
    "x\n=1+1",
    "x\r\n@y",
    "a;\t=b",
    "'=already quoted",
    "x; ''=twice",
    "Jean-Pierre O'Neil",
    "ordinary@example.org",
    "",
]


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_exported_cells_never_start_a_formula_whatever_the_separator(separator: str) -> None:
    """A spreadsheet told to split on `,`, `;` or tab, honouring quotes or not, trimming spaces
    or not, finds no cell starting with = + - @ tab or CR."""
    exported = write_rows([["email", "name"], *[[value, value] for value in NASTY]])
    quoted = [cell for row in csv.reader(io.StringIO(exported, newline=""), delimiter=separator)
              for cell in row]  # fmt: skip
    naive = [cell.strip('"') for line in exported.splitlines() for cell in line.split(separator)]
    for cell in quoted + naive:
        for candidate in (cell, cell.lstrip(" ")):
            assert not candidate.startswith(tuple(FORMULA_TRIGGERS)), (separator, cell)
    assert "x;'=HYPERLINK" in exported  # neutralised after the `;`, not only at the start


def test_inert_cells_read_back_unchanged() -> None:
    """What an export made inert, an import takes back exactly."""
    assert [live(inert(value)) for value in NASTY] == NASTY
    assert inert("Jean-Pierre") == "Jean-Pierre"
