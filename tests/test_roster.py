"""Roster import/export: the files officers really send (encodings, delimiters, formulas, ID columns)."""

from __future__ import annotations

import time
import tracemalloc
import unicodedata
import zipfile
from datetime import date, datetime
from io import BytesIO

import pytest
from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped]

from bot import roster
from bot.roster import ExportRow, RosterFault, export_xlsx, parse_roster, template_xlsx

HEADER = "Mã hộ,Họ tên chủ hộ,Thôn/xóm,Địa chỉ,Số nhân khẩu,Ưu tiên"
NAMES = ("Nguyễn Thị Hồng Nhung", "Đặng Văn Lực", "Phạm Thị Ngọc Ánh", "Trần Quốc Việt")


def _csv(*lines: str, header: str = HEADER) -> bytes:
    return "\n".join((header, *lines)).encode()


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _messages(parsed: roster.ParsedRoster) -> list[str]:
    return [str(fault) for fault in parsed.faults]


_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def _cp1258_text(text: str) -> bytes:
    """Encode as Vietnamese Windows does: a toned letter is its base letter plus a combining tone mark."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in parts if c in _TONES)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
        out += (base + tones).encode("cp1258")
    return bytes(out)


# ------------------------------------------------------------------------------------------ CSV happy


def test_csv_with_vietnamese_headers() -> None:
    parsed = parse_roster(
        _csv(
            'H001,Nguyễn Văn An,Thôn 1,"Số 5, đường Lê Lợi",4,Người cao tuổi',
            "H002,  Lò   Thị Bình ,Bản Nà Mèo,,,",
        ),
        "ds.csv",
    )
    assert parsed.ok, _messages(parsed)
    first, second = parsed.rows
    assert first == roster.RosterRow(
        2, "H001", "Nguyễn Văn An", "Thôn 1", "Số 5, đường Lê Lợi", 4, frozenset({"elderly"})
    )
    assert (second.line, second.head_name, second.address, second.members) == (3, "Lò Thị Bình", None, None)
    assert second.priorities == frozenset()


def test_csv_headers_without_diacritics_and_synonyms() -> None:
    data = _csv("7,Hà Văn Tú,Xóm Đồi,3,ho ngheo", header="MA HO,ho ten,Xom,so nguoi,doi tuong")
    parsed = parse_roster(data, "x.csv")
    assert parsed.ok, _messages(parsed)
    assert parsed.rows[0].code == "7"
    assert parsed.rows[0].village == "Xóm Đồi"
    assert parsed.rows[0].priorities == {"poor"}


def test_semicolon_delimiter_keeps_commas_in_addresses() -> None:
    text = "Mã hộ;Họ tên chủ hộ;Thôn;Địa chỉ\nH1;Lê Văn Tám;Thôn 2;Số 3, ngõ 4, phố Huế\n"
    parsed = parse_roster(text.encode(), "a.csv")
    assert parsed.ok, _messages(parsed)
    assert parsed.rows[0].address == "Số 3, ngõ 4, phố Huế"


def test_tab_delimiter() -> None:
    text = "Mã hộ\tHọ tên chủ hộ\tThôn\nH1\tLê Văn Tám\tThôn 2\n"
    assert parse_roster(text.encode(), "a.txt").rows[0].village == "Thôn 2"


def test_utf8_with_bom() -> None:
    parsed = parse_roster(b"\xef\xbb\xbf" + _csv("H1,Đặng Văn Lực,Thôn 1,,,"), "a.csv")
    assert parsed.ok, _messages(parsed)
    assert parsed.rows[0].code == "H1"
    assert parsed.rows[0].head_name == "Đặng Văn Lực"


def test_windows_1258_decodes_to_nfc() -> None:
    lines = [f"H{i},{name},Thôn Hạ,,,Hộ nghèo" for i, name in enumerate(NAMES)]
    data = _cp1258_text("\n".join([HEADER, *lines]))
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    parsed = parse_roster(data, "ds.csv")
    assert parsed.ok, _messages(parsed)
    assert [row.head_name for row in parsed.rows] == list(NAMES)
    assert all(unicodedata.is_normalized("NFC", row.head_name) for row in parsed.rows)
    assert parsed.rows[0].village == "Thôn Hạ"
    assert parsed.rows[0].priorities == {"poor"}


def test_utf16_unicode_text_from_excel() -> None:
    text = "Mã hộ\tHọ tên chủ hộ\tThôn\r\nH1\tTrần Quốc Việt\tThôn 1\r\n"
    parsed = parse_roster(text.encode("utf-16"), "ds.txt")
    assert parsed.ok, _messages(parsed)
    assert parsed.rows[0].head_name == "Trần Quốc Việt"


def test_nfd_input_becomes_nfc() -> None:
    data = unicodedata.normalize("NFD", "\n".join([HEADER, "H1,Nguyễn Thị Hồng Nhung,Thôn Đông,,,"])).encode()
    parsed = parse_roster(data, "a.csv")
    assert parsed.ok, _messages(parsed)
    assert parsed.rows[0].head_name == unicodedata.normalize("NFC", "Nguyễn Thị Hồng Nhung")
    assert parsed.rows[0].village == "Thôn Đông"


def test_title_rows_and_numbered_blank_rows_are_skipped() -> None:
    text = "\n".join(
        [
            "DANH SÁCH HỘ GIA ĐÌNH THÔN 3,,,",
            ",,,",
            "STT,Mã hộ,Họ tên chủ hộ,Thôn",
            "1,H1,Vi Văn Hải,Thôn 3",
            "2,,,",
            "3,,,",
        ]
    )
    parsed = parse_roster(text.encode(), "a.csv")
    assert parsed.ok, _messages(parsed)
    assert [(row.line, row.code) for row in parsed.rows] == [(4, "H1")]


# ----------------------------------------------------------------------------------------------- XLSX


def test_xlsx_happy_path_numeric_cells() -> None:
    data = _xlsx(
        [
            ["Mã hộ", "Họ tên chủ hộ", "Thôn/xóm", "Số nhân khẩu", "Ưu tiên"],
            [12, "Nguyễn Văn An", "Thôn 1", 4.0, "Dân tộc thiểu số"],
            [],
            [13.0, "Lê Thị Hoa", "Thôn 2", 3, None],
        ]
    )
    parsed = parse_roster(data, "ds.xlsx")
    assert parsed.ok, _messages(parsed)
    assert [(r.line, r.code, r.members) for r in parsed.rows] == [(2, "12", 4), (4, "13", 3)]
    assert parsed.rows[0].priorities == {"ethnic"}


def test_xlsx_detected_by_content_not_name() -> None:
    data = _xlsx([["Mã hộ", "Họ tên chủ hộ", "Thôn"], ["H1", "Lê Thị Hoa", "Thôn 2"]])
    assert parse_roster(data, "danh sach.csv").rows[0].code == "H1"


def test_xlsx_formula_cell_is_a_fault_with_line_and_column() -> None:
    data = _xlsx(
        [
            ["Mã hộ", "Họ tên", "Thôn"],
            ["H1", "Lê Thị Hoa", "Thôn 2"],
            ["H2", '=CONCAT("Lê ","Văn")', "Thôn 2"],
        ]
    )
    parsed = parse_roster(data, "ds.xlsx")
    assert parsed.faults == [RosterFault(3, "Họ tên", "ô chứa công thức; hãy dán giá trị (Paste Values)")]
    assert str(parsed.faults[0]) == "Dòng 3, cột «Họ tên»: ô chứa công thức; hãy dán giá trị (Paste Values)"
    assert [r.code for r in parsed.rows] == ["H1"]


def test_xlsx_picks_the_sheet_with_the_roster() -> None:
    workbook = Workbook()
    workbook.active.append(["Ghi chú"])
    sheet = workbook.create_sheet("Hộ")
    sheet.append(["Mã hộ", "Họ tên chủ hộ", "Thôn"])
    sheet.append(["H1", "Lê Thị Hoa", "Thôn 2"])
    buffer = BytesIO()
    workbook.save(buffer)
    assert parse_roster(buffer.getvalue(), "x.xlsx").rows[0].code == "H1"


def test_csv_injection_in_name_or_address() -> None:
    parsed = parse_roster(_csv("H1,+cmd|' /C calc'!A0,Thôn 1,@SUM(1),,"), "a.csv")
    assert _messages(parsed) == [
        "Dòng 2, cột «Họ tên chủ hộ»: ô chứa công thức; hãy dán giá trị (Paste Values)",
        "Dòng 2, cột «Địa chỉ»: ô chứa công thức; hãy dán giá trị (Paste Values)",
    ]
    assert parsed.rows == []


# --------------------------------------------------------------------------------------------- faults


def test_missing_columns_one_fault_each() -> None:
    parsed = parse_roster("Họ tên chủ hộ,Địa chỉ\nLê Văn A,Số 1\n".encode(), "a.csv")
    assert _messages(parsed) == ["Thiếu cột «Mã hộ»", "Thiếu cột «Thôn/xóm»"]
    assert parsed.rows == []


def test_duplicate_header_is_a_fault() -> None:
    parsed = parse_roster("Mã hộ,Họ tên,Chủ hộ,Thôn\nH1,A,B,C\n".encode(), "a.csv")
    assert not parsed.ok
    assert "«Họ tên» và «Chủ hộ»" in str(parsed.faults[0])


def test_duplicate_codes_name_both_lines() -> None:
    parsed = parse_roster(_csv("H01,Lê Văn A,Thôn 1,,,", "H02,Lê Văn B,Thôn 1,,,", "h01,Lê Văn C,Thôn 1,,,"), "a")
    assert _messages(parsed) == ["Dòng 4: mã hộ «h01» trùng với dòng 2"]
    assert [r.code for r in parsed.rows] == ["H01", "H02"]


def test_code_faults() -> None:
    parsed = parse_roster(_csv(",Lê Văn A,Thôn 1,,,", f"{'X' * 31},Lê Văn B,Thôn 1,,,", "H 1,Lê Văn C,Thôn 1,,,"), "a")
    assert _messages(parsed) == [
        "Dòng 2: thiếu mã hộ",
        f"Dòng 3: mã hộ «{'X' * 31}» quá dài (tối đa 30 ký tự)",
        "Dòng 4: mã hộ «H 1» có ký tự không hợp lệ",
    ]


def test_name_and_village_faults() -> None:
    parsed = parse_roster(_csv("H1,12345,Thôn 1,,,", "H2,Lê Văn B,,,,", f"H3,{'A' * 101},Thôn 1,,,"), "a")
    assert _messages(parsed) == [
        "Dòng 2, cột «Họ tên chủ hộ»: không phải họ tên",
        "Dòng 3: thiếu thôn/xóm",
        "Dòng 4, cột «Họ tên chủ hộ»: dài quá 100 ký tự",
    ]


@pytest.mark.parametrize("value", ["0", "51", "bốn", "4.5", "-3", "4_0"])
def test_bad_members(value: str) -> None:
    parsed = parse_roster(_csv(f"H1,Lê Văn A,Thôn 1,,{value},"), "a.csv")
    assert _messages(parsed) == ["Dòng 2, cột «Số nhân khẩu»: phải là số từ 1 đến 50"]


@pytest.mark.parametrize("value", ["4", "4.0", " 4 ", "4,0"])
def test_good_members(value: str) -> None:
    parsed = parse_roster(_csv(f'H1,Lê Văn A,Thôn 1,,"{value}",'), "a.csv")
    assert parsed.rows[0].members == 4


def test_unknown_priority_lists_allowed_values() -> None:
    parsed = parse_roster(_csv("H1,Lê Văn A,Thôn 1,,,Hộ nghèo; thương binh"), "a.csv")
    (message,) = _messages(parsed)
    assert message.startswith("Dòng 2, cột «Ưu tiên»: không rõ «thương binh»")
    for label in roster.PRIORITY_LABELS.values():
        assert label in message


def test_multiple_priorities() -> None:
    parsed = parse_roster(_csv('H1,Lê Văn A,Thôn 1,,,"Người cao tuổi; hộ nghèo"', "H2,B Văn C,Thôn 1,,,NKT+DTTS"), "a")
    assert parsed.rows[0].priorities == {"elderly", "poor"}
    assert parsed.rows[1].priorities == {"disabled", "ethnic"}


def test_citizen_id_column_is_ignored_with_warning() -> None:
    data = _csv("H1,Lê Văn A,Thôn 1,001203004567", header="Mã hộ,Họ tên chủ hộ,Thôn,Số CCCD")
    parsed = parse_roster(data, "a.csv")
    assert parsed.ok, _messages(parsed)
    assert parsed.warnings == ["Đã bỏ qua cột «Số CCCD»: hệ thống không lưu số căn cước/định danh."]
    assert "001203004567" not in repr(parsed)


def test_fault_count_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(roster, "MAX_FAULTS", 5)
    parsed = parse_roster(_csv(*(f",Lê Văn {i},Thôn 1,,," for i in range(8))), "a.csv")
    assert len(parsed.faults) == 6
    assert str(parsed.faults[-1]) == "… và còn 3 lỗi khác"


# ------------------------------------------------------------------------------------ file-level faults


def test_empty_file() -> None:
    assert _messages(parse_roster(b"", "a.csv")) == ["Tệp rỗng"]


def test_only_header_is_a_fault() -> None:
    assert not parse_roster(HEADER.encode(), "a.csv").ok


def test_old_xls_signature() -> None:
    parsed = parse_roster(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "ds.xls")
    assert _messages(parsed) == ["Tệp .xls cũ chưa đọc được. Hãy mở bằng Excel và lưu lại dạng .xlsx hoặc .csv."]


@pytest.mark.parametrize("data", [b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"])
def test_pdf_and_images_rejected(data: bytes) -> None:
    assert _messages(parse_roster(data, "ds.csv")) == ["Chỉ nhận tệp CSV hoặc Excel (.xlsx)."]


def test_zip_that_is_not_a_workbook() -> None:
    other = BytesIO()
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    assert _messages(parse_roster(other.getvalue(), "a.docx")) == ["Chỉ nhận tệp CSV hoặc Excel (.xlsx)."]


def test_too_large_is_not_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(roster, "MAX_BYTES", 100)
    parsed = parse_roster(_csv(*(f"H{i},Lê Văn A,Thôn 1,,," for i in range(10))), "a.csv")
    assert _messages(parsed) == ["Tệp quá lớn (tối đa 20 MB). Hãy chia nhỏ tệp."]


def test_too_many_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(roster, "MAX_ROWS", 5)
    assert parse_roster(_csv(*(f"H{i},Lê Văn A,Thôn 1,,," for i in range(5))), "a.csv").ok
    parsed = parse_roster(_csv(*(f"H{i},Lê Văn A,Thôn 1,,," for i in range(6))), "a.csv")
    assert _messages(parsed) == ["Tệp có hơn 5 dòng. Hãy chia nhỏ tệp."]
    assert parsed.rows == []


def test_fault_str_without_line() -> None:
    assert str(RosterFault(None, None, "Tệp rỗng")) == "Tệp rỗng"
    assert str(RosterFault(17, None, "thiếu mã hộ")) == "Dòng 17: thiếu mã hộ"


# --------------------------------------------------------------------------------------------- writing


def test_template_parses_back() -> None:
    data = template_xlsx()
    parsed = parse_roster(data, "mau.xlsx")
    assert parsed.ok, _messages(parsed)
    assert [r.code for r in parsed.rows] == ["H001", "H002"]
    assert parsed.rows[1].priorities == {"poor", "ethnic"}
    workbook = load_workbook(BytesIO(data))
    assert workbook.sheetnames == ["Danh sách hộ", "Hướng dẫn"]
    guide = " ".join(str(c) for row in workbook["Hướng dẫn"].iter_rows(values_only=True) for c in row if c)
    for label in roster.PRIORITY_LABELS.values():
        assert label in guide


def _export_row(i: int, **changes: object) -> ExportRow:
    values: dict[str, object] = dict(
        code=f"H{i}",
        head_name=f"Nguyễn Văn {i}",
        village="Thôn 1",
        address="Số 5",
        members=4,
        priorities=frozenset({"poor", "elderly"}),
        reached=True,
        skills="VNeID, mức 2",
        last_visit=date(2026, 11, 20),
        volunteer="Lê Thị Mai",
        added_in_field=False,
    )
    values.update(changes)
    return ExportRow(**values)  # type: ignore[arg-type]


def test_export_round_trip() -> None:
    rows = [
        _export_row(1),
        _export_row(2, reached=False, last_visit=None, volunteer=None, added_in_field=True, address=None),
        _export_row(3, head_name='=HYPERLINK("http://x","bấm")'),
    ]
    data = export_xlsx(rows, title="Danh sách hộ — Xã Tân Lập")
    workbook = load_workbook(BytesIO(data))
    assert workbook.sheetnames == ["Danh sách hộ"]
    assert workbook.properties.title == "Danh sách hộ — Xã Tân Lập"
    sheet = workbook["Danh sách hộ"]
    assert sheet.freeze_panes == "A3"
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "Danh sách hộ — Xã Tân Lập"
    assert values[1] == (
        "Mã hộ",
        "Họ tên chủ hộ",
        "Thôn/xóm",
        "Địa chỉ",
        "Số nhân khẩu",
        "Ưu tiên",
        "Trạng thái",
        "Kỹ năng đã có",
        "Lần hỗ trợ gần nhất",
        "Thành viên Tổ CNS",
        "Thêm tại thực địa",
    )
    assert values[2] == (
        "H1",
        "Nguyễn Văn 1",
        "Thôn 1",
        "Số 5",
        4,
        "Người cao tuổi; Hộ nghèo",
        "Đã đạt",
        "VNeID, mức 2",
        datetime(2026, 11, 20),
        "Lê Thị Mai",
        None,
    )
    assert sheet["I3"].number_format == "DD/MM/YYYY"
    assert values[3][6:] == ("Chưa đạt", "VNeID, mức 2", None, None, "Có")
    assert sheet["B5"].data_type == "s"  # typed text stays text, never a live formula

    parsed = parse_roster(data, "export.xlsx")  # the title row is skipped, extra columns ignored
    assert [r.code for r in parsed.rows] == ["H1", "H2"]
    assert parsed.rows[0].priorities == {"poor", "elderly"}
    assert [f.line for f in parsed.faults] == [5]


# ------------------------------------------------------------------------------------------------ speed


def test_100k_csv_rows_parse_fast() -> None:
    lines = [
        f'H{i},Nguyễn Văn Tèo {i},Thôn {i % 20},"Số {i}, đường Lê Lợi",{i % 7 + 1},Hộ nghèo' for i in range(100_000)
    ]
    data = _csv(*lines)
    start = time.perf_counter()
    parsed = parse_roster(data, "big.csv")
    elapsed = time.perf_counter() - start
    assert parsed.ok and len(parsed.rows) == 100_000
    assert elapsed < 6, elapsed


# ---- zip bombs: refused before anything is unpacked or handed to openpyxl ------------------------------


def _workbook_with(replace: dict[str, bytes], extra: int = 0) -> bytes:
    """A real roster workbook with some parts replaced (or `extra` tiny parts added)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Mã hộ", "Họ tên chủ hộ", "Thôn"])
    sheet.append(["H1", "Nguyễn Văn An", "Thôn 1"])
    source = BytesIO()
    book.save(source)
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(source.getvalue())) as original, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        names = set(original.namelist())
        for info in original.infolist():
            z.writestr(info.filename, replace.get(info.filename, original.read(info.filename)))
        for name, content in replace.items():
            if name not in names:
                z.writestr(name, content)
        for i in range(extra):
            z.writestr(f"xl/media/x{i}.bin", b"x")
    return out.getvalue()


SHEET_HEAD = (
    b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)


@pytest.mark.parametrize(
    "bomb",
    [
        pytest.param(
            {"xl/worksheets/sheet1.xml": SHEET_HEAD + b"<row/>" * 2_000_000 + b"</sheetData></worksheet>"},
            id="12 MB of rows compressed 1000x",
        ),
        pytest.param(
            {
                "xl/worksheets/sheet1.xml": SHEET_HEAD
                + b'<row><c t="inlineStr"><is><t>'
                + b"A" * 300_000
                + b"</t></is></c></row></sheetData></worksheet>"
            },
            id="one cell longer than Excel allows",
        ),
        pytest.param(
            {"xl/styles.xml": b"<styleSheet>" + b'<xf numFmtId="0"/>' * 700_000 + b"</styleSheet>"},
            id="11 MB style table",
        ),
    ],
)
def test_xlsx_bombs_are_refused_with_advice(bomb: dict[str, bytes]) -> None:
    data = _workbook_with(bomb)
    assert len(data) < 2_000_000
    tracemalloc.start()
    try:
        parsed = parse_roster(data, "ds.xlsx")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [str(f) for f in parsed.faults] == [
        "Tệp Excel có nội dung bất thường (giải nén ra quá lớn), nên em không mở. Anh/chị mở tệp bằng Excel, "
        "chép riêng bảng danh sách hộ sang tệp mới rồi gửi lại, hoặc lưu dạng CSV."
    ]
    assert peak < 20 * 1024 * 1024  # never unpacked whole


def test_xlsx_with_thousands_of_parts_is_refused() -> None:
    parsed = parse_roster(_workbook_with({}, extra=600), "ds.xlsx")
    assert "bất thường" in str(parsed.faults[0])


def test_xlsx_unpacking_past_the_total_cap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.roster.MAX_XLSX_TOTAL", 4_000)
    parsed = parse_roster(_workbook_with({}), "ds.xlsx")
    assert "bất thường" in str(parsed.faults[0])


def test_a_long_but_legal_cell_is_still_read() -> None:
    def row(n: int, *texts: str) -> str:
        cells = "".join(f'<c r="{"ABCD"[i]}{n}" t="inlineStr"><is><t>{t}</t></is></c>' for i, t in enumerate(texts))
        return f'<row r="{n}">{cells}</row>'

    body = row(1, "Mã hộ", "Họ tên chủ hộ", "Thôn", "Ghi chú") + row(2, "H1", "An", "Thôn 1", "x" * 30_000)
    sheet = SHEET_HEAD + body.encode() + b"</sheetData></worksheet>"
    parsed = parse_roster(_workbook_with({"xl/worksheets/sheet1.xml": sheet}), "ds.xlsx")
    assert parsed.ok and [r.code for r in parsed.rows] == ["H1"]


def test_xlsx_with_a_giant_cell_in_a_part_of_any_name_is_refused() -> None:
    """openpyxl follows the workbook's links, so a renamed part is read too: every part is scanned."""
    renamed = _workbook_with({"xl/strs.xml": b"<sst><si><t>" + b"A" * 300_000 + b"</t></si></sst>"})
    assert "bất thường" in str(parse_roster(renamed, "ds.xlsx").faults[0])


def test_xlsx_with_too_many_shared_strings_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.roster.MAX_XLSX_STRINGS", 3)
    many = b"<sst>" + b"".join(b"<si><t>%d</t></si>" % i for i in range(10)) + b"</sst>"
    assert "bất thường" in str(parse_roster(_workbook_with({"xl/sharedStrings.xml": many}), "ds.xlsx").faults[0])
