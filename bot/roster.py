"""Household roster import (CSV/XLSX) and export (XLSX).

Commune officers already keep a list of households in Excel; asking them to retype it into a chat would
lose the list, so they send the file they have. Files arrive from people, not programs: they come in
legacy encodings (Windows-1258), with ';' delimiters, decomposed Vietnamese, formulas, title rows and
citizen-ID columns the system must not store. This module turns such bytes into validated rows plus
faults written for the officer ("Dòng 17: thiếu mã hộ"), and turns rows back into a workbook.

It is deliberately pure: no database, no asyncio, no logging of cell values. Callers decide what to do
with the result (reject the file when ``not parsed.ok``, or store ``parsed.rows``), and can run it in a
thread because it holds no shared state.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Font  # type: ignore[import-untyped]

from bot.text import thousands

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
MAX_FAULTS = 1_000
# An XLSX is a zip: 20 MB on the wire can unpack to gigabytes ("zip bomb"), and openpyxl would hold a
# giant cell or style table in memory (a 390 kB file took 4.2 GB). The declared sizes are checked before
# anything is unpacked, then sheet text is scanned as a stream for cells longer than Excel allows.
# A real 200,000-household sheet unpacks to ~45 MB and compresses 5-20×.
MAX_XLSX_ENTRIES = 500
MAX_XLSX_TOTAL = 150 * 1024 * 1024
MAX_XLSX_ENTRY = 100 * 1024 * 1024
MAX_XLSX_RATIO = 100  # for entries over 10 MB unpacked
MAX_XLSX_STYLES = 10 * 1024 * 1024
MAX_CELL_BYTES = 32_767 * 4  # Excel's cell limit is 32,767 characters (≤ 4 UTF-8 bytes each)
MAX_XLSX_STRINGS = 800_000  # distinct texts; 200,000 households have ~600,000 (names, addresses, codes)
PRIORITIES = ("elderly", "disabled", "poor", "ethnic")
PRIORITY_LABELS = {
    "elderly": "Người cao tuổi",
    "disabled": "Người khuyết tật",
    "poor": "Hộ nghèo",
    "ethnic": "Dân tộc thiểu số",
}

# --------------------------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class RosterRow:
    """One valid household, ready to store. Only what outreach needs: no citizen-ID numbers."""

    line: int  # row number as the officer sees it in Excel (header row counts), to point back at the file
    code: str
    head_name: str
    village: str
    address: str | None
    members: int | None
    priorities: frozenset[str]


@dataclass(frozen=True, slots=True)
class RosterFault:
    """A problem the officer must fix in the file; `str()` is the sentence shown to them."""

    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        if self.column is None:
            return f"Dòng {self.line}: {self.message}"
        return f"Dòng {self.line}, cột «{self.column}»: {self.message}"


@dataclass(frozen=True)
class ParsedRoster:
    """Valid rows, faults, and warnings (things silently dropped that the officer should know about).

    Rows with a fault are left out of `rows`. File-level faults (size, format, missing columns, too many
    rows) leave `rows` empty so that no caller imports half a file by accident.
    """

    rows: list[RosterRow]
    faults: list[RosterFault]
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.faults


@dataclass(frozen=True, slots=True)
class ExportRow:
    """A household as exported: the roster fields plus the outreach state the commune reports on."""

    code: str
    head_name: str
    village: str
    address: str | None
    members: int | None
    priorities: frozenset[str]
    reached: bool
    skills: str  # human text, e.g. "VNeID, mức 2, đăng nhập DVC"
    last_visit: date | None
    volunteer: str | None
    added_in_field: bool


# ----------------------------------------------------------------------------------------- vocabulary

_CODE = "code"
_NAME = "head_name"
_VILLAGE = "village"
_ADDRESS = "address"
_MEMBERS = "members"
_PRIORITY = "priority"
_REQUIRED = (_CODE, _NAME, _VILLAGE)
_CANONICAL = {
    _CODE: "Mã hộ",
    _NAME: "Họ tên chủ hộ",
    _VILLAGE: "Thôn/xóm",
    _ADDRESS: "Địa chỉ",
    _MEMBERS: "Số nhân khẩu",
    _PRIORITY: "Ưu tiên",
}
_SYNONYMS = {
    _CODE: ("ma ho", "ma ho gia dinh", "ma so ho", "ma"),
    _NAME: ("ho ten chu ho", "ho va ten chu ho", "chu ho", "ten chu ho", "ho ten", "ho va ten"),
    _VILLAGE: (
        "thon",
        "xom",
        "to dan pho",
        "thon xom",
        "thon xom to dan pho",
        "thon to",
        "ap",
        "ban",
        "khu pho",
        "to",
    ),
    _ADDRESS: ("dia chi",),
    _MEMBERS: ("so nhan khau", "nhan khau", "so nguoi", "so thanh vien"),
    _PRIORITY: ("uu tien", "nhom uu tien", "doi tuong uu tien", "doi tuong"),
}
_HEADER_FIELD = {folded: name for name, folded_all in _SYNONYMS.items() for folded in folded_all}
_ID_MARKERS = ("cccd", "cmnd", "can cuoc", "dinh danh")
_PRIORITY_WORDS = {
    **dict.fromkeys(("nguoi cao tuoi", "cao tuoi", "nct", "ct"), "elderly"),
    **dict.fromkeys(("nguoi khuyet tat", "khuyet tat", "nkt", "kt"), "disabled"),
    **dict.fromkeys(("ho ngheo", "ngheo", "hn", "ho can ngheo", "can ngheo"), "poor"),
    **dict.fromkeys(("dan toc thieu so", "dan toc", "dtts"), "ethnic"),
}
_PRIORITY_NONE = ("", "khong")
_PRIORITY_SPLIT = re.compile(r"[,;/+\n]")
_PRIORITY_HELP = ", ".join(PRIORITY_LABELS[p] for p in PRIORITIES)

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_PARENTHESISED = re.compile(r"\([^)]*\)")
_CODE_OK = re.compile(r"[A-Za-z0-9._/-]+")
_MEMBERS_TEXT = re.compile(r"([0-9]{1,4})(?:[.,]0*)?")
# Control characters become spaces (tab, newline) or vanish; zero-width space and stray BOMs vanish too.
_CLEAN_TABLE = {c: " " for c in (9, 10, 11, 12, 13)} | {
    c: None for c in (*range(0, 9), *range(14, 32), 127, 0x200B, 0xFEFF)
}
_HEADER_SCAN_ROWS = 10  # title rows above the header, e.g. "DANH SÁCH HỘ GIA ĐÌNH THÔN 3"

_MSG_EMPTY = "Tệp rỗng"
_MSG_TOO_BIG = "Tệp quá lớn (tối đa 20 MB). Hãy chia nhỏ tệp."
_MSG_XLS = "Tệp .xls cũ chưa đọc được. Hãy mở bằng Excel và lưu lại dạng .xlsx hoặc .csv."
_MSG_NOT_TABLE = "Chỉ nhận tệp CSV hoặc Excel (.xlsx)."
_MSG_FORMULA = "ô chứa công thức; hãy dán giá trị (Paste Values)"
_MSG_BOMB = (
    "Tệp Excel có nội dung bất thường (giải nén ra quá lớn), nên em không mở. "
    "Anh/chị mở tệp bằng Excel, chép riêng bảng danh sách hộ sang tệp mới rồi gửi lại, hoặc lưu dạng CSV."
)


def _fold(text: str) -> str:
    """Header/keyword key: officers write "Họ tên", "HO TEN", "Ho_ten" and mean the same column."""
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    bare = bare.replace("đ", "d").replace("Đ", "d").lower()
    return _NON_ALNUM.sub(" ", bare).strip()


def _quote(value: str, limit: int = 40) -> str:
    """Echo a value back to the officer without flooding the chat with a 10 000-character cell."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


# -------------------------------------------------------------------------------------------- parsing


class _Faults:
    """Collects faults but keeps at most MAX_FAULTS: a broken 100 000-row file must not yield 100 000."""

    def __init__(self) -> None:
        self.kept: list[RosterFault] = []
        self.dropped = 0

    def add(self, line: int | None, column: str | None, message: str) -> None:
        if len(self.kept) < MAX_FAULTS:
            self.kept.append(RosterFault(line, column, message))
        else:
            self.dropped += 1

    def __bool__(self) -> bool:
        return bool(self.kept)

    def result(self) -> list[RosterFault]:
        if self.dropped:
            return [*self.kept, RosterFault(None, None, f"… và còn {thousands(self.dropped)} lỗi khác")]
        return list(self.kept)


def _cell_text(value: object, *, normalise: bool) -> str:
    """Any cell value as clean text. CSV text is NFC-normalised once as a whole, so not per cell."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value
        if not text.isprintable():
            text = text.translate(_CLEAN_TABLE)
        if normalise and not text.isascii():
            text = unicodedata.normalize("NFC", text)
        return text.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y") if value.time() == time() else value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value).strip()


@dataclass(frozen=True, slots=True)
class _Column:
    index: int
    label: str  # header as written in the file, for messages the officer can match to their sheet


@dataclass(slots=True)
class _Header:
    columns: dict[str, _Column]
    ignored_ids: list[str]
    duplicates: list[tuple[str, str, str]]  # (field, first label, second label)

    @property
    def recognised(self) -> int:
        return len(self.columns)


def _read_header(cells: Sequence[object]) -> _Header:
    columns: dict[str, _Column] = {}
    ignored: list[str] = []
    duplicates: list[tuple[str, str, str]] = []
    for index, raw in enumerate(cells):
        label = _cell_text(raw, normalise=True)
        if not label:
            continue
        folded = _fold(_PARENTHESISED.sub(" ", label)) or _fold(label)
        if any(marker in folded for marker in _ID_MARKERS):
            ignored.append(label)
            continue
        name = _HEADER_FIELD.get(folded)
        if name is None:
            continue
        if name in columns:
            duplicates.append((name, columns[name].label, label))
            continue
        columns[name] = _Column(index, label)
    return _Header(columns, ignored, duplicates)


def _find_header(rows: Iterator[tuple[int, Sequence[object]]]) -> tuple[int, _Header] | None:
    """The header is the first non-empty row, unless that row looks like a title and a later one (among
    the first few) names at least two known columns — exports and many commune sheets start with a title.
    """
    first: tuple[int, _Header] | None = None
    seen = 0
    for line, cells in rows:
        if not any(_cell_text(c, normalise=False) for c in cells):
            continue
        header = _read_header(cells)
        if first is None:
            first = (line, header)
        if header.recognised >= 2:
            return line, header
        seen += 1
        if seen >= _HEADER_SCAN_ROWS:
            break
    return first


class _PriorityReader:
    """Maps the free text of the priority cell; cached because a roster repeats a handful of values."""

    def __init__(self) -> None:
        self._cache: dict[str, frozenset[str] | str] = {}

    def read(self, text: str) -> frozenset[str] | str:
        """The priority set, or the first unrecognised part (as written) for the fault message."""
        hit = self._cache.get(text)
        if hit is not None:
            return hit
        found: set[str] = set()
        result: frozenset[str] | str | None = None
        for part in _PRIORITY_SPLIT.split(text):
            folded = _fold(part)
            if folded in _PRIORITY_NONE:
                continue
            group = _PRIORITY_WORDS.get(folded)
            if group is None:
                result = part.strip()
                break
            found.add(group)
        if result is None:
            result = frozenset(found)
        if len(self._cache) < 10_000:
            self._cache[text] = result
        return result


_INJECTION_FIELDS = (_NAME, _VILLAGE, _ADDRESS)


def _parse_rows(
    rows: Iterator[tuple[int, Sequence[object]]],
    header: _Header,
    faults: _Faults,
    *,
    from_csv: bool,
) -> tuple[list[RosterRow], bool]:
    """Validate data rows. Returns the valid rows and whether the file had more than MAX_ROWS rows."""
    cols = header.columns
    labels = {name: col.label for name, col in cols.items()}
    index = {name: col.index for name, col in cols.items()}
    wanted = list(index.items())
    limit = MAX_ROWS
    normalise = not from_csv
    injection_marks = ("=", "+", "@") if from_csv else ("=",)
    priorities = _PriorityReader()
    no_priority: frozenset[str] = frozenset()
    seen_codes: dict[str, int] = {}
    out: list[RosterRow] = []
    count = 0
    scanned = 0

    for line, cells in rows:
        scanned += 1
        if scanned > 2 * limit:  # a sheet padded with blank-looking rows: stop, don't spin for minutes
            return out, True
        width = len(cells)
        raw = {name: (cells[i] if i < width else None) for name, i in wanted}
        text = {name: _cell_text(value, normalise=normalise) for name, value in raw.items()}
        if not any(text.values()):
            continue  # blank, or only an STT/ignored column filled in (pre-numbered empty rows)
        count += 1
        if count > limit:
            return out, True
        bad = False

        # Formulas first: their text is not the value the officer sees, so other checks would mislead.
        formulas: set[str] = set()
        for name, value in text.items():
            if value.startswith(injection_marks) and (name in _INJECTION_FIELDS or value[0] == "="):
                faults.add(line, labels[name], _MSG_FORMULA)
                formulas.add(name)
                text[name] = ""
                bad = True

        code = text[_CODE]
        if not code:
            if _CODE not in formulas:
                faults.add(line, None, "thiếu mã hộ")
            bad = True
        elif len(code) > 30:
            faults.add(line, None, f"mã hộ «{_quote(code)}» quá dài (tối đa 30 ký tự)")
            bad = True
        elif not _CODE_OK.fullmatch(code):
            faults.add(line, None, f"mã hộ «{_quote(code)}» có ký tự không hợp lệ")
            bad = True
        else:
            key = code.casefold()
            first = seen_codes.get(key)
            if first is not None:
                faults.add(line, None, f"mã hộ «{code}» trùng với dòng {first}")
                bad = True
            else:
                seen_codes[key] = line

        name = " ".join(text[_NAME].split())
        if not name:
            if _NAME not in formulas:
                faults.add(line, None, "thiếu họ tên chủ hộ")
            bad = True
        elif len(name) > 100:
            faults.add(line, labels[_NAME], "dài quá 100 ký tự")
            bad = True
        elif not any(ch.isalpha() for ch in name):
            faults.add(line, labels[_NAME], "không phải họ tên")
            bad = True

        village = " ".join(text[_VILLAGE].split())
        if not village:
            if _VILLAGE not in formulas:
                faults.add(line, None, "thiếu thôn/xóm")
            bad = True
        elif len(village) > 100:
            faults.add(line, labels[_VILLAGE], "dài quá 100 ký tự")
            bad = True

        address: str | None = None
        if _ADDRESS in text:
            address = " ".join(text[_ADDRESS].split()) or None
            if address is not None and len(address) > 200:
                faults.add(line, labels[_ADDRESS], "dài quá 200 ký tự")
                bad = True

        members: int | None = None
        if text.get(_MEMBERS):
            members = _members(raw[_MEMBERS], text[_MEMBERS])
            if members is None:
                faults.add(line, labels[_MEMBERS], "phải là số từ 1 đến 50")
                bad = True

        groups = no_priority
        if text.get(_PRIORITY):
            found = priorities.read(text[_PRIORITY])
            if isinstance(found, str):
                faults.add(
                    line,
                    labels[_PRIORITY],
                    f"không rõ «{_quote(found)}»; chỉ nhận: {_PRIORITY_HELP} (hoặc để trống)",
                )
                bad = True
            else:
                groups = found

        if not bad:
            out.append(RosterRow(line, code, name, village, address, members, groups))
    return out, False


def _members(raw: object, text: str) -> int | None:
    """1..50 from 4, 4.0, "4", "4.0" or "4,0"; None when it is anything else."""
    number: float | int
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        number = raw
    else:
        match = _MEMBERS_TEXT.fullmatch(text)
        if match is None:
            return None
        number = int(match.group(1))
    if isinstance(number, float):
        if not number.is_integer():
            return None
        number = int(number)
    return number if 1 <= number <= 50 else None


def _parse_table(
    open_rows: Iterable[Iterator[tuple[int, Sequence[object]]]],
    *,
    from_csv: bool,
) -> ParsedRoster:
    """Shared by CSV and XLSX: `open_rows` yields a fresh row iterator per table candidate (sheet)."""
    faults = _Faults()
    found: tuple[int, _Header, Iterator[tuple[int, Sequence[object]]]] | None = None
    for rows in open_rows:
        located = _find_header(rows)
        if located is None:
            continue
        line, header = located
        if found is None or (
            all(r in header.columns for r in _REQUIRED) and not all(r in found[1].columns for r in _REQUIRED)
        ):
            found = (line, header, rows)
        if all(r in header.columns for r in _REQUIRED):
            break
    if found is None:
        return ParsedRoster([], [RosterFault(None, None, "Tệp không có dữ liệu")], [])
    line, header, rows = found

    warned = [f"Đã bỏ qua cột «{label}»: hệ thống không lưu số căn cước/định danh." for label in header.ignored_ids]
    for name in _REQUIRED:
        if name not in header.columns:
            faults.add(None, None, f"Thiếu cột «{_CANONICAL[name]}»")
    for name, first, second in header.duplicates:
        faults.add(line, None, f"hai cột «{first}» và «{second}» cùng là «{_CANONICAL[name]}»; hãy giữ một cột")
    if faults:
        return ParsedRoster([], faults.result(), warned)

    out, overflow = _parse_rows(rows, header, faults, from_csv=from_csv)
    if overflow:
        message = f"Tệp có hơn {thousands(MAX_ROWS)} dòng. Hãy chia nhỏ tệp."
        return ParsedRoster([], [RosterFault(None, None, message)], warned)
    if not out and not faults:
        # An "import" of nothing is never what the officer meant; usually the rows sit on another sheet.
        return ParsedRoster([], [RosterFault(None, None, "Tệp chưa có hộ nào dưới dòng tiêu đề.")], warned)
    return ParsedRoster(out, faults.result(), warned)


# ---------------------------------------------------------------------------------------- CSV reading


def _decode(data: bytes) -> str | None:
    """Text of a CSV, or None. Excel saves "CSV UTF-8" (with BOM), plain "CSV" (Windows-1258 on Vietnamese
    Windows, combining marks) or "Unicode Text" (UTF-16, tab-separated)."""
    if data.startswith(codecs.BOM_UTF8):
        candidates: tuple[str, ...] = ("utf-8-sig",)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ("utf-16",)
    else:
        candidates = ("utf-8", "cp1258", "cp1252")
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text if text.isascii() else unicodedata.normalize("NFC", text)
    return None


def _sniff_delimiter(text: str) -> str:
    """Pick ',', ';' or tab: the one under which the header names the most known columns, then the one
    splitting the first line into the most fields. csv.Sniffer is slow and trips over Vietnamese commas."""
    sample = text[:65_536]
    cut = sample.rfind("\n")
    if cut > 0 and len(text) > len(sample):
        sample = sample[:cut]
    first_line = next((ln for ln in sample.splitlines() if ln.strip()), "")
    best = ","
    best_score = (-1, -1)
    for delimiter in (",", ";", "\t"):
        try:
            rows = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
            located = _find_header((n, r) for n, r in enumerate(rows, 1))
        except csv.Error:
            continue
        recognised = located[1].recognised if located else 0
        score = (recognised, first_line.count(delimiter))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _parse_csv(data: bytes) -> ParsedRoster:
    text = _decode(data)
    if text is None:
        return ParsedRoster(
            [], [RosterFault(None, None, "Không đọc được bảng mã của tệp. Hãy lưu lại dạng CSV UTF-8.")]
        )
    if "\x00" in text:
        return ParsedRoster([], [RosterFault(None, None, _MSG_NOT_TABLE)])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    try:
        return _parse_table([enumerate(reader, 1)], from_csv=True)
    except csv.Error:
        message = f"Tệp CSV bị lỗi gần dòng {reader.line_num}. Hãy mở bằng Excel và lưu lại."
        return ParsedRoster([], [RosterFault(None, None, message)])


# --------------------------------------------------------------------------------------- XLSX reading


def _sheet_rows(sheet: Any) -> Iterator[tuple[int, Sequence[object]]]:
    # Dimensions written by other programs are often wrong (A1:A1, or the whole 1 048 576 rows); without
    # them openpyxl neither truncates nor pads, and still yields blank rows so numbering stays true.
    sheet.reset_dimensions()
    return enumerate(sheet.iter_rows(values_only=True), 1)


def _unsafe_archive(archive: zipfile.ZipFile) -> bool:
    """A zip bomb, judged from the declared sizes and by streaming every part (never unpacked whole).

    Every part is scanned, whatever its name: openpyxl finds sheets and shared strings through the
    workbook's relationships, so a renamed part is read all the same.
    """
    infos = archive.infolist()
    if len(infos) > MAX_XLSX_ENTRIES or sum(i.file_size for i in infos) > MAX_XLSX_TOTAL:
        return True
    for info in infos:
        if info.file_size > MAX_XLSX_ENTRY:
            return True
        if info.file_size > 10 * 1024 * 1024 and info.file_size > MAX_XLSX_RATIO * max(info.compress_size, 1):
            return True
        if info.filename.endswith("styles.xml") and info.file_size > MAX_XLSX_STYLES:
            return True
    strings = 0
    for info in infos:
        giant, count = _scan(archive, info)
        strings += count
        if giant or strings > MAX_XLSX_STRINGS:
            return True
    return False


def _scan(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[bool, int]:
    """(any text between tags longer than an Excel cell can hold, number of shared strings), streamed.

    A run longer than 2·S fully covers some S-aligned block of the buffer, so only tag-free blocks (rare
    in real XML) are measured exactly; everything else is `bytes.find` at C speed.
    """
    step = MAX_CELL_BYTES // 2
    tail = b""  # the text after the last tag of what was read so far
    strings = 0
    with archive.open(info) as stream:
        while chunk := stream.read(1 << 20):
            strings += chunk.count(b"<si>") + chunk.count(b"<si ")
            buffer = tail + chunk
            for start in range(0, len(buffer) - step + 1, step):
                if _tag_in(buffer, start, start + step):
                    continue
                left = max(buffer.rfind(b"<", 0, start), buffer.rfind(b">", 0, start))
                right = min(i for i in (buffer.find(b"<", start), buffer.find(b">", start), len(buffer)) if i >= 0)
                if right - left - 1 > MAX_CELL_BYTES:
                    return True, strings
            last = max(buffer.rfind(b"<"), buffer.rfind(b">"))
            tail = buffer[last + 1 :]
            if len(tail) > MAX_CELL_BYTES:
                return True, strings
    return False, strings


def _tag_in(buffer: bytes, start: int, end: int) -> bool:
    return buffer.find(b"<", start, end) >= 0 or buffer.find(b">", start, end) >= 0


def _parse_xlsx(data: bytes) -> ParsedRoster:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if _unsafe_archive(archive):
                return ParsedRoster([], [RosterFault(None, None, _MSG_BOMB)])
            names = set(archive.namelist())
            mimetype = archive.read("mimetype") if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError, EOFError, zlib.error):
        return ParsedRoster([], [RosterFault(None, None, "Tệp Excel bị hỏng. Hãy mở bằng Excel và lưu lại.")])
    if b"opendocument.spreadsheet" in mimetype:
        message = "Tệp .ods chưa đọc được. Hãy lưu lại dạng .xlsx hoặc .csv."
        return ParsedRoster([], [RosterFault(None, None, message)])
    if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
        return ParsedRoster([], [RosterFault(None, None, _MSG_NOT_TABLE)])
    if "xl/workbook.bin" in names:
        message = "Tệp Excel dạng .xlsb chưa đọc được. Hãy lưu lại dạng .xlsx hoặc .csv."
        return ParsedRoster([], [RosterFault(None, None, message)])

    with warnings.catch_warnings():
        # openpyxl warns about unsupported extensions (data validation, slicers); they do not matter here.
        warnings.simplefilter("ignore")
        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        except Exception:  # openpyxl raises many types for damaged parts
            message = "Không đọc được tệp Excel. Hãy mở bằng Excel và lưu lại dạng .xlsx."
            return ParsedRoster([], [RosterFault(None, None, message)])
        try:
            sheets = list(workbook.worksheets)
            active = workbook.active
            if active in sheets:
                sheets.remove(active)
                sheets.insert(0, active)
            tables = (_sheet_rows(sheet) for sheet in sheets if hasattr(sheet, "reset_dimensions"))
            return _parse_table(tables, from_csv=False)
        except Exception:
            message = "Không đọc được tệp Excel. Hãy mở bằng Excel và lưu lại dạng .xlsx."
            return ParsedRoster([], [RosterFault(None, None, message)])
        finally:
            workbook.close()


# ------------------------------------------------------------------------------------------ entry point


def parse_roster(data: bytes, filename: str) -> ParsedRoster:
    """Validate a roster file. The format is judged by content: chat clients rename and re-type files,
    and officers send "danh sach.xlsx" that is really CSV. `filename` only sharpens a message."""
    if not data:
        return ParsedRoster([], [RosterFault(None, None, _MSG_EMPTY)])
    if len(data) > MAX_BYTES:
        return ParsedRoster([], [RosterFault(None, None, _MSG_TOO_BIG)])
    if data.startswith(b"PK\x03\x04"):
        return _parse_xlsx(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        if filename.lower().endswith((".xlsx", ".xlsm")):
            # Excel stores password-protected .xlsx inside the old compound-file container.
            message = "Tệp Excel đang đặt mật khẩu. Hãy bỏ mật khẩu rồi gửi lại."
            return ParsedRoster([], [RosterFault(None, None, message)])
        return ParsedRoster([], [RosterFault(None, None, _MSG_XLS)])
    is_utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if data.startswith(b"%PDF") or (not is_utf16 and b"\x00" in data[:4096]):
        return ParsedRoster([], [RosterFault(None, None, _MSG_NOT_TABLE)])
    return _parse_csv(data)


# ------------------------------------------------------------------------------------------- writing

_TEMPLATE_HEADERS = ("Mã hộ", "Họ tên chủ hộ", "Thôn/xóm", "Địa chỉ", "Số nhân khẩu", "Ưu tiên")
_TEMPLATE_EXAMPLES = (
    ("H001", "Nguyễn Văn An", "Thôn 1", "Số 5, đường Lê Lợi", 4, "Người cao tuổi"),
    ("H002", "Lò Thị Bình", "Bản Nà Mèo", None, 3, "Hộ nghèo; Dân tộc thiểu số"),
)
_TEMPLATE_GUIDE = (
    ("Cột", "Bắt buộc", "Cách điền"),
    (
        "Mã hộ",
        "Có",
        "Mã riêng của mỗi hộ, tối đa 30 ký tự: chữ không dấu, số, dấu . _ / -. Không trùng nhau.",
    ),
    ("Họ tên chủ hộ", "Có", "Họ và tên đầy đủ của chủ hộ."),
    ("Thôn/xóm", "Có", "Thôn, xóm, bản, ấp hoặc tổ dân phố, viết thống nhất (ví dụ: Thôn 1)."),
    ("Địa chỉ", "Không", "Số nhà, đường, ngõ… để Tổ công nghệ số tìm đến hộ."),
    ("Số nhân khẩu", "Không", "Số từ 1 đến 50."),
    (
        "Ưu tiên",
        "Không",
        f"Để trống hoặc ghi một hay nhiều giá trị, cách nhau bằng dấu ; — {_PRIORITY_HELP}.",
    ),
    ("", "", ""),
    ("Lưu ý", "", "Không ghi số CCCD/định danh: hệ thống không lưu, cột đó sẽ bị bỏ qua."),
    ("", "", "Chỉ dán giá trị, không dùng công thức. Gửi tệp .xlsx hoặc .csv, tối đa 20 MB."),
)


def _save(workbook: Any) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_xlsx() -> bytes:
    """A blank roster officers can fill in: the exact headers the parser expects, two examples they can
    overwrite, and a "Hướng dẫn" sheet so nobody has to ask the bot what "Ưu tiên" accepts."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Danh sách hộ"
    sheet.append(_TEMPLATE_HEADERS)
    for example in _TEMPLATE_EXAMPLES:
        sheet.append(example)
    bold = Font(bold=True)
    for cell in sheet[1]:
        cell.font = bold
    for letter, width in zip("ABCDEF", (12, 28, 18, 32, 14, 32), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.column_dimensions["A"].number_format = "@"  # keep leading zeros of codes like 007
    sheet.freeze_panes = "A2"

    guide = workbook.create_sheet("Hướng dẫn")
    for row in _TEMPLATE_GUIDE:
        guide.append(row)
    for cell in guide[1]:
        cell.font = bold
    guide.column_dimensions["A"].width = 16
    guide.column_dimensions["B"].width = 10
    guide.column_dimensions["C"].width = 90
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in guide.iter_rows(min_row=2):
        row[2].alignment = wrap
    workbook.active = 0
    return _save(workbook)


_EXPORT_COLUMNS = (
    ("Mã hộ", 12),
    ("Họ tên chủ hộ", 28),
    ("Thôn/xóm", 18),
    ("Địa chỉ", 32),
    ("Số nhân khẩu", 13),
    ("Ưu tiên", 28),
    ("Trạng thái", 11),
    ("Kỹ năng đã có", 36),
    ("Lần hỗ trợ gần nhất", 20),
    ("Thành viên Tổ CNS", 24),
    ("Thêm tại thực địa", 17),
)
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_EXCEL_ERRORS = frozenset(("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"))


def export_xlsx(rows: Iterable[ExportRow], *, title: str) -> bytes:
    """The roster with outreach state, for the commune's report. Write-only (streamed) so 100 000+
    households fit in memory; the title sits in row 1 and in the workbook properties, and the file can be
    sent back to `parse_roster` unchanged (the title row is skipped, extra columns are ignored)."""
    workbook = Workbook(write_only=True)
    workbook.properties.title = _text_for_excel(title)
    sheet = workbook.create_sheet("Danh sách hộ")
    for number, (_, width) in enumerate(_EXPORT_COLUMNS, 1):
        sheet.column_dimensions[_letter(number)].width = width
    sheet.freeze_panes = "A3"

    title_cell = WriteOnlyCell(sheet, value=_text_for_excel(title))
    title_cell.font = Font(bold=True, size=14)
    sheet.append([title_cell])
    bold = Font(bold=True)
    header = []
    for label, _ in _EXPORT_COLUMNS:
        cell = WriteOnlyCell(sheet, value=label)
        cell.font = bold
        header.append(cell)
    sheet.append(header)

    labels = PRIORITY_LABELS
    for row in rows:
        visit: Any = None
        if row.last_visit is not None:
            visit = WriteOnlyCell(sheet, value=row.last_visit)
            visit.number_format = "DD/MM/YYYY"
        sheet.append(
            [
                _safe(sheet, row.code),
                _safe(sheet, row.head_name),
                _safe(sheet, row.village),
                _safe(sheet, row.address),
                row.members,
                "; ".join(labels[p] for p in PRIORITIES if p in row.priorities) or None,
                "Đã đạt" if row.reached else "Chưa đạt",
                _safe(sheet, row.skills),
                visit,
                _safe(sheet, row.volunteer),
                "Có" if row.added_in_field else None,
            ]
        )
    return _save(workbook)


def _letter(number: int) -> str:
    return chr(ord("A") + number - 1)  # the export has fewer than 27 columns


def _text_for_excel(text: str) -> str:
    cleaned = _ILLEGAL_XML.sub("", text) if not text.isprintable() else text
    return cleaned[:32_767]


def _safe(sheet: Any, text: str | None) -> object:
    """Text typed in the field must stay text: openpyxl would store "=HYPERLINK(…)" as a live formula."""
    if not text:
        return None
    cleaned = _text_for_excel(text)
    if cleaned.startswith("=") or cleaned in _EXCEL_ERRORS:
        cell = WriteOnlyCell(sheet, value=cleaned)
        cell.data_type = "s"
        return cell
    return cleaned


def table_xlsx(*, title: str, notes: Sequence[str], header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """A small figures table (one row per village, say): title, source and cut-off lines, then the table.

    Text cells go through `_safe` like the roster's, since village names come from people too.
    """
    workbook = Workbook(write_only=True)
    workbook.properties.title = _text_for_excel(title)
    sheet = workbook.create_sheet("Số liệu")
    for number, label in enumerate(header, 1):
        sheet.column_dimensions[_letter(number)].width = max(12, min(len(label) + 4, 30))
    title_cell = WriteOnlyCell(sheet, value=_text_for_excel(title))
    title_cell.font = Font(bold=True, size=14)
    sheet.append([title_cell])
    for note in notes:
        sheet.append([_safe(sheet, note)])
    bold = Font(bold=True)
    cells = []
    for label in header:
        cell = WriteOnlyCell(sheet, value=label)
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    for row in rows:
        sheet.append([_safe(sheet, v) if isinstance(v, str) else v for v in row])
    return _save(workbook)


# ------------------------------------------------------------------------ one-stop figures (a small table)

ONESTOP_COLUMNS = {
    "ky": "period",
    "ky bao cao": "period",
    "tong so ho so": "total",
    "tong": "total",
    "truc tuyen toan trinh": "fully_online",
    "toan trinh": "fully_online",
    "truc tuyen mot phan": "partly_online",
    "mot phan": "partly_online",
    "qua buu chinh": "by_post",
    "buu chinh": "by_post",
    "qua han": "overdue",
    "da so hoa": "digitised",
    "so hoa": "digitised",
    "da so hoa ket qua": "digitised",
    "thanh toan truc tuyen": "paid_online",
    "thanh toan": "paid_online",
}
ONESTOP_ORDER = ("total", "fully_online", "partly_online", "by_post", "overdue", "digitised", "paid_online")
MAX_ONESTOP_ROWS = 120


@dataclass
class OneStopFile:
    """One-stop figures uploaded as a table: (line, period as typed, the 7 numbers) per row, or faults."""

    rows: list[tuple[int, str, list[int]]] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)


def _table_cells(data: bytes) -> list[list[object]] | None:
    """The first sheet of an XLSX, or the rows of a CSV, up to a few hundred rows; None if neither."""
    if data.startswith(b"PK"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if _unsafe_archive(archive):
                    return None
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                sheet = workbook.active
                return [list(row) for row in itertools.islice(sheet.iter_rows(values_only=True), MAX_ONESTOP_ROWS + 10)]
            finally:
                workbook.close()
        except Exception:  # not a workbook we can read: then it is not this table either
            return None
    text = _decode(data[:200_000])
    if text is None:
        return None
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    delimiter = max((",", ";", "\t"), key=first.count)
    try:
        rows = csv.reader(io.StringIO(text), delimiter=delimiter)
        return [list(r) for r in itertools.islice(rows, MAX_ONESTOP_ROWS + 10)]
    except csv.Error:
        return None


def _period_text(value: object) -> str:
    """ "2026-W47", "Tuần 47/2026" → 2026-W47; "2026-11", "11/2026", "Tháng 11/2026" → 2026-11; a date cell
    (Excel turns a typed "11/2026" into 1/11/2026) → its month."""
    if isinstance(value, datetime | date):
        return f"{value.year}-{value.month:02d}"
    words = [w for w in _fold(str(value or "")).split() if w not in ("tuan", "thang")]
    week = str(value or "").casefold().startswith("tu") or any(w.startswith("w") for w in words)
    numbers = [w.lstrip("w") for w in words]
    if len(numbers) == 2 and all(n.isdigit() for n in numbers):
        year, number = numbers if len(numbers[0]) == 4 else numbers[::-1]
        if len(year) == 4 and len(number) <= 2:
            return f"{year}-W{int(number):02d}" if week else f"{year}-{int(number):02d}"
    return str(value or "").strip()[:20]


def parse_onestop(data: bytes, filename: str) -> OneStopFile | None:
    """A one-stop figures table (columns Kỳ, Tổng số hồ sơ, Trực tuyến toàn trình, …), or None when the file
    is something else (a roster). Every row is checked; nothing is kept from a file with a fault."""
    del filename  # judged by content, like rosters
    cells = _table_cells(data) if data and len(data) <= MAX_BYTES else None
    if not cells:
        return None
    header = next(
        (
            (i, names)
            for i, row in enumerate(cells[:10])
            if "period" in (names := [ONESTOP_COLUMNS.get(_fold(str(c or "")).strip()) for c in row])
            and "total" in names
        ),
        None,
    )
    if header is None:
        return None
    index, names = header
    where = {name: i for i, name in enumerate(names) if name}
    if any(n not in where for n in ONESTOP_ORDER):  # a roster that happens to have "Kỳ" and "Tổng" columns
        return None
    result = OneStopFile()
    seen: set[str] = set()
    for line, row in enumerate(cells[index + 1 :], index + 2):
        if not any(str(c or "").strip() for c in row):
            continue
        if len(result.rows) >= MAX_ONESTOP_ROWS:
            result.faults.append(f"quá {MAX_ONESTOP_ROWS} dòng")
            break
        values: list[int] = []
        for name in ONESTOP_ORDER:
            raw = row[where[name]] if where[name] < len(row) else None
            number = _whole_number(raw)
            if number is None:
                result.faults.append(
                    f"dòng {line}: ô «{_quote(str(raw if raw is not None else ''))}» không phải số nguyên"
                )
                break
            values.append(number)
        else:
            period = _period_text(row[where["period"]] if where["period"] < len(row) else None)
            if period in seen:
                result.faults.append(f"dòng {line}: kỳ «{period}» lặp lại")
            seen.add(period)
            result.rows.append((line, period, values))
    return result


_WHOLE = re.compile(r"\d{1,9}|\d{1,3}(?:[.,]\d{3}){1,3}")  # 1234, or 1.234 / 1,234 with thousands marks


def _whole_number(raw: object) -> int | None:
    """A count as typed or stored: 120, "120", "1.234"; never 1.5 or 12.7 (not silently made 15 or 127)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if raw >= 0 else None
    if isinstance(raw, float):
        return int(raw) if raw.is_integer() and raw >= 0 else None
    text = str(raw if raw is not None else "").strip()
    if not text.isascii() or not _WHOLE.fullmatch(text):
        return None
    return int(text.replace(".", "").replace(",", ""))
