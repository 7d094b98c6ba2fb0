"""The report's two catalogues, and how a reader's language is chosen."""

from __future__ import annotations

import re

import pytest

from warroom.logic.report_text import CATALOGUES, EN, ZH_TW, Words, pick_language

CJK = re.compile(r"[\u4e00-\u9fff]")


def _placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"\{(\w+)\}", text))


def test_both_catalogues_hold_the_same_keys_and_placeholders():
    # Given the English and the Traditional Chinese catalogues
    # Then each key is in both, with the same placeholders, and none is empty
    assert set(EN) == set(ZH_TW)
    for key, text in EN.items():
        assert _placeholders(ZH_TW[key]) == _placeholders(text), key
        assert text.strip() and ZH_TW[key].strip(), key


def test_the_chinese_catalogue_is_chinese_where_words_are_read():
    # Headings, labels, roles, statuses and system lines are in Chinese, not left in English
    for key in ("title", "timeline", "readings", "note", "line", "role.OWNER", "status.active"):
        assert CJK.search(ZH_TW[key]), key
    assert "EDITOR" not in "".join(ZH_TW.values())


@pytest.mark.parametrize(
    ("requested", "accept", "expected"),
    [
        ("zh-TW", None, "zh-TW"),
        ("en", "zh-TW,zh;q=0.9", "en"),
        (None, "zh-TW,zh;q=0.9,en;q=0.8", "zh-TW"),
        (None, "fr-FR, en;q=0.5, zh;q=0.7", "zh-TW"),
        (None, "fr-FR", "en"),
        ("klingon", None, "en"),
        (None, None, "en"),
    ],
)
def test_language_from_the_query_then_the_browser(requested, accept, expected):
    # Given ?lang= and an Accept-Language header, When a language is picked
    # Then ?lang= wins when it names a language we have, then the browser's preference
    assert pick_language(requested, accept) == expected


def test_words_fill_placeholders_and_keep_unknown_values():
    words = Words("zh-TW")
    assert words("system.member_added", actor="Alice", member="Bob", role="編輯者") == (
        "Alice 將 Bob 加入為編輯者"
    )
    assert words.optional("reading.temperature", "temperature") == "溫度"
    assert words.optional("reading.coolant_flow", "coolant flow") == "coolant flow"
    assert Words("xx").language == "en" and set(CATALOGUES) == {"en", "zh-TW"}
