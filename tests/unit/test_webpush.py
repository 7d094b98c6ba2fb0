"""Web Push pieces that need no network (issue 19): the notification's text, and a
VAPID key that is not one."""

from __future__ import annotations

import uuid

import pytest

from warroom import webpush
from warroom.errors import ConfigurationError
from warroom.logic.notices import Notice
from warroom.settings import push_settings


def test_a_long_message_is_cut_to_fit_a_notification() -> None:
    # Given a mention of 500 characters
    notice = Notice("mention", ("a@x.example",), uuid.uuid4(), "Bob", "漏油" * 250)
    # When it becomes a push payload
    body = webpush.payload(notice, "Press 4 hydraulic leak")
    # Then the text is cut to 140 characters, ending in an ellipsis, and names the room
    assert len(body["text"]) == webpush.MAX_TEXT and body["text"].endswith("…")
    assert body["title"] == "Press 4 hydraulic leak"
    assert body["url"] == f"/#/rooms/{notice.room_id}"


def test_a_short_message_is_kept_whole() -> None:
    notice = Notice("page", ("a@x.example",), uuid.uuid4(), "Line 3 PLC", "Oven over temperature")
    assert webpush.payload(notice, "Oven")["text"] == "Oven over temperature"


def test_a_placeholder_secret_is_a_clear_configuration_error(tmp_path, monkeypatch) -> None:
    # Given a key file that holds no key (the cloud secret's placeholder)
    placeholder = tmp_path / "vapid.pem"
    placeholder.write_text("not a key")
    monkeypatch.setenv("VAPID_PRIVATE_KEY_FILE", str(placeholder))
    push_settings.cache_clear()
    webpush.set_vapid(None)
    try:
        # When the public key is asked for
        with pytest.raises(ConfigurationError, match="no P-256 private key"):
            webpush.vapid_public_key()
    finally:
        push_settings.cache_clear()
        webpush.set_vapid(None)
