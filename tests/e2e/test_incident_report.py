"""The 8D report (issue 17) against the running local stack: Markdown in both languages,
today's timeline report unchanged, and the PDF: its text extracted (Chinese and English
found, by PDFium), a page rendered to pixels (the readings chart and the pinned photo drawn)."""

from __future__ import annotations

import io
import urllib.error
import urllib.request
import uuid
from datetime import date, timedelta
from typing import Any

import pypdfium2
import pytest
from PIL import Image

from tests.e2e.test_security_files import _upload

pytestmark = pytest.mark.e2e

CHART_RED = (200, 40, 40)  # the first reading's colour in warroom.report_pdf
PHOTO_GREEN = (0, 160, 0)


@pytest.fixture
def closed_incident(local_stack, person) -> dict[str, Any]:
    """A closed incident on a line: readings, a pinned photo, a follow-up, notes."""
    owner, editor = person("owner"), person("editor")
    line = local_stack.request(
        "POST",
        "/api/lines",
        owner.token,
        {"name": f"SMT-{uuid.uuid4().hex[:6]}", "label_zh": "表面貼裝線", "label_en": "SMT line"},
    ).body
    room = local_stack.request(
        "POST",
        "/api/rooms",
        owner.token,
        {
            "title": "Reflow oven over temperature",
            "line_id": line["line_id"],
            "machine": "REFLOW-2",
            "stop_reason": "mechanical",
            "lots": ["LOT-881"],
        },
    ).body
    room_id = room["room_id"]
    local_stack.request(
        "POST",
        f"/api/rooms/{room_id}/members",
        owner.token,
        {"user_id": editor.user_id, "role": "EDITOR"},
    )

    def send(body: dict[str, Any]) -> str:
        sent = local_stack.request(
            "POST",
            f"/api/rooms/{room_id}/messages",
            editor.token,
            {"client_msg_id": str(uuid.uuid4()), **body},
        )
        assert sent.status == 201, sent.text
        return str(sent.body["message_id"])

    for value in (240.0, 262.5, 251.0):
        send(
            {
                "message_type": "incident_data",
                "content": {
                    "machine_id": "REFLOW-2",
                    "readings": {"temperature": value},
                    "units": {"temperature": "°C"},
                },
            }
        )
    photo = io.BytesIO()
    Image.new("RGB", (240, 120), PHOTO_GREEN).save(photo, format="PNG")
    file_id = _upload(local_stack, editor, room_id, "zone5.png", "image/png", photo.getvalue())
    photo_id = send({"message_type": "image_ref", "file_id": file_id, "content": "熱電偶燒毀"})
    pinned = local_stack.request(
        "POST", f"/api/rooms/{room_id}/pins", editor.token, {"message_id": photo_id}
    )
    assert pinned.status == 201, pinned.text
    follow = local_stack.request(
        "POST",
        f"/api/rooms/{room_id}/follow-ups",
        owner.token,
        {
            "title": "Add thermocouple to PM checklist",
            "owner_id": editor.user_id,
            "due": (date.today() + timedelta(days=7)).isoformat(),
        },
    )
    assert follow.status == 201, follow.text
    for state, note in (
        ("acknowledged", None),
        ("contained", "LOT-881 隔離"),
        ("resolved", "thermocouple replaced"),
        ("closed", "8D filed"),
    ):
        body = {"state": state, **({"note": note} if note else {})}
        moved = local_stack.request("POST", f"/api/rooms/{room_id}/state", editor.token, body)
        assert moved.status == 200, moved.text
    return {"room_id": room_id, "owner": owner, "editor": editor, "line": line}


def _download(local_stack, path: str, token: str) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(local_stack.base_url + path)
    req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _pixels_near(image: Image.Image, colour: tuple[int, int, int]) -> int:
    raw = image.tobytes()
    return sum(
        1 for i in range(0, len(raw), 3) if all(abs(raw[i + k] - colour[k]) <= 12 for k in range(3))
    )


def _text(pdf: bytes) -> str:
    """The PDF's text as PDFium extracts it, without white space."""
    document = pypdfium2.PdfDocument(pdf)
    pages = [document[i].get_textpage().get_text_range() for i in range(len(document))]
    return "".join("".join(page.split()) for page in pages)


def test_the_8d_report_has_its_headings_in_the_readers_language(local_stack, closed_incident):
    room_id, owner = closed_incident["room_id"], closed_incident["owner"]
    # When the 8D report is read in English
    english = local_stack.request(
        "GET", f"/api/rooms/{room_id}/report?format=8d&lang=en", owner.token
    )
    # Then it has every discipline, the line, machine, stop reason and readings summarised
    assert english.status == 200, english.text
    assert english.headers["Content-Type"].startswith("text/markdown")
    for heading in (
        "## D1 Team",
        "## D2 Problem description",
        "## D3 Containment",
        "## D4 Root cause",
        "## D5/D6 Corrective actions",
        "## D7 Prevention",
        "## D8 Closure",
    ):
        assert heading in english.text
    assert "SMT line" in english.text and "REFLOW-2" in english.text
    assert "Mechanical failure" in english.text
    assert "| temperature °C | 3 | 240 | 262.5 | 251 |" in english.text
    assert "LOT-881" in english.text and "zone5.png" in english.text
    assert "Add thermocouple to PM checklist" in english.text
    assert "(commander)" in english.text
    # When it is read in Traditional Chinese, the headings and labels are Chinese
    chinese = local_stack.request(
        "GET", f"/api/rooms/{room_id}/report?format=8d&lang=zh-TW", owner.token
    )
    assert chinese.status == 200, chinese.text
    for heading in ("## D1 團隊", "## D4 根本原因", "## D8 結案"):
        assert heading in chinese.text
    assert "表面貼裝線" in chinese.text and "機械故障" in chinese.text
    assert "D1 Team" not in chinese.text
    # And the timeline format is today's report
    today = local_stack.request("GET", f"/api/rooms/{room_id}/report", owner.token)
    assert today.text.startswith("# Incident report: Reflow oven over temperature")
    # And a language it does not have falls back to English, as the timeline report does
    other = local_stack.request(
        "GET", f"/api/rooms/{room_id}/report?format=8d&lang=fr", owner.token
    )
    assert other.status == 200 and "## D1 Team" in other.text


def test_the_pdf_embeds_chinese_and_english_text_the_chart_and_the_photo(
    local_stack, closed_incident
):
    room_id, owner = closed_incident["room_id"], closed_incident["owner"]
    # When the PDF is downloaded in Traditional Chinese
    status, headers, body = _download(
        local_stack, f"/api/rooms/{room_id}/report.pdf?lang=zh-TW", owner.token
    )
    # Then it is a PDF, offered as a download
    assert status == 200, body[:300]
    assert headers["Content-Type"] == "application/pdf" and body.startswith(b"%PDF")
    assert "attachment" in headers["Content-Disposition"]
    # and its text holds the Chinese headings and labels and the English title
    text = _text(body)
    for expected in (
        "8D報告",
        "D1團隊",
        "D4根本原因",
        "機械故障",
        "表面貼裝線",
        "熱電偶燒毀",
        "Reflowovenovertemperature",
        "REFLOW-2",
    ):
        assert expected in text, expected
    # and a page drawn to pixels shows the readings chart and the pinned photo
    document = pypdfium2.PdfDocument(body)
    colours: dict[tuple[int, int, int], int] = {}
    for index in range(len(document)):
        image = document[index].render(scale=1).to_pil().convert("RGB")
        for colour in (CHART_RED, PHOTO_GREEN):
            colours[colour] = colours.get(colour, 0) + _pixels_near(image, colour)
    assert colours[CHART_RED] > 100  # the polyline and its points
    assert colours[PHOTO_GREEN] > 1000  # the photo, 90 mm wide
    # When it is downloaded in English, the headings are English
    _, _, english = _download(local_stack, f"/api/rooms/{room_id}/report.pdf?lang=en", owner.token)
    english_text = _text(english)
    assert "D1Team" in english_text and "Mechanicalfailure" in english_text
    assert "D1團隊" not in english_text


def test_someone_outside_the_room_gets_no_report(local_stack, closed_incident, person):
    stranger = person("stranger")
    room_id = closed_incident["room_id"]
    # When someone outside the room asks for either report
    status, _, _ = _download(local_stack, f"/api/rooms/{room_id}/report.pdf", stranger.token)
    markdown = local_stack.request("GET", f"/api/rooms/{room_id}/report?format=8d", stranger.token)
    # Then both are refused
    assert status == 403 and markdown.status == 403


def test_the_pdf_takes_the_browsers_language_when_none_is_asked_for(local_stack, closed_incident):
    room_id, owner = closed_incident["room_id"], closed_incident["owner"]
    # When the PDF is asked for without ?lang= by a browser that reads Chinese first
    req = urllib.request.Request(f"{local_stack.base_url}/api/rooms/{room_id}/report.pdf")
    req.add_header("Authorization", f"Bearer {owner.token}")
    req.add_header("Accept-Language", "zh-TW,zh;q=0.9,en;q=0.8")
    with urllib.request.urlopen(req, timeout=60) as answer:
        body = answer.read()
        disposition = answer.headers["Content-Disposition"]
    # Then it is the Traditional Chinese report
    assert disposition.endswith('-zh-TW.pdf"')
    assert "D1團隊" in _text(body)


def test_user_text_in_the_8d_report_stays_text(local_stack, person):
    # Given an incident whose title, lots and a pinned message carry markup
    owner = person("owner")
    room = local_stack.request(
        "POST",
        "/api/rooms",
        owner.token,
        {"title": "<img src=x onerror=alert(1)> | oven", "lots": ["LOT|1"]},
    ).body
    room_id = room["room_id"]
    sent = local_stack.request(
        "POST",
        f"/api/rooms/{room_id}/messages",
        owner.token,
        {"client_msg_id": str(uuid.uuid4()), "content": "# not a heading <script>x</script>"},
    )
    local_stack.request(
        "POST", f"/api/rooms/{room_id}/pins", owner.token, {"message_id": sent.body["message_id"]}
    )
    # When the 8D report is read
    report = local_stack.request(
        "GET", f"/api/rooms/{room_id}/report?format=8d&lang=en", owner.token
    ).text
    # Then no tag survives as markup and the pinned text cannot open a heading
    assert "<img" not in report and "<script>" not in report
    assert "&lt;img src=x onerror=alert(1)&gt;" in report
    assert "\n# not a heading" not in report
