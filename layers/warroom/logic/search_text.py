"""Search query parsing and highlighting for English and CJK text.

The index (migration 0001) stores English words stemmed by the `english` configuration
and CJK runs as single characters and overlapping bigrams. A query is split the same
way: its non-CJK part goes to `websearch_to_tsquery('english', …)` in SQL, and each CJK
run becomes an AND of its bigrams (or the single character), as a tsquery literal.

Highlights come back as plain text with each match between HIGHLIGHT_START (U+E000) and
HIGHLIGHT_END (U+E001), private-use characters that are stripped from the indexed text
first, so a client can split on them and escape everything else.
"""

from __future__ import annotations

import re

from warroom.errors import ValidationFailed

HIGHLIGHT_START = "\ue000"
HIGHLIGHT_END = "\ue001"
MAX_QUERY_CHARS = 200
SNIPPET_CHARS = 240

_CJK_CLASS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
CJK_RUN = re.compile(f"[{_CJK_CLASS}]+")


def cjk_grams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def parse_query(query: str) -> tuple[str | None, str | None, list[str]]:
    """Return (english part, CJK tsquery literal, CJK runs)."""
    query = query.strip()
    if not query:
        raise ValidationFailed("the search query is empty")
    if len(query) > MAX_QUERY_CHARS:
        raise ValidationFailed(f"the search query is longer than {MAX_QUERY_CHARS} characters")
    runs = CJK_RUN.findall(query)
    english = CJK_RUN.sub(" ", query).strip() or None
    cjk = None
    if runs:
        lexemes = sorted({gram for run in runs for gram in cjk_grams(run)})
        # CJK runs hold no quote or backslash, so quoting them as lexemes is exact.
        cjk = " & ".join(f"'{lexeme}'" for lexeme in lexemes)
    if english is not None and not re.search(r"\w", english):
        english = None
    if english is None and cjk is None:
        raise ValidationFailed("the search query has no words to look for")
    return english, cjk, runs


def highlight(text: str, cjk_runs: list[str]) -> str:
    """Mark CJK matches (English ones are already marked by ts_headline) and cut a
    snippet around the first match."""
    spans: list[tuple[int, int]] = []
    for run in cjk_runs:
        needles = [run] if run in text else cjk_grams(run)
        for needle in needles:
            for match in re.finditer(re.escape(needle), text):
                spans.append((match.start(), match.end()))
    for start, end in reversed(_merge(spans)):
        text = text[:start] + HIGHLIGHT_START + text[start:end] + HIGHLIGHT_END + text[end:]
    return snippet(text)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """At most about `limit` visible characters around the first match, never cutting a
    marked span in half."""
    visible = text.replace(HIGHLIGHT_START, "").replace(HIGHLIGHT_END, "")
    if len(visible) <= limit:
        return text
    first = text.find(HIGHLIGHT_START)
    start = max(0, first - limit // 3) if first >= 0 else 0
    end = start
    shown = 0
    inside = False
    while end < len(text) and (shown < limit or inside):
        ch = text[end]
        if ch == HIGHLIGHT_START:
            inside = True
        elif ch == HIGHLIGHT_END:
            inside = False
        else:
            shown += 1
        end += 1
    # Never start inside a marked span.
    opened = text.rfind(HIGHLIGHT_START, 0, start)
    closed = text.rfind(HIGHLIGHT_END, 0, start)
    if opened > closed:
        start = opened
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return prefix + text[start:end] + suffix
