"""incident_data content: the specification's flat shape and the nested shape.

Flat:   {"temperature": 85, "pressure": 120, "production_rate": 450, "timestamp": "…"}
Nested: {"machine_id": "CNC-07", "readings": {"temperature": 85.2}, "units": {…}, "note": "…"}

Content is checked, then stored and returned exactly as sent (readings in the order
they were entered). A reader takes `readings` when present, else every numeric
top-level field.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import ValidationError

from warroom.errors import ValidationFailed
from warroom.models import MAX_READINGS, READING_NAME, IncidentMetadata

METADATA_FIELDS = frozenset(IncidentMetadata.model_fields)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_reading_name(name: str) -> str:
    if not isinstance(name, str) or not READING_NAME.match(name):
        raise ValidationFailed(
            f"reading name '{name}' must be letters (any language), digits and _, "
            "starting with a letter, at most 63 characters"
        )
    return name


def _check_readings(readings: Any, where: str) -> None:
    if not isinstance(readings, dict) or not readings:
        raise ValidationFailed(f"malformed incident data: {where} needs at least one reading")
    if len(readings) > MAX_READINGS:
        raise ValidationFailed(f"malformed incident data: at most {MAX_READINGS} readings")
    for name, value in readings.items():
        check_reading_name(name)
        if not _is_number(value) or not math.isfinite(value):
            raise ValidationFailed(
                f"malformed incident data: reading '{name}' must be a finite number"
            )


def check_incident_data(content: Any) -> dict[str, Any]:
    """VALIDATION naming the field for anything malformed; the content as sent otherwise."""
    if not isinstance(content, dict):
        raise ValidationFailed("incident_data content must be a JSON object of readings")
    metadata = {k: v for k, v in content.items() if k in METADATA_FIELDS}
    try:
        IncidentMetadata.model_validate(metadata)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "content"
        raise ValidationFailed(f"malformed incident data: {where}: {err['msg']}") from exc
    if "readings" in content:
        unknown = sorted(set(content) - METADATA_FIELDS - {"readings"})
        if unknown:
            raise ValidationFailed(
                f"malformed incident data: unknown field '{unknown[0]}' beside readings"
            )
        _check_readings(content["readings"], "readings")
        names = set(content["readings"])
    else:
        readings = {k: v for k, v in content.items() if k not in METADATA_FIELDS}
        _check_readings(readings, "content")
        names = set(readings)
    for name in content.get("units") or {}:
        if name not in names:
            raise ValidationFailed(f"malformed incident data: unit for unknown reading '{name}'")
    return content


def readings_of(content: Any) -> dict[str, Any]:
    """The readings of stored content, in either shape, in the order they were sent."""
    if not isinstance(content, dict):
        return {}
    if isinstance(content.get("readings"), dict):
        return dict(content["readings"])
    return {k: v for k, v in content.items() if k not in METADATA_FIELDS and _is_number(v)}
