"""
Reading a CSV: the encoding and the delimiter guessed, and the records parsed by pandas' C parser
when the result is provably what the csv module reads (one record per line, no ragged or
over-long rows, no odd bytes), else by the csv module.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import re
import unicodedata
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

from ._table import (
    HEADER_SLACK,
    MAX_BLANK_ROWS,
    MAX_COLUMNS,
    RawTable,
    collect,
    filled,
    frame_of,
    kept_rows,
    new_table,
)
from .errors import EncodingError, FileFormatError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DELIMITERS", "SINGLE_BYTE", "guess_single_byte", "read_csv"]

#: The delimiters guessed among, in order of preference on a tie.
DELIMITERS = (",", ";", "\t", "|")


_SEP_HINT = re.compile(r"\A\ufeff?sep=(.)[ \t]*\r?\n", re.IGNORECASE)


#: Blank lines read one by one at a record's start before the rest of the run is skipped in
#: blocks, and the size of those blocks (characters).
_BLANK_LINES, _BLANK_BLOCK = 64, 1 << 16


#: At most this much of a run of blank lines is kept as text, to give back its rows.
_BLANK_TEXT = 1 << 24


def _decode(
    head: bytes, encoding: str | None, name: str, final: bool
) -> tuple[str, str, str, str, str | None]:
    """
    Choose the encoding from the file's first bytes.

    Returns the head decoded, the codec to stream the whole file with, the encoding's name
    for ``RawTable.encoding``, why it was chosen, and a close runner-up (or ``None``).
    """

    def decoded(codec: str) -> str:
        return codecs.getincrementaldecoder(codec)(errors="strict").decode(head, final=final)

    if encoding is not None:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError as e:
            raise EncodingError(f"{name}: unknown encoding {encoding!r}", path=name) from e
        if codec == "utf-8" and head.startswith(codecs.BOM_UTF8):
            codec = "utf-8-sig"
        try:
            text = decoded(codec)
        except UnicodeDecodeError as e:
            line = head.count(b"\n", 0, e.start) + 1
            raise EncodingError(
                f"{name}: the bytes at line {line} (offset {e.start}) are not valid {encoding}; "
                "leave the encoding out to have it detected",
                path=name,
                row=line,
            ) from e
        return text, codec, encoding, f"encoding {encoding} as given", None
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if head.startswith(bom):
            try:
                text = decoded(codec)
            except UnicodeDecodeError as e:
                raise EncodingError(
                    f"{name}: the file starts with a {codec} mark but is not valid {codec}",
                    path=name,
                ) from e
            return text, codec, codec, f"encoding {codec}: the file starts with its mark", None
    sample = head[:4096]
    if sample.count(b"\x00") > len(sample) // 4:
        # UTF-16 without a mark: every other byte is zero for Latin text.
        codec = "utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be"
        try:
            text = decoded(codec)
        except UnicodeDecodeError:
            raise FileFormatError(
                f"{name}: this is a binary file, not a CSV or XLSX file", path=name
            ) from None
        return text, codec, codec, f"encoding {codec}: zero bytes between letters", None
    try:
        valid = "encoding utf-8: the bytes are valid UTF-8"
        return decoded("utf-8"), "utf-8", "utf-8", valid, None
    except UnicodeDecodeError as e:
        _refuse_mixed(head, e, name)
    guess, runner, doubt = guess_single_byte(head)
    why = f"encoding {guess}: not UTF-8; the letters read best as {guess}"
    return decoded(guess), guess, guess, why if doubt is None else f"{why}\n{doubt}", runner


def _refuse_mixed(head: bytes, error: UnicodeDecodeError, name: str) -> None:
    """Refuse text that is UTF-8 in places and another encoding in others: no guess is right."""
    text = head.decode("utf-8", errors="surrogateescape")
    # Only letters and punctuation of European text count as UTF-8: two legacy bytes may make
    # a valid UTF-8 character by chance (cp850 "Íñ" is U+05A4, a Hebrew accent).
    valid = sum(1 for c in text if "\xa0" <= c <= "\u024f" or "\u2010" <= c <= "\u20ac")
    if valid:
        line = head.count(b"\n", 0, error.start) + 1
        raise EncodingError(
            f"{name}: the file mixes encodings: UTF-8 letters, and at line {line} bytes that "
            "are not UTF-8; save it again from one program as UTF-8",
            path=name,
            row=line,
        )


#: The single-byte encodings told apart by :func:`guess_single_byte`, in order of preference
#: on a tie: Windows-1252 and Latin-9 (Windows and Unix in Western Europe), Mac Roman (Excel
#: for Mac's "CSV (Macintosh)"), DOS code page 850 (DOS exports), then Central European and
#: Baltic Windows.
SINGLE_BYTE = ("cp1252", "iso8859-15", "mac-roman", "cp850", "cp1250", "cp1257")


#: Letters common in names in the languages of those encodings: strong evidence (3); those
#: in _RARER_LETTERS less so (2).
_NAME_LETTERS = frozenset("æøåäöüéèàçñßáíóúëÆØÅÄÖÜÉÈÀÇÑÁÍÓÚ")


_RARER_LETTERS = frozenset("âêîôûï")


#: A byte above 127 decoded, with the two characters on each side.
_NON_ASCII = re.compile(r"(?<=(..))([^\x00-\x7f])(?=(..))", re.DOTALL)


@functools.cache
def _evidence(before: str, char: str, after: str) -> float:
    """
    How much a character decoded from a byte above 127, between ``before`` and ``after``,
    speaks for the encoding: a letter common in names 3 (``â``-like 2; a circumflexed capital
    such as ``Â`` 1, as names rarely start with one), another Latin letter 1; starting a word
    in lower case, 1 for a letter common in names and 0 for another; an apostrophe between
    letters 2, a currency sign, quote or dash beside a space or digit 1; a
    letter where names have none (upper case inside a word not in capitals, a lower-case
    letter followed by a capital), a symbol inside a word (``Bj¿rn``, ``Bj°rn``) -4, a
    box-drawing or control character -6.
    """
    previous, following = before[-1], after[0]
    in_word = previous.isalpha() or following.isalpha()
    if unicodedata.category(char)[0] == "L" and unicodedata.name(char, "").startswith("LATIN"):
        # The letters of the same word around it (a space ends the word: "AÆ a" is fine).
        word = before[-2:] if previous.isalpha() and before[0].isalpha() else previous
        word += after[:2] if following.isalpha() and after[1].isalpha() else following
        if previous.isalpha() and char.isupper() and any(c.islower() for c in word):
            return -4
        if previous.isalpha() and char.islower() and following.isupper():
            return -4
        if not previous.isalpha() and char.islower() and following.islower():
            # A name starts with a capital ("èsa" is more likely "Åsa" misread), but one typed
            # in lower case still starts with a name's letter ("åse").
            return 1 if char in _NAME_LETTERS else 0
        return 3 if char in _NAME_LETTERS else 2 if char in _RARER_LETTERS else 1
    if char in "\u2019\u02bc":
        return 2 if previous.isalpha() and following.isalpha() else 0
    if char in "\u2018\u00b4":
        return 1 if previous.isalpha() and following.isalpha() else 0
    if char in "\u20ac\u00a3\u201c\u201d\u201e\u00ab\u00bb\u2013\u2014\u2026\u00b0\u00a7":
        return -4 if previous.isalpha() and following.isalpha() else 1
    if char == "\u00a0":
        return 0
    if unicodedata.category(char) in ("Cc", "Co", "Cn") or "\u2500" <= char <= "\u25ff":
        return -6
    return -4 if in_word else -2


def guess_single_byte(data: bytes) -> tuple[str, str | None, str | None]:
    """
    The single-byte encoding that reads ``data`` best, a close runner-up, and a note naming it.

    Each candidate (:data:`SINGLE_BYTE`) decodes the whole sample and is scored on what it
    makes of every byte above 127 (:func:`_evidence`): letters that occur in European names
    count for it, letters in impossible places (an upper-case letter inside a lower-case
    word), symbols and box-drawing characters inside words, and control characters count
    against it. CR-only line ends (old Mac) count a little for Mac Roman, CR LF (DOS and
    Windows) a little against it. On a tie, the
    earlier candidate wins (Windows-1252, what Excel writes in Western European locales).
    """
    import collections

    scores: list[tuple[float, int, str, str]] = []
    for order, codec in enumerate(SINGLE_BYTE):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        triples = collections.Counter(_NON_ASCII.findall("  " + text + "  "))
        score = sum(
            n * _evidence(before, char, after) for (before, char, after), n in triples.items()
        )
        if codec == "mac-roman" and "\r" in text:  # CR-only: old Mac; CR LF: not a Mac
            score += 2 if "\n" not in text else -1 if "\r\n" in text else 0
        scores.append((score, -order, codec, text))
    scores.sort(reverse=True)
    best, *others = scores
    runner = next((s for s in others if s[3] != best[3]), None)
    if runner is None or runner[0] <= 0 or best[0] - runner[0] >= max(2.0, best[0] / 4):
        return best[2], None, None
    note = (
        f"encoding uncertain: {runner[2]} reads the letters almost as well as {best[2]} "
        f"(score {runner[0]:g} against {best[0]:g}); if names look wrong, pass "
        f"encoding={runner[2]!r}"
    )
    return best[2], runner[2], note


def _sniff_delimiter(text: str, *, complete: bool = True) -> tuple[str, str]:
    """The delimiter whose field counts are most consistent across the first lines."""
    sample = text[:65536]
    cut = max(sample.rfind("\n"), sample.rfind("\r"))
    if cut > 0 and (len(text) > len(sample) or not complete):
        sample = sample[:cut]
    best: tuple[float, int, int] | None = None
    choice = ","
    for order, sep in enumerate(DELIMITERS):
        try:
            lines = io.StringIO(sample, newline="")  # CR LF, LF and CR-only (old Mac) lines
            counts = [len(r) for r in csv.reader(lines, delimiter=sep) if any(r)]
        except csv.Error:
            continue
        counts = counts[:60]
        if not counts:
            continue
        wide = [c for c in counts if c > 1]
        if not wide:
            continue
        mode = max(set(wide), key=wide.count)
        share = wide.count(mode) / len(counts)
        score = (share, mode, -order)
        if best is None or score > best:
            best, choice = score, sep
    if best is None:
        return ",", "delimiter ',': no delimiter splits the lines"
    label = {"\t": "tab"}.get(choice, repr(choice))
    return (
        choice,
        f"delimiter {label}: it splits {best[0]:.0%} of the first lines into {best[1]} fields",
    )


class _Source:
    """A text stream read by lines or blocks, with text put back in front of it."""

    def __init__(self, text: IO[str]) -> None:
        self._text = text
        self._back: io.StringIO | None = None

    def readline(self) -> str:
        if self._back is not None:
            line = self._back.readline()
            if line:
                return line
            self._back = None
        return self._text.readline()

    def read(self, size: int) -> str:
        if self._back is not None:
            data = self._back.read(size)
            if len(data) == size:
                return data
            self._back = None
            return data + self._text.read(size - len(data))
        return self._text.read(size)

    def put_back(self, text: str) -> None:
        """Read ``text`` (whole lines but for a last one the stream completes) before the rest."""
        if text and not text.endswith("\n"):
            text += self.readline()  # a line cut in two, or a CR whose LF may follow
        if text:
            self._back = io.StringIO(text, newline="")


def _breaks(text: str) -> int:
    """The line breaks in ``text`` (CR LF, CR or LF), as ``newline=""`` text splits lines."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def _skip_blank(
    source: _Source, line: str, blank: re.Pattern[str], filled: re.Pattern[str]
) -> tuple[int, list[str] | None, str]:
    """
    Skip a run of blank lines starting with ``line``: the number of lines, their text (``None``
    when more than MAX_BLANK_ROWS lines or _BLANK_TEXT characters, which are not kept), and the
    first line after the run (``""`` at the end). The first lines are read one by one, the rest
    in blocks searched for the first character that is not blank, so that millions of blank
    lines cost little time and no memory.
    """
    kept: list[str] | None = [line]
    count, size = 1, len(line)
    while count < _BLANK_LINES:
        line = source.readline()
        if not line or blank.fullmatch(line) is None:
            return count, kept, line
        count += 1
        size += len(line)
        if kept is not None:
            kept.append(line)
    last = line
    while True:
        block = source.read(_BLANK_BLOCK)
        if not block:
            count += bool(last) and not last.endswith(("\r", "\n"))  # a last line unbroken
            return count, kept, ""
        found = _blank_end(block, filled)
        part = block[:found] if found is not None else block
        count += _breaks(part) - (last.endswith("\r") and part.startswith("\n"))
        size += len(part)
        if kept is not None and (count > MAX_BLANK_ROWS or size > _BLANK_TEXT):
            kept = None
        if kept is not None:
            kept.append(part)
        if found is not None:
            source.put_back(block[found:])
            return count, kept, source.readline()
        last = block


def _blank_end(block: str, filled: re.Pattern[str]) -> int | None:
    """Where the line holding the first character that is not blank starts, or ``None``."""
    found = filled.search(block)
    if found is None:
        return None
    at = found.start()
    return max(block.rfind("\n", 0, at), block.rfind("\r", 0, at)) + 1


class _RecordState:
    """What the line source and the record reader tell each other."""

    def __init__(self) -> None:
        self.boundary = True  # the csv reader is about to start a record
        self.runs: list[tuple[int, list[str] | None]] = []  # blank runs skipped since


def _records(
    text: IO[str], sep: str, first_line: int, where: list[Any]
) -> Iterator[tuple[int, list[str] | int]]:
    """
    Each record with the physical line it starts on.

    A run of blank lines (nothing but spaces, tabs and delimiters) where a record starts never
    reaches the csv module: it is skipped in bulk and comes as its rows (each line split at the
    delimiter, as the csv module splits a line without quotes), or, when too long to keep, as
    its number of lines. ``where[0]`` follows the reader's line, ``where[1]`` holds the last
    physical line read.
    """
    source = _Source(text)
    state = _RecordState()
    bulk = sep not in '"\r\n'
    blank_chars = " \t\r\n" + sep
    blank_line = re.compile(f"[ \t{re.escape(sep)}]*[\r\n]*")
    not_blank = re.compile(f"[^ \t{re.escape(sep)}\r\n]")

    def lines() -> Iterator[str]:
        while line := source.readline():
            if state.boundary and bulk and not line.strip(blank_chars):
                count, kept, line = _skip_blank(source, line, blank_line, not_blank)
                state.runs.append((count, kept))
                if not line:
                    return
            state.boundary = False
            where[1] = line
            yield line

    reader = csv.reader(lines(), delimiter=sep, strict=False)
    line = where[0] = first_line
    skipped = 0
    while True:
        state.boundary = True
        record = next(reader, None)
        for count, kept in state.runs:
            if kept is None:
                yield line, count
            else:
                for i, text_line in enumerate(io.StringIO("".join(kept), newline="")):
                    cells = text_line.rstrip("\r\n")
                    yield line + i, cells.split(sep) if cells else []
            line += count
            skipped += count
        state.runs.clear()
        if record is None:
            return
        where[0] = line
        yield line, record
        line = where[0] = first_line + reader.line_num + skipped


#: Encodings in which a byte 0x00, 0x0A or 0x0D is always NUL, LF or CR (ASCII-compatible).
_FAST_CODECS = frozenset(
    {"utf-8", "utf-8-sig", "ascii", "iso8859-1", "iso8859-15", "cp1252", "cp1250", "cp1257"}
    | {"cp850", "mac-roman"}
)


class _Unsafe(Exception):
    """The fast CSV path cannot promise what the csv module would read: read it carefully."""


#: A line break followed by a line that may be blank (more than the csv module's blank rows:
#: quotes and every delimiter count), in bytes of an ASCII-compatible encoding: an LF, or a CR
#: not before an LF. Two patterns, each starting with one literal byte, which ``re`` finds by
#: a fast search instead of trying the pattern at every byte (six times faster).
_BLANK_AFTER_LF = re.compile(rb'\n(?=[ \t,;|"]*[\r\n])')
_BLANK_AFTER_CR = re.compile(rb'\r(?!\n)(?=[ \t,;|"]*[\r\n])')


def _blank_ahead(text: bytes) -> int:
    """How many line breaks of ``text`` a line that may be blank follows."""
    found = len(_BLANK_AFTER_LF.findall(text))
    return found + len(_BLANK_AFTER_CR.findall(text)) if b"\r" in text else found


class _Scan(io.RawIOBase):
    """
    The head, then the rest of the stream, counting physical lines as ``newline=""`` text
    splits them (after CR LF, CR or LF), and giving up on a NUL byte, an over-long line, or
    more lines that may be blank than a table may keep (MAX_BLANK_ROWS: then the careful path
    applies the rule, and skips them in bulk).
    """

    def __init__(self, head: bytes, rest: IO[bytes] | None, longest: int) -> None:
        self._head = head
        self._rest = rest
        self._longest = longest
        self._run = 0  # bytes since the last LF
        self._last = b""
        self._tail = b"\n"  # from the last line break on (the file's start is one): its
        # next line is not judged yet
        self.blank = 0
        self.breaks = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            chunk, self._head = self._head, b""
            if self._rest is not None:
                chunk += self._rest.read()
        else:
            chunk, self._head = self._head[:size], self._head[size:]
            if len(chunk) < size and self._rest is not None:
                chunk += self._rest.read(size - len(chunk))
        if chunk:
            self._scan(chunk)
        return chunk

    def readinto(self, buffer: Any) -> int:
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def _scan(self, chunk: bytes) -> None:
        if b"\0" in chunk:
            raise _Unsafe("NUL")
        breaks = chunk.count(b"\n")
        if b"\r" in chunk:
            breaks += chunk.count(b"\r") - chunk.count(b"\r\n")
        if self._last == b"\r" and chunk.startswith(b"\n"):
            breaks -= 1  # one CR LF across two chunks
        self.breaks += breaks
        self._last = chunk[-1:]
        judged = self._tail + chunk
        self.blank += _blank_ahead(judged)
        if self.blank > MAX_BLANK_ROWS:
            raise _Unsafe("blank lines")
        last_break = max(judged.rfind(b"\n"), judged.rfind(b"\r"))
        self._tail = judged[last_break:] if last_break >= 0 else b""
        # No cell spans lines on this path, so no cell is longer than the longest line; a
        # line with more bytes than the csv module's field limit might hold a cell over it.
        start, end = 0, len(chunk)
        while True:
            window = start + self._longest - self._run + 1
            if window > end:
                last = chunk.rfind(b"\n", start)
                self._run = end - last - 1 if last >= 0 else self._run + end - start
                return
            last = chunk.rfind(b"\n", start, window)
            if last < 0:
                raise _Unsafe("long line")
            self._run, start = 0, last + 1

    @property
    def lines(self) -> int:
        """The physical lines read: a last line without a line break counts too."""
        return self.breaks + (self._last not in (b"", b"\r", b"\n"))


#: The encodings Arrow's CSV reader decodes itself (it checks the UTF-8 and drops one BOM).
_ARROW_CODECS = frozenset({"utf-8", "utf-8-sig"})

#: How many bytes of a CSV stream are read at a time for Arrow's reader.
_BLOCK = 1 << 20


def _fast_csv(
    head: bytes, rest: IO[bytes] | None, codec: str, delimiter: str, max_rows: int | None
) -> tuple[pd.DataFrame, int] | None:
    """
    The rows as the csv module path would read them, by Arrow's CSV reader (UTF-8) or pandas'
    C parser, and the number of records (trailing blank ones included: each is one physical
    line); ``None`` when that cannot be promised (a value with a line break, an over-wide row,
    a bad byte, an open quote, too many rows...), and the stream is then back where it was.
    A UTF-8 file Arrow refuses (a row shorter than the first) is offered to pandas.
    """
    mark = 0
    if rest is not None:
        try:
            if not rest.seekable():
                return None
            mark = rest.tell()
        except (OSError, ValueError):
            return None
    # One row past the careful path's ceiling: having read it all, the file is below it.
    nrows = None if max_rows is None else max_rows + 2 + HEADER_SLACK
    if codecs.lookup(codec).name in _ARROW_CODECS:
        scan = _Scan(head, rest, csv.field_size_limit())
        try:
            return _arrow_csv(scan, delimiter, nrows)
        except _Unsafe:
            if rest is not None:
                rest.seek(mark)
            return None
        except Exception:  # whatever Arrow refuses, pandas' parser may read (or not)
            if rest is not None:
                rest.seek(mark)
    return _pandas_csv(head, rest, mark, codec, delimiter, nrows)


@functools.cache
def _arrow_options(delimiter: str) -> tuple[Any, Any, Any]:
    """Arrow's read, parse and convert options for reading cells as the csv module does."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    return (
        pcsv.ReadOptions(use_threads=False, autogenerate_column_names=True),
        # The csv module's dialect: a quote opens a quoted field only at the field's start,
        # "" in it is one quote, and what follows the closing quote is kept as it is.
        pcsv.ParseOptions(
            delimiter=delimiter,
            quote_char='"',
            double_quote=True,
            escape_char=False,
            newlines_in_values=True,
            ignore_empty_lines=False,
        ),
        # Every cell as text, never missing: no type or null value is guessed.
        pcsv.ConvertOptions(
            column_types={f"f{i}": pa.large_string() for i in range(MAX_COLUMNS + 1)},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _arrow_csv(scan: _Scan, delimiter: str, nrows: int | None) -> tuple[pd.DataFrame, int]:
    """
    :func:`_fast_csv` by Arrow's CSV reader: raises :class:`_Unsafe` where only the csv
    module may read the stream (pandas would not either), another error where Arrow cannot.

    Arrow reads text cells straight into Arrow arrays, without a Python string per cell.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pcsv

    # The bytes are read here, not by Arrow (whose reader reads ahead in a thread of its own):
    # with a row limit, no further than the line that shows the file is over it.
    data = io.BytesIO()  # grown in place: the bytes are held once, not as pieces and a join
    while chunk := scan.read(_BLOCK):
        data.write(chunk)
        if nrows is not None and scan.breaks >= nrows:  # at least nrows lines
            raise _Unsafe("too many rows")
    read_options, parse_options, convert_options = _arrow_options(delimiter)
    table = pcsv.read_csv(
        pa.BufferReader(pa.py_buffer(data.getbuffer())),
        read_options=read_options,
        parse_options=parse_options,
        convert_options=convert_options,
    )
    count = table.num_rows
    if table.num_columns > MAX_COLUMNS:
        raise _Unsafe("too many columns")
    if count != scan.lines:  # a value with a line break: the careful path reads it
        raise _Unsafe("not one record per line")
    columns = []
    for i in range(table.num_columns):  # each column in one piece, its blocks let go
        columns.append(table.column(i).combine_chunks())
    del table
    last = [column[count - 1].as_py() for column in columns] if count else []
    if any("\n" in cell or "\r" in cell for cell in last):  # a quote left open at the end:
        raise _Unsafe("open quote")  # Arrow closes it there, the csv module refuses the file
    kept = kept_rows(columns, count)
    frame = pd.DataFrame(
        {i: pd.array(column.slice(0, kept), dtype="str") for i, column in enumerate(columns)},
        index=pd.RangeIndex(kept),
    )
    frame.columns = pd.RangeIndex(len(columns))
    return frame, count


def _pandas_csv(
    head: bytes,
    rest: IO[bytes] | None,
    mark: int,
    codec: str,
    delimiter: str,
    nrows: int | None,
) -> tuple[pd.DataFrame, int] | None:
    """:func:`_fast_csv` by pandas' C parser (the stream is at ``mark``)."""
    import pandas as pd

    scan = _Scan(head, rest, csv.field_size_limit())
    try:
        frame = pd.read_csv(
            scan,
            sep=delimiter,
            header=None,
            dtype=object,
            engine="c",
            na_filter=False,
            skip_blank_lines=False,
            quotechar='"',
            quoting=csv.QUOTE_MINIMAL,
            doublequote=True,
            encoding=codec,
            encoding_errors="strict",
            nrows=nrows,
        )
        if (
            (nrows is not None and len(frame) >= nrows)
            or len(frame) != scan.lines
            or frame.shape[1] > MAX_COLUMNS
        ):
            raise _Unsafe("not provably the same")
    except Exception:  # whatever pandas refuses, or reads otherwise, the careful path judges
        if rest is not None:
            rest.seek(mark)
        return None
    records = len(frame)
    columns = [frame[c].to_numpy() for c in frame.columns]
    kept = records
    while kept and not filled(column[kept - 1] for column in columns):
        kept -= 1
    if kept < records:
        frame = frame.iloc[:kept]
    frame.columns = pd.RangeIndex(frame.shape[1])
    return frame, records


def read_csv(
    head: bytes,
    rest: IO[bytes] | None,
    path: str | None,
    encoding: str | None,
    delimiter: str | None,
    max_rows: int | None,
) -> RawTable:
    """Read a CSV from its first bytes and the rest of the stream, stopping at the row limit."""
    name = path or "<bytes>"
    head_text, codec, used, why_encoding, runner_up = _decode(
        head, encoding, name, final=rest is None
    )
    if "\x00" in head_text:
        raise FileFormatError(
            f"{name}: the file holds NUL bytes, so it is not a text (CSV) file; "
            "if it is a spreadsheet, save it as .xlsx or .csv",
            path=path,
        )
    notes = why_encoding.split("\n")
    hint = _SEP_HINT.match(head_text)
    if hint and delimiter is None:
        delimiter = hint.group(1)
        notes.append(f"delimiter {delimiter!r}: the file's sep= line says so")
    elif delimiter is None:
        delimiter, why = _sniff_delimiter(head_text, complete=rest is None)
        notes.append(why)
    else:
        notes.append(f"delimiter {delimiter!r} as given")
    if len(delimiter) != 1:
        raise FileFormatError(f"{name}: the delimiter must be one character, not {delimiter!r}")
    fields: dict[str, Any] = {
        "format": "csv",
        "encoding": used,
        "encoding_runner_up": runner_up,
        "delimiter": delimiter,
        "path": path,
        "notes": notes,
    }
    empty = f"{name}: the file has no data (it is empty)"
    fast = (
        _fast_csv(head, rest, codec, delimiter, max_rows)
        if not hint
        and delimiter in DELIMITERS
        and codecs.lookup(codec).name in _FAST_CODECS
        and not head_text.startswith("\ufeff")  # pandas would drop a second BOM
        else None
    )
    if fast is not None:
        frame, _ = fast  # one line per row: the lines of trailing blank rows are not kept
        return new_table(frame, empty, lines=tuple(range(1, len(frame) + 1)), **fields)
    text = io.TextIOWrapper(
        io.BufferedReader(_Chain(head, rest)), encoding=codec, errors="strict", newline=""
    )
    first_line = 1
    if hint:
        text.readline()
        first_line = 2
    where: list[Any] = [first_line, ""]

    def place(line: int) -> tuple[str, int]:
        return f"line {line:,}", line

    try:
        records, lines, last = collect(
            _records(text, delimiter, first_line, where), name, path, max_rows, place
        )
    except csv.Error as e:
        raise FileFormatError(f"{name}: cannot read the file as CSV: {e}", path=path) from e
    except UnicodeDecodeError as e:
        at = where[0]
        raise EncodingError(
            f"{name}: the bytes near line {at} are not valid {used}; "
            + (
                "give the file's encoding with encoding=..."
                if encoding is None
                else "leave the encoding out to have it detected"
            ),
            path=path,
            row=at,
        ) from e
    last_line = str(where[1]).rstrip("\r\n")
    if last and last[1][-1:] and last[1][-1].endswith(("\n", "\r")) and last_line != '"':
        # A field whose quote never closed swallows the rest of the file, line breaks and all.
        # A closed one whose value ends in a line break leaves its closing quote alone on the
        # last line: a last line ending in '"' may still be inside the quotes ('"x""').
        opened = last[0]
        raise FileFormatError(
            f"{name}: a quote opened on line {opened} is never closed, so the rest of the "
            "file would be one value; close the quote or remove it",
            path=path,
            row=opened,
        )
    return new_table(frame_of(records), empty, lines=tuple(lines), **fields)


class _Chain(io.RawIOBase):
    """The bytes already read (the head), then the rest of the stream, as one raw stream."""

    def __init__(self, head: bytes, rest: IO[bytes] | None) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head.nbytes:
            n = min(len(buffer), self._head.nbytes)
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        if self._rest is None:
            return 0
        chunk = self._rest.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)
