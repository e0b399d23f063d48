"""The officers' digest: its text (a Jinja2 template in content/digests/), its chart (matplotlib PNG:
coverage per village, this period against the one before) and its XLSX report — all from one
`Figures` (bot/services/figures.py).

`prepare` is what runs in the worker process: figures and chart are pure CPU (matplotlib alone takes a
second to import), so neither touches the event loop.
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from bot.content import Content, make_environment
from bot.coverage import RULE
from bot.roster import table_xlsx
from bot.services.coverage import percent
from bot.services.figures import Figures, Period, compute

TEMPLATE = "digest.txt.j2"
MAX_TEXT = 4000
MAX_LISTED = 12


@dataclass(frozen=True, slots=True)
class Prepared:
    """What the worker hands back: the figures and the chart bytes."""

    figures: Figures
    chart: bytes


def prepare(conn: sqlite3.Connection, *, commune: str, period: Period, target_date: str | None) -> Prepared:
    """Figures and chart, on one snapshot (runs in the worker process or a thread)."""
    figures = compute(conn, commune=commune, period=period, target_date=target_date)
    return Prepared(figures, chart_png(figures))


def _day(moment: date) -> str:
    return moment.strftime("%d/%m/%Y")


def title(period: Period, timezone: str) -> str:
    """ "Báo cáo tuần 47/2026 (17/11–23/11)" or "Báo cáo tháng 11/2026"."""
    if period.kind == "month":
        return f"Báo cáo tháng {period.number}/{period.year}"
    if period.kind == "total":
        cutoff = period.end.astimezone(ZoneInfo(timezone))
        return f"Báo cáo lũy kế đến {cutoff:%H:%M} ngày {cutoff:%d/%m/%Y}"
    first, last = period.first_day, period.last_day
    return f"Báo cáo tuần {period.number}/{period.year} ({first:%d/%m}–{last:%d/%m})"


def file_name(figures: Figures, commune_slug: str, suffix: str) -> str:
    """BaoCao_CDS_<xa>_Tuan47_2026.xlsx / _Thang11_2026 / _LuyKe_02-12-2026."""
    period = figures.period
    if period.kind == "total":
        return f"BaoCao_CDS_{commune_slug}_LuyKe_{period.last_day:%d-%m-%Y}.{suffix}"
    word = "Tuan" if period.kind == "week" else "Thang"
    return f"BaoCao_CDS_{commune_slug}_{word}{period.number:02d}_{period.year}.{suffix}"


def render_text(figures: Figures, content: Content, timezone: str, content_dir: Path) -> str:
    """The digest message; the template names every figure it shows."""
    env = make_environment()
    env.loader = jinja2.FileSystemLoader(content_dir / "digests")
    template = env.get_template(TEMPLATE)
    last_day = figures.period.last_day
    target = figures.target_date
    projected = figures.projected
    satisfied = figures.satisfied_share
    goal = float(_target(content, "satisfaction_pct") or 90)
    online_goal = float(_target(content, "online_applications_pct") or 80)
    text = template.render(
        title=title(figures.period, timezone),
        commune_name=content.commune.name,
        cutoff=f"{_day(last_day)} (24:00)",
        period_word="tuần" if figures.period.kind == "week" else "tháng",
        total=figures.total,
        reached=figures.reached,
        share=percent(figures.reached, figures.total),
        gained=figures.reached - figures.reached_before,
        villages=[
            {
                "name": v.name,
                "reached": v.reached,
                "total": v.total,
                "share": percent(v.reached, v.total),
                "gained": v.reached - v.reached_before,
            }
            for v in figures.villages[:MAX_LISTED]
            if v.total
        ],
        behind=[f"{v.name} ({percent(v.reached, v.total)})" for v in figures.behind if len(figures.villages) > 1],
        projected=_day(projected) if projected else None,
        pace=f"{figures.pace_per_week:.0f}" if figures.pace_per_week >= 1 else f"{figures.pace_per_week:.1f}",
        target_date=_day(target) if target else None,
        on_track=bool(projected and target and projected <= target),
        visits=figures.visits,
        nothing_done=figures.visits_nothing_done,
        by_volunteer=figures.visits_by_volunteer[:MAX_LISTED],
        idle=figures.idle_volunteers[:MAX_LISTED],
        help_new=figures.help_new,
        help_done=figures.help_done,
        help_waiting=figures.help_waiting,
        guides=[_guide_title(content, g) for g, _ in figures.guide_views],
        ratings=figures.ratings,
        satisfied=percent(figures.ratings_good, figures.ratings),
        average=f"{figures.rating_average:.1f}".replace(".", ",") if figures.rating_average else "—",
        satisfaction_target=f"{goal:g}",
        satisfied_before=percent(figures.ratings_good_before, figures.ratings_before)
        if figures.ratings_before
        else None,
        adults_target=_target(content, "adults_using_dvc_pct"),
        onestop=_onestop(figures, timezone, online_goal),
        online_target=f"{online_goal:g}",
        satisfied_ok=satisfied is not None and satisfied * 100 >= goal,
    )
    return text[:MAX_TEXT]


def _target(content: Content, name: str) -> str | None:
    """A target from the commune settings as shown ("50"), None when absent or not a number."""
    value = _number(content.commune.targets.get(name))
    return None if value is None else f"{value:g}"


def _share(part: int, whole: int) -> str:
    return f"{part} ({percent(part, whole)})"


def _onestop(figures: Figures, timezone: str, online_goal: float) -> dict[str, Any] | None:
    """The one-stop figures an officer entered, said as such (who, when), with the trend."""
    entered = figures.onestop
    if entered is None:
        return None
    at = datetime.fromisoformat(entered.entered_at).astimezone(ZoneInfo(timezone))
    total, before = entered.total, figures.onestop_before
    share = 100 * entered.fully_online / total if total else 0.0
    projection = None
    if before is not None and before.total and share < online_goal:
        gain = share - 100 * before.fully_online / before.total  # points per period
        word = "tuần" if figures.period.kind == "week" else "tháng"
        if gain > 0:
            projection = f"dự kiến đạt sau khoảng {max(1, round((online_goal - share) / gain))} {word} nữa"
        else:
            projection = f"chưa tăng so với {word} trước"
    return {
        "projection": projection,
        "source": f"{entered.entered_by or 'cán bộ xã'} nhập lúc {at:%H:%M %d/%m}",
        "total": total,
        "full": _share(entered.fully_online, total),
        "full_ok": total > 0 and 100 * entered.fully_online / total >= online_goal,
        "before": percent(before.fully_online, before.total) if before is not None else None,
        "overdue": _share(entered.overdue, total),
        "digitised": _share(entered.digitised, total),
        "paid": _share(entered.paid_online, total),
    }


def _guide_title(content: Content, guide_id: str) -> str:
    guide = content.guides.get(guide_id)
    return guide.title if guide is not None else guide_id


def chart_png(figures: Figures) -> bytes:
    """Coverage per village, this period against the one before, as a PNG small enough for a phone."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    lines = [v for v in figures.villages if v.total][:30] or figures.villages[:1]
    names = [v.name for v in lines] or ["—"]
    now = [100 * v.share for v in lines] or [0.0]
    before = [100 * v.share_before for v in lines] or [0.0]
    height = max(2.8, 0.45 * len(names) + 1.6)  # room for the legend under the axis
    figure, axes = plt.subplots(figsize=(6.4, height), dpi=110)
    try:
        positions = range(len(names))
        axes.barh([p + 0.2 for p in positions], before, height=0.4, color="#b0bec5", label="Kỳ trước")
        axes.barh([p - 0.2 for p in positions], now, height=0.4, color="#1e88e5", label="Kỳ này")
        axes.set_yticks(list(positions), names)
        axes.invert_yaxis()
        axes.set_xlim(0, 100)
        axes.set_xlabel("% hộ đạt")
        axes.set_title("Hộ có người dùng được dịch vụ công, theo thôn")
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False, fontsize="small")
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    finally:
        plt.close(figure)
    return buffer.getvalue()


def report(
    conn: sqlite3.Connection,
    *,
    commune: str,
    commune_name: str,
    period: Period,
    target_date: str | None,
    timezone: str,
    cutoff: str,
    pdf: bool = False,
    targets: Mapping[str, object] | None = None,
) -> tuple[bytes, Figures]:
    """The report file (XLSX, or PDF), figures and file both made in the worker (runs on a snapshot)."""
    figures = compute(conn, commune=commune, period=period, target_date=target_date)
    make = report_pdf if pdf else report_xlsx
    return make(figures, commune_name, timezone, cutoff, targets or {}), figures


def target_lines(figures: Figures, targets: Mapping[str, object], timezone: str) -> list[str]:
    """Every target of the plan with its figure, its trend and, where one can be made, the projection."""
    lines = []
    total, reached = figures.total, figures.reached
    projected, deadline = figures.projected, figures.target_date
    when = f" trước {_day(deadline)}" if deadline else ""
    outlook = "chưa dự báo được (4 tuần qua chưa có hộ đạt mới)"
    if reached >= total > 0:
        outlook = "đã đạt"
    elif projected:
        late = deadline is not None and projected > deadline
        outlook = f"dự kiến đạt {_day(projected)}" + (" — chậm so với hạn" if late else "")
    lines.append(
        f"Mục tiêu: mọi hộ có người dùng được dịch vụ công (100 %{when}): {percent(reached, total)} "
        f"(đầu kỳ {percent(figures.reached_before, total)}); {outlook}."
    )
    online = float(_number(targets.get("online_applications_pct")) or 80)
    entered = _onestop(figures, timezone, online)
    if entered is None:
        lines.append(f"Mục tiêu: hồ sơ trực tuyến toàn trình ({online:g} %): chưa có số liệu một cửa của kỳ này.")
    else:
        trend = f" (kỳ trước {entered['before']})" if entered["before"] else ""
        outlook = f"; {entered['projection']}" if entered["projection"] else ""
        lines.append(f"Mục tiêu: hồ sơ trực tuyến toàn trình ({online:g} %): {entered['full']}{trend}{outlook}.")
    goal = float(_number(targets.get("satisfaction_pct")) or 90)
    if figures.ratings:
        before = (
            f" (kỳ trước {percent(figures.ratings_good_before, figures.ratings_before)})"
            if figures.ratings_before
            else ""
        )
        lines.append(
            f"Mục tiêu: người dân hài lòng ({goal:g} %): {percent(figures.ratings_good, figures.ratings)}{before}."
        )
    else:
        lines.append(f"Mục tiêu: người dân hài lòng ({goal:g} %): chưa có đánh giá trong kỳ.")
    adults = _number(targets.get("adults_using_dvc_pct"))
    if adults is not None:
        lines.append(f"Mục tiêu: người trưởng thành dùng dịch vụ công ({adults:g} %): bot chưa đo được.")
    return lines


def _number(value: object) -> float | None:
    try:
        return float(str(value)) if value is not None else None
    except ValueError:
        return None


def _report_table(
    figures: Figures, targets: Mapping[str, object] | None = None, timezone: str = "Asia/Ho_Chi_Minh"
) -> tuple[tuple[str, ...], list[list[Any]], list[str]]:
    """Header, rows (per village, then the commune) and the notes: what both report files show."""
    header = ("Thôn/xóm", "Số hộ", "Hộ đạt cuối kỳ", "Tỷ lệ (%)", "Hộ đạt đầu kỳ", "Tăng trong kỳ")
    rows: list[list[Any]] = [
        [v.name, v.total, v.reached, round(100 * v.share, 1), v.reached_before, v.reached - v.reached_before]
        for v in figures.villages
    ]
    total = figures.total
    rows.append(
        ["Cả xã", total, figures.reached, round(100 * figures.reached / total, 1) if total else 0.0,
         figures.reached_before, figures.reached - figures.reached_before]
    )  # fmt: skip
    satisfied = figures.satisfied_share
    notes = [
        "Nguồn: DVC Assistant — do Tổ công nghệ số ghi nhận.",
        "Mẫu báo cáo: mẫu mặc định của DVC Assistant (chưa cấu hình mẫu của tỉnh).",
        "Hộ đạt: " + RULE,
        f"Lượt hỗ trợ trong kỳ: {figures.visits} (chưa làm được: {figures.visits_nothing_done}).",
        f"Yêu cầu hỗ trợ: {figures.help_new} mới, {figures.help_done} đã xong, {figures.help_waiting} chờ quá 48 giờ.",
        f"Đánh giá hài lòng: {figures.ratings} đánh giá"
        + (f", {round(100 * satisfied, 1)} % từ 4 sao." if satisfied is not None else "."),
    ]
    entered = figures.onestop
    if entered is not None:
        t = entered.total
        notes.append(
            f"Một cửa (số liệu do {entered.entered_by or 'cán bộ xã'} nhập, {entered.entered_at}): {t} hồ sơ, "
            f"toàn trình {entered.fully_online} ({percent(entered.fully_online, t)}), "
            f"một phần {entered.partly_online}, "
            f"bưu chính {entered.by_post}, quá hạn {entered.overdue}, số hoá {entered.digitised}, "
            f"thanh toán trực tuyến {entered.paid_online}."
        )
    else:
        notes.append("Một cửa: chưa có số liệu nhập cho kỳ này.")
    return header, rows, notes + target_lines(figures, targets or {}, timezone)


def report_xlsx(
    figures: Figures, commune_name: str, timezone: str, cutoff: str, targets: Mapping[str, object] | None = None
) -> bytes:
    """The same figures as the digest, aggregated per village (no names), with source and cut-off."""
    header, rows, notes = _report_table(figures, targets, timezone)
    notes = [f"Số liệu tính đến {cutoff}.", *notes]
    return table_xlsx(
        title=f"{title(figures.period, timezone)} — {commune_name}", notes=notes, header=header, rows=rows
    )


def report_pdf(
    figures: Figures, commune_name: str, timezone: str, cutoff: str, targets: Mapping[str, object] | None = None
) -> bytes:
    """The same table as the XLSX, as a one-page A4 PDF to print or forward (DejaVu Sans: Vietnamese)."""
    from fpdf import FPDF

    header, rows, notes = _report_table(figures, targets, timezone)
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.add_font("DejaVu", fname=str(font_path()))
    pdf.set_font("DejaVu", size=14)
    pdf.multi_cell(0, 8, f"{title(figures.period, timezone)} — {commune_name}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=9)
    pdf.multi_cell(0, 5, f"Số liệu tính đến {cutoff}.", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    widths = (50, 22, 28, 22, 28, 26)
    for label, width in zip(header, widths, strict=True):
        pdf.cell(width, 7, label, border=1)
    pdf.ln()
    for row in rows:
        for value, width in zip(row, widths, strict=True):
            shown = f"{value:.1f}".replace(".", ",") if isinstance(value, float) else str(value)
            pdf.cell(width, 6, shown[:30], border=1)
        pdf.ln()
    pdf.ln(3)
    for note in notes:
        pdf.multi_cell(0, 5, note, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def font_path() -> Path:
    """A Unicode TTF that is always installed with us: matplotlib's DejaVu Sans."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
