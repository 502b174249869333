"""Text export files as they come: their encoding, and where each record starts.

CRM exports come in UTF-8 with or without a byte-order mark, UTF-16 from Excel's
"Unicode text", and Windows-1252 or Latin-1 from older tools (sometimes appended to a
UTF-8 file: then each line is read in its own). DuckDB reads UTF-8 only
(its Latin-1 reader refuses the Windows-1252 bytes 0x80-0x9F, which hold € and curly
quotes), so other encodings are decoded here and written out as UTF-8 before DuckDB
reads them: every value, and every quarantined line, keeps its characters.

Line numbers are the lines an editor shows. DuckDB numbers records, not lines: a
quoted value spanning lines, or a blank line, would shift every later number, so
where the counts disagree the records are found here, quote by quote.
"""

from __future__ import annotations

import codecs
import os
import re
from array import array
from dataclasses import dataclass
from pathlib import Path

_BLOCK = 1 << 20
# Longest first: the UTF-32 LE mark starts with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
UTF8 = ("utf-8", "utf-8-sig")


def canonical_encoding(name: str) -> str:
    """Python's name for an encoding a spec gives (``Windows-1252`` -> ``cp1252``).

    Raises:
        LookupError: no such encoding.
    """
    found = codecs.lookup(name).name
    return "utf-8-sig" if found == "utf-8-sig" else found


def sniff_encoding(path: Path) -> str | None:
    """The encoding a file's first bytes tell: a byte-order mark, or UTF-16's zero bytes.

    Args:
        path: the file.

    Returns:
        The encoding, or None when the start looks like ASCII-compatible text (UTF-8 or
        an 8-bit code page: the read tells which).
    """
    with path.open("rb") as f:
        head = f.read(4096)
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    pairs = len(head) // 2
    if pairs >= 2:
        # Text in UTF-16 without a mark: every other byte of ASCII characters is zero.
        odd = sum(1 for i in range(1, 2 * pairs, 2) if head[i] == 0)
        even = sum(1 for i in range(0, 2 * pairs, 2) if head[i] == 0)
        if odd > 0.4 * pairs and even < 0.05 * pairs:
            return "utf-16-le"
        if even > 0.4 * pairs and odd < 0.05 * pairs:
            return "utf-16-be"
    return None


# Not one encoding: each line read as UTF-8 where it is valid UTF-8, else as
# Windows-1252 (else Latin-1). What a file that is not UTF-8 is read as when the spec
# names no encoding: exports written by Windows tools, and files where such an export
# was appended to a UTF-8 one, keep every character.
LINE_BY_LINE = "utf-8, else cp1252 by line"


def decode_line(line: bytes) -> str:
    """One line of a file in no single encoding (:data:`LINE_BY_LINE`)."""
    for encoding in ("utf-8", "cp1252"):
        try:
            return line.decode(encoding)
        except UnicodeDecodeError:
            continue
    return line.decode("latin-1")  # decodes every byte


@dataclass
class DecodeError:
    """Where a file stops being valid in its encoding."""

    line: int
    byte: int
    value: bytes


def to_utf8(path: Path, encoding: str, out: Path | None) -> DecodeError | None:
    """Decode ``path`` from ``encoding``, writing it to ``out`` in UTF-8 (no byte-order mark).

    Args:
        path: the file as exported.
        encoding: its encoding.
        out: the UTF-8 copy to write; None only checks that the file decodes.

    Returns:
        None, or where the file is not valid in ``encoding`` (then ``out`` is incomplete).
    """
    if encoding == LINE_BY_LINE:
        assert out is not None  # every byte decodes: there is nothing to check
        with path.open("rb") as src, out.open("w", encoding="utf-8", newline="") as dst:
            for line in src:
                dst.write(decode_line(line))
        return None
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset, lines = 0, 1
    sink = out or Path(os.devnull)
    with path.open("rb") as src, sink.open("w", encoding="utf-8", newline="") as dst:
        while True:
            block = src.read(_BLOCK)
            try:
                text = decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                # The decoder may hold the first bytes of a character from the last block.
                held = len(exc.object) - len(block)
                at = max(exc.start - held, 0)
                bad = exc.object[exc.start : exc.end]
                return DecodeError(lines + block[:at].count(b"\n"), offset + at, bad)
            if out is not None:
                if offset == 0 and text[:1] == "\ufeff":
                    text = text[1:]  # the mark of utf-16/utf-32 (utf-8-sig drops its own)
                dst.write(text)
            if not block:
                return None
            offset += len(block)
            lines += block.count(b"\n")


def first_invalid_utf8(path: Path) -> DecodeError | None:
    """Where a file stops being valid UTF-8, or None if it is valid throughout."""
    return to_utf8(path, "utf-8", None)


# A field of a whitespace-delimited line: a double-quoted value (blanks kept), or a run
# of anything but blanks.
_FIELD = re.compile(rb'"(?:[^"]|"")*"|[^ \t\r\n\f\v]+')


def collapse_whitespace(path: Path, out: Path) -> None:
    """Copy a whitespace-delimited file with each line's fields joined by one tab.

    Leading and trailing blanks go; a quoted value keeps its blanks. Lines stay lines
    (a blank line stays blank, line endings are kept), so line numbers are unchanged.
    Bytes, not text: a file that is not valid UTF-8 is still found so by the read.

    Args:
        path: the file (UTF-8).
        out: the copy to write.
    """
    with path.open("rb") as src, out.open("wb") as dst:
        for number, line in enumerate(src):
            if number == 0 and line.startswith(codecs.BOM_UTF8):
                dst.write(codecs.BOM_UTF8)
                line = line[len(codecs.BOM_UTF8) :]
            body = line.rstrip(b"\r\n")
            dst.write(b"\t".join(_FIELD.findall(body)) + line[len(body) :])


def physical_lines(path: Path) -> int:
    """How many lines a file has (a last line without a newline counts).

    Args:
        path: a UTF-8 file.

    Returns:
        The number of lines an editor shows.
    """
    lines, last = 0, b"\n"
    with path.open("rb") as f:
        while block := f.read(_BLOCK):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (0 if last == b"\n" else 1)


@dataclass
class Records:
    """The units a CSV reader counts (records and blank lines), in file order.

    Attributes:
        starts: the line each unit starts on.
        blank: whether each unit is a blank line.
        sizes: the bytes of each unit.
        open_quote_line: the line of a quote that is never closed, if any.
    """

    starts: array
    blank: array
    sizes: array
    open_quote_line: int | None = None


def scan_records(path: Path, quote: str | None) -> Records:
    """Find where each record of a CSV (or JSONL) file starts, quote by quote.

    A quote character toggles "inside a value"; a newline inside a value continues the
    record. An escaped quote written twice (``""``) toggles twice, so it is counted
    right; other escape characters are not looked at.

    Args:
        path: a UTF-8 file.
        quote: the quote character, or None (JSONL: one record per line).

    Returns:
        The records, and the line of an unterminated quote.
    """
    q = quote.encode() if quote else None
    records = Records(array("q"), array("b"), array("q"))
    inside, opened = False, 0
    with path.open("rb") as f:
        for number, line in enumerate(f, 1):
            if inside:
                records.sizes[-1] += len(line)
            elif line.strip(b"\r\n") == b"":
                records.starts.append(number)
                records.blank.append(1)
                records.sizes.append(len(line))
                continue
            else:
                records.starts.append(number)
                records.blank.append(0)
                records.sizes.append(len(line))
            if q and line.count(q) % 2:
                inside = not inside
                opened = number if inside else opened
    if inside:
        records.open_quote_line = opened
    return records
