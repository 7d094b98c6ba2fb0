"""Is a reaction one real emoji? One grapheme that the Unicode emoji data names: ZWJ
sequences (👩‍🔧), skin tones (👍🏽), keycaps (1️⃣) and flags (🇹🇼) included; words,
letters, symbols and two emoji side by side are not.

The `emoji` package holds that data (pure Python, kept current with Unicode); it is
imported on the first reaction, never on a cold start of the message path."""

from __future__ import annotations

import unicodedata
from typing import Any

from warroom.errors import ValidationFailed

MAX_EMOJI_CHARS = 32


def check_emoji(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed("emoji must be one emoji")
    text = unicodedata.normalize("NFC", value.strip())
    if len(text) > MAX_EMOJI_CHARS:
        raise ValidationFailed("emoji must be one emoji")
    import emoji  # on the reaction path only

    if not emoji.is_emoji(text):
        raise ValidationFailed("a reaction must be exactly one emoji")
    return text
