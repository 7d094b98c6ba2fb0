"""The 8D report as a PDF (fpdf2): the same sections as the Markdown, the readings drawn
as line charts, and pinned photos put in as images.

fpdf2, not reportlab: it is pure Python (its dependencies fontTools and Pillow publish
wheels for Lambda's arm64), it embeds OpenType fonts with CFF outlines (Noto CJK's) and
subsets them per document, so a report carries only the glyphs it uses (a few tens of
KB). reportlab's TrueType embedding does not take CFF-outlined OpenType fonts.

The font is a Traditional Chinese subset of Noto Sans CJK (Latin, punctuation and every
Big5 ideograph), made at build time from Debian's fonts-noto-cjk by
`tools/build_cjk_font.py` and shipped in the layer; nothing is fetched at run time.
Characters outside it print as the font's blank glyph, never as an error.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

from warroom.logic.eightd import (
    TEXT,
    EightD,
    Lang,
    downtime_text,
    entry_text,
    follow_up_text,
    line_label,
    reading_summary,
    state_label,
    stop_reason_label,
)
from warroom.logic.report import GMT8

FONT_PATH = Path(__file__).parent / "fonts" / "NotoSansCJKtc-subset.otf"
# Photos are scaled down to this many pixels on their long side (JPEG), so that a report
# with many pinned photos stays far below Lambda's 6 MB response.
PHOTO_MAX_PIXELS = 1200
MAX_PHOTOS = 12
CHART_COLOURS = [(200, 40, 40), (30, 90, 200), (20, 140, 60), (200, 120, 0), (120, 50, 160)]


def _time(value: datetime | None) -> str:
    return "—" if value is None else value.astimezone(GMT8).strftime("%Y-%m-%d %H:%M")


def _plain(text: str) -> str:
    return text.replace("**", "")


def _photo(data: bytes) -> io.BytesIO | None:
    """The photo as a bounded JPEG; None when Pillow cannot read it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail((PHOTO_MAX_PIXELS, PHOTO_MAX_PIXELS))
            out = io.BytesIO()
            image.convert("RGB").save(out, format="JPEG", quality=80)
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    out.seek(0)
    return out


def render_pdf(report: EightD, lang: Lang, photos: dict[str, bytes] | None = None) -> bytes:
    """`photos` maps a pinned photo's object key to its bytes (read by the caller)."""
    from fpdf import FPDF

    t = TEXT[lang]
    room = report.room
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("cjk", "", str(FONT_PATH))
    pdf.set_title(f"{t['title']}: {room.title}")
    pdf.add_page()

    def heading(text: str, size: int = 14) -> None:
        pdf.ln(2)
        pdf.set_font("cjk", size=size)
        pdf.multi_cell(w=0, h=8, text=text, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=10)

    def line(text: str) -> None:
        pdf.multi_cell(w=0, h=6, text=_plain(text), new_x="LMARGIN", new_y="NEXT")

    heading(f"{t['title']}: {room.title}", 18)
    heading(t["d1"])
    for m in report.members:
        mark = f" ({t['commander']})" if m.user_id == room.commander_id else ""
        line(f"• {m.display_name} ({m.user_id}) — {m.role.value}{mark}")

    heading(t["d2"])
    for label, value in (
        (t["line"], line_label(report, lang)),
        (t["machine"], room.machine or t["none"]),
        (t["stop_reason"], stop_reason_label(report, lang) or t["none"]),
        (t["severity"], room.severity.value),
        (t["state"], state_label(room.state.value, t)),
        (t["declared"], _time(room.created_at)),
        (t["downtime"], downtime_text(report, t)),
    ):
        line(f"{label}: {value}")
    heading(t["readings"], 12)
    if report.readings:
        for key, values in report.readings.items():
            n, low, high, last = reading_summary(values)
            unit = report.units.get(key, "")
            line(
                f"{key} {unit}: {t['count']} {n}, {t['min']} {low:g}, {t['max']} {high:g}, "
                f"{t['last']} {last:g}"
            )
        _chart(pdf, report)
    else:
        line(t["no_readings"])

    heading(t["d3"])
    line(f"{t['lots']}: {', '.join(room.lots) or t['none']}")
    contained = report.milestone("contained")
    if contained is not None:
        line(
            f"{t['contained_at']}: {_time(contained.event_time)}"
            + (f" — {contained.note}" if contained.note else "")
        )
    else:
        line(t["not_contained"])

    heading(t["d4"])
    heading(t["pinned"], 12)
    pins = [e for e in report.timeline if e.kind == "pin"]
    for entry in pins:
        line(f"• {_time(entry.event_time)} {entry_text(report, entry, lang)}")
    if not pins:
        line(t["none"])
    heading(t["photos"], 12)
    for photo in report.photos[:MAX_PHOTOS]:
        line(f"• {_time(photo.event_time)} {photo.filename} {photo.caption}".rstrip())
        image = _photo((photos or {}).get(photo.object_key, b""))
        if image is not None:
            pdf.image(image, w=90)
            pdf.ln(2)
    if not report.photos:
        line(t["none"])
    resolved = report.milestone("resolved")
    if resolved is not None and resolved.note:
        line(f"{t['resolution_note']}: {resolved.note}")

    heading(t["d56"])
    for item in report.follow_ups:
        line(f"• {follow_up_text(report, item, t)}")
    if not report.follow_ups:
        line(t["no_actions"])

    heading(t["d7"])
    done = [f.title for f in report.follow_ups if f.status.value == "done"]
    line(f"{t['done_actions']}: {', '.join(done) or t['none']}")
    closed = report.milestone("closed")
    if closed is not None and closed.note:
        line(f"{t['closing_note']}: {closed.note}")

    heading(t["d8"])
    line(f"{t['closed_at']}: {_time(closed.event_time)}" if closed is not None else t["not_closed"])
    line(f"{t['commander']}: {report.name(room.commander_id)}")
    for label, seconds in (
        (t["tta"], report.metrics.time_to_acknowledge_s),
        (t["ttc"], report.metrics.time_to_contain_s),
        (t["ttr"], report.metrics.time_to_resolve_s),
    ):
        line(f"{label}: " + ("—" if seconds is None else f"{seconds / 60:.1f} {t['minutes']}"))
    heading(t["timeline"], 12)
    for entry in report.timeline:
        line(f"{_time(entry.event_time)}  {entry_text(report, entry, lang)}")
    return bytes(pdf.output())


def _chart(pdf: object, report: EightD) -> None:
    """Each reading as a polyline over time, scaled to its own range, in one framed box."""
    from fpdf import FPDF

    assert isinstance(pdf, FPDF)
    width, height = 170.0, 60.0
    if pdf.get_y() + height + 20 > pdf.h - pdf.b_margin:
        pdf.add_page()
    x0, y0 = pdf.l_margin, pdf.get_y() + 2
    pdf.set_draw_color(120, 120, 120)
    pdf.set_line_width(0.2)
    pdf.rect(x0, y0, width, height)
    times = [at.timestamp() for values in report.readings.values() for at, _ in values]
    t_min, t_max = min(times), max(times)
    span = (t_max - t_min) or 1.0
    for index, (key, values) in enumerate(report.readings.items()):
        colour = CHART_COLOURS[index % len(CHART_COLOURS)]
        numbers = [v for _, v in values]
        low, high = min(numbers), max(numbers)
        rng = (high - low) or 1.0
        points = [
            (
                x0 + 4 + (width - 8) * ((at.timestamp() - t_min) / span),
                y0 + height - 4 - (height - 8) * ((v - low) / rng),
            )
            for at, v in values
        ]
        pdf.set_draw_color(*colour)
        pdf.set_fill_color(*colour)
        pdf.set_line_width(0.8)
        if len(points) > 1:
            pdf.polyline(points)
        for x, y in points:
            pdf.rect(x - 1.2, y - 1.2, 2.4, 2.4, style="F")
        pdf.set_text_color(*colour)
        pdf.set_xy(x0 + 2 + 40 * index, y0 + height + 1)
        pdf.cell(w=40, h=5, text=key)
    # The time span under the box (GMT+8); each reading is scaled to its own range,
    # whose minimum and maximum the summary above gives.
    pdf.set_text_color(68, 80, 92)
    first = datetime.fromtimestamp(t_min).astimezone(GMT8).strftime("%m-%d %H:%M")
    last = datetime.fromtimestamp(t_max).astimezone(GMT8).strftime("%m-%d %H:%M")
    pdf.set_xy(x0 + width - 60, y0 + height + 6)
    pdf.cell(w=60, h=5, text=f"{first} – {last} GMT+8", align="R")
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)
    pdf.set_xy(pdf.l_margin, y0 + height + 13)
