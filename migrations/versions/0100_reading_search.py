"""Readings are searched and shown as text, in both languages.

Revision ID: 0100_reading_search
Revises: 0090_security
Create Date: 2026-12-06

Design notes
- The search document of an incident_data message was built over `content_json::text`:
  JSON punctuation, and the note's Chinese as `\\u…` escapes (json keeps the text as
  sent), so 溫度 and the note's own words found nothing, and a hit showed raw JSON.
- `warroom_reading_text(json)` renders a reading as one line of text,
  `CNC-12 · L3 · temperature 溫度 87 °C — 主軸溫度持續上升…`: machine, line, each reading
  name with the other language's label for a known name (temperature ⇄ 溫度, …), its
  value and unit, then the note. The search document indexes that line, and search
  returns it as the hit's text (layers/warroom/dal/messages.py), so the index and what a
  reader sees are one function.
- The known names mirror web/src/i18n (reading.*); a new known name is added to both.
"""

from alembic import op

revision = "0100_reading_search"
down_revision = "0090_security"
branch_labels = None
depends_on = None

LABELS = {
    "temperature": "溫度",
    "pressure": "壓力",
    "production_rate": "產量",
    "humidity": "濕度",
    "spindle_rpm": "主軸轉速",
}

_CASE = " ".join(f"WHEN '{en}' THEN '{zh}' WHEN '{zh}' THEN '{en}'" for en, zh in LABELS.items())

UPGRADE = f"""
CREATE FUNCTION warroom_reading_label(name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $fn$
    SELECT CASE name {_CASE} ELSE NULL END
$fn$;

CREATE FUNCTION warroom_reading_text(doc json) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $fn$
    SELECT concat_ws(' — ',
        concat_ws(' · ',
            nullif(doc ->> 'machine_id', ''),
            nullif(doc ->> 'line', ''),
            (SELECT string_agg(
                        concat_ws(' ', r.key, warroom_reading_label(r.key),
                                  r.value::text, doc -> 'units' ->> r.key),
                        ' · ' ORDER BY r.ord)
             FROM json_each(CASE WHEN json_typeof(doc -> 'readings') = 'object'
                                 THEN doc -> 'readings' ELSE doc END)
                  WITH ORDINALITY AS r(key, value, ord)
             WHERE json_typeof(r.value) = 'number'
               AND r.key NOT IN ('machine_id', 'line', 'units', 'note', 'timestamp'))),
        nullif(doc ->> 'note', ''))
$fn$;

CREATE FUNCTION warroom_message_text(message_type text, content text, content_json json)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT CASE WHEN message_type = 'incident_data' AND content_json IS NOT NULL
                THEN warroom_reading_text(content_json)
                ELSE coalesce(content, content_json::text, '') END
$fn$;

DROP INDEX messages_search;
ALTER TABLE messages DROP COLUMN search_document;
ALTER TABLE messages ADD COLUMN search_document tsvector GENERATED ALWAYS AS (
    warroom_search_document(warroom_message_text(message_type, content, content_json))
) STORED;
CREATE INDEX messages_search ON messages USING gin (search_document);
"""

DOWNGRADE = r"""
DROP INDEX messages_search;
ALTER TABLE messages DROP COLUMN search_document;
ALTER TABLE messages ADD COLUMN search_document tsvector GENERATED ALWAYS AS (
    warroom_search_document(coalesce(content, '') || ' ' || coalesce(content_json::text, ''))
) STORED;
CREATE INDEX messages_search ON messages USING gin (search_document);
DROP FUNCTION warroom_message_text(text, text, json);
DROP FUNCTION warroom_reading_text(json);
DROP FUNCTION warroom_reading_label(text);
"""


def upgrade() -> None:
    op.get_bind().exec_driver_sql(UPGRADE)


def downgrade() -> None:
    op.get_bind().exec_driver_sql(DOWNGRADE)
