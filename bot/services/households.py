"""Roster import and export, shared by the bot (officers send a file) and the `dvcbot households` CLI.

An import with any fault changes nothing. Villages are matched by code or name (diacritic-insensitive);
unknown ones are listed for an officer to confirm, or created when the caller says so.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.coverage import RULE, describe
from bot.privacy import has_id_number
from bot.roster import ExportRow, ParsedRoster, export_xlsx, parse_roster, table_xlsx
from bot.store import Conn, audit, households, villages
from bot.store.households import NewHousehold
from bot.text import fold


@dataclass
class ImportResult:
    faults: list[str] = field(default_factory=list)
    unknown_villages: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    villages_created: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.faults and not self.unknown_villages


def privacy_faults(parsed: ParsedRoster) -> list[str]:
    """Names or addresses carrying an ID-card or phone number: the system stores no such numbers."""
    faults = []
    for row in parsed.rows:
        for column, value in (("Họ tên chủ hộ", row.head_name), ("Địa chỉ", row.address or "")):
            if has_id_number(value):
                faults.append(
                    f"Dòng {row.line}, cột «{column}»: có dãy số giống số căn cước/CMND/điện thoại — "
                    "hệ thống không lưu các số này, hãy xoá"
                )
    return faults


async def field_code_faults(conn: Conn, commune: str, parsed: ParsedRoster) -> list[str]:
    """A roster row may adopt a household added in the field (same code, same head) but not take it over."""
    rows = await conn.execute_fetchall(
        "SELECT code_key, head_folded, head_name FROM households WHERE commune = ? AND added_in_field = 1", (commune,)
    )
    field = {str(r[0]): (str(r[1]), str(r[2])) for r in rows}
    faults = []
    for row in parsed.rows:
        known = field.get(households.code_key(row.code))
        if known is not None and known[0] != fold(row.head_name):
            faults.append(
                f"Dòng {row.line}: mã hộ «{row.code}» đã dùng cho hộ «{known[1]}» do Tổ công nghệ số "
                "thêm tại thực địa; hãy dùng mã khác"
            )
    return faults


async def import_roster(
    conn: Conn,
    *,
    commune: str,
    data: bytes,
    filename: str,
    actor: str,
    now: datetime,
    create_villages: bool = False,
    parsed: ParsedRoster | None = None,
) -> ImportResult:
    """Validate the whole file first; write only when every row is sound (one transaction).

    Callers that hold the database should pass `parsed`, made beforehand in a thread, so that the
    lock is held for the writing only.
    """
    parsed = parsed if parsed is not None else parse_roster(data, filename)
    if parsed.faults:
        return ImportResult(faults=[str(f) for f in parsed.faults], warnings=list(parsed.warnings))
    faults = privacy_faults(parsed) + await field_code_faults(conn, commune, parsed)
    if faults:
        return ImportResult(faults=faults, warnings=list(parsed.warnings))
    table = villages.matcher(await villages.for_commune(conn, commune))
    unknown: dict[str, str] = {}
    for row in parsed.rows:
        key = fold(row.village)
        if key not in table:
            unknown.setdefault(key, row.village)
    if unknown and not create_villages:
        return ImportResult(unknown_villages=sorted(unknown.values(), key=fold), warnings=list(parsed.warnings))
    created = []
    for key, name in unknown.items():
        table[key] = await villages.add(conn, commune, name)
        created.append(name)
    rows = [
        NewHousehold(r.code, r.head_name, table[fold(r.village)].id, r.address, r.members, r.priorities)
        for r in parsed.rows
    ]
    added, updated = await households.upsert_many(conn, commune, rows, now)
    await audit.record(
        conn,
        commune=commune,
        actor=actor,
        action="import",
        object="households",
        now=now,
        added=added,
        updated=updated,
        rows=len(rows),
        villages_created=len(created),
    )
    return ImportResult(warnings=list(parsed.warnings), added=added, updated=updated, villages_created=created)


async def add_villages(conn: Conn, *, commune: str, names: list[str], actor: str, now: datetime) -> list[str]:
    """Add the villages an officer confirmed (skipping any that exist by now)."""
    table = villages.matcher(await villages.for_commune(conn, commune))
    added = []
    for name in names:
        clean = " ".join(name.split())[:100]
        if clean and fold(clean) not in table:
            table[fold(clean)] = await villages.add(conn, commune, clean)
            added.append(clean)
    if added:
        await audit.record(
            conn, commune=commune, actor=actor, action="create", object="villages", now=now, count=len(added)
        )
    return added


def export_roster(
    conn: sqlite3.Connection,
    *,
    commune: str,
    commune_name: str,
    timezone: str,
) -> tuple[bytes, int]:
    """Every household with status, skills, last visit and who made it, as XLSX bytes.

    Runs on a read-only snapshot, in the worker process for a big commune (`bot.heavy`): a
    200,000-household export is seconds of pure Python that must not hold the write lock or the loop.
    """
    tz = ZoneInfo(timezone)
    cursor = conn.execute(
        "SELECT h.code, h.head_name, v.name, h.address, h.members, h.priorities, h.reached_at, h.last_visit_at,"
        " h.added_in_field,"
        " (SELECT m.label FROM visits x JOIN members m ON m.id = x.member_id"
        "   WHERE x.household_id = h.id AND x.withdrawn_at IS NULL ORDER BY x.created_at DESC, x.id DESC LIMIT 1),"
        " (SELECT max(x.skills & 1) + max(x.skills & 2) + max(x.skills & 4) + max(x.skills & 8)"
        "   + max(x.skills & 16) FROM visits x WHERE x.household_id = h.id AND x.withdrawn_at IS NULL)"
        " FROM households h JOIN villages v ON v.id = h.village_id WHERE h.commune = ? ORDER BY v.id, h.code_key",
        (commune,),
    )

    def local_date(stamp: object) -> date | None:
        return datetime.fromisoformat(str(stamp)).astimezone(tz).date() if stamp else None

    count = 0

    def rows() -> Iterator[ExportRow]:
        nonlocal count
        for r in cursor:
            count += 1
            yield ExportRow(
                code=str(r[0]),
                head_name=str(r[1]),
                village=str(r[2]),
                address=r[3] and str(r[3]),
                members=None if r[4] is None else int(r[4]),
                priorities=frozenset(p for p in str(r[5]).split(",") if p),
                reached=r[6] is not None,
                skills=describe(int(r[10] or 0)) if r[10] else "",
                last_visit=local_date(r[7]),
                volunteer=r[9] and str(r[9]),
                added_in_field=bool(r[8]),
            )

    data = export_xlsx(rows(), title=f"Danh sách hộ — {commune_name}")
    return data, count


VILLAGE_HEADER = (
    "Thôn/xóm",
    "Số hộ",
    "Hộ đã đạt",
    "Tỷ lệ đạt (%)",
    "Đạt mới trong tuần",
    "Lượt thăm trong tuần",
    "Lượt chưa làm được trong tuần",
    "Hộ ưu tiên chưa đạt",
    "Hộ chưa thăm lần nào",
)


def export_village_figures(
    conn: sqlite3.Connection, *, commune: str, commune_name: str, since: str, cutoff: str
) -> tuple[bytes, int]:
    """Figures per village and for the commune — no names, no addresses: what a report needs.

    `since` is the week's start (ISO, UTC) and `cutoff` the local time the figures were read, written
    in the file so that a printed copy says when it was true.
    """
    rows = conn.execute(
        "SELECT v.name,"
        " (SELECT count(*) FROM households h WHERE h.village_id = v.id),"
        " (SELECT count(*) FROM households h WHERE h.village_id = v.id AND h.reached_at IS NOT NULL),"
        " (SELECT count(*) FROM households h WHERE h.village_id = v.id AND h.reached_at >= ?),"
        " (SELECT count(*) FROM visits x JOIN households h ON h.id = x.household_id"
        "   WHERE h.village_id = v.id AND x.created_at >= ? AND x.withdrawn_at IS NULL),"
        " (SELECT count(*) FROM visits x JOIN households h ON h.id = x.household_id"
        "   WHERE h.village_id = v.id AND x.created_at >= ? AND x.withdrawn_at IS NULL AND x.outcome IS NOT NULL),"
        " (SELECT count(*) FROM households h WHERE h.village_id = v.id AND h.reached_at IS NULL"
        "   AND h.priority_rank > 0),"
        " (SELECT count(*) FROM households h WHERE h.village_id = v.id AND h.last_visit_at IS NULL)"
        " FROM villages v WHERE v.commune = ? ORDER BY v.id",
        (since, since, since, commune),
    ).fetchall()
    counts = [[int(n) for n in r[1:]] for r in rows]
    sums = [sum(column) for column in zip(*counts, strict=True)] if counts else [0] * (len(VILLAGE_HEADER) - 2)
    table: list[list[object]] = [
        [str(r[0]), n[0], n[1], _share(n[1], n[0]), *n[2:]] for r, n in zip(rows, counts, strict=True)
    ]
    table.append(["Cả xã", sums[0], sums[1], _share(sums[1], sums[0]), *sums[2:]])
    notes = [
        f"Số liệu tính đến {cutoff}. Tuần tính từ thứ Hai 00:00.",
        "Nguồn: DVC Assistant — các lần hỗ trợ do Tổ công nghệ số ghi nhận.",
        "Hộ đạt: " + RULE,
    ]
    title = f"Số liệu Tổ công nghệ số theo thôn — {commune_name}"
    return table_xlsx(title=title, notes=notes, header=VILLAGE_HEADER, rows=table), len(rows)


def _share(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def household_count(conn: sqlite3.Connection, *, commune: str) -> int:
    return int(conn.execute("SELECT count(*) FROM households WHERE commune = ?", (commune,)).fetchone()[0])
