"""Query parsing and highlight snippets, without a database."""

from __future__ import annotations

import pytest

from warroom.errors import ValidationFailed
from warroom.logic.search_text import HIGHLIGHT_END as E
from warroom.logic.search_text import HIGHLIGHT_START as S
from warroom.logic.search_text import cjk_grams, highlight, parse_query, snippet

pytestmark = pytest.mark.unit


def test_query_is_split_into_english_and_cjk_bigrams():
    english, cjk, runs = parse_query("spindle 主軸溫度")
    assert english == "spindle"
    assert runs == ["主軸溫度"]
    assert set(cjk.replace("'", "").split(" & ")) == {"主軸", "軸溫", "溫度"}


def test_single_character_is_its_own_gram():
    assert cjk_grams("溫") == ["溫"]
    assert cjk_grams("溫度計") == ["溫度", "度計"]


def test_cjk_only_query_has_no_english_part():
    english, cjk, _ = parse_query("溫度")
    assert english is None and cjk == "'溫度'"


@pytest.mark.parametrize("query", ["", "  ", "?!", "a" * 201])
def test_queries_without_words_are_refused(query):
    with pytest.raises(ValidationFailed):
        parse_query(query)


def test_cjk_matches_are_marked_and_overlaps_merged():
    assert highlight("設備溫度上升", ["溫度", "度上"]) == f"設備{S}溫度上{E}升"


def test_cjk_run_not_found_whole_marks_its_bigrams():
    assert highlight("溫度很高，度上升", ["溫度上"]) == f"{S}溫度{E}很高，{S}度上{E}升"


def test_snippet_keeps_short_text_whole_and_cuts_long_text_around_the_first_match():
    assert snippet(f"short {S}hit{E}") == f"short {S}hit{E}"
    text = "a" * 500 + f"{S}hit{E}" + "b" * 500
    cut = snippet(text, limit=60)
    assert cut.startswith("…") and cut.endswith("…") and f"{S}hit{E}" in cut


def test_snippet_never_cuts_inside_a_highlight():
    text = "x" * 100 + S + "y" * 50 + E + "z" * 100
    cut = snippet(text, limit=40)
    assert cut.count(S) == cut.count(E)
