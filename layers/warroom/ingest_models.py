"""Models of machine readings (issue 18): ingest sources, points, alarm rules."""

from __future__ import annotations

import re
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from warroom.models import Severity, UtcDatetime

MAX_POINTS = 1000
MAX_BODY_BYTES = 1024 * 1024

# A tag is a plain name or a path of names (`oven.zone1.temp`, `Line1/Press/Pressure`).
TAG_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(?:[./:][A-Za-z0-9_]+)*$")
MACHINE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")
# UN/CEFACT Recommendation 20 common codes are 2-3 upper-case letters or digits (CEL, BAR,
# KPA, H87); beside them, the symbols people write on a line.
UNECE_CODE = re.compile(r"^[A-Z0-9]{2,3}$")
UNIT_SYMBOLS = frozenset(
    [
        "°C",
        "°F",
        "K",
        "bar",
        "mbar",
        "Pa",
        "kPa",
        "MPa",
        "psi",
        "pcs",
        "pcs/h",
        "pcs/min",
        "rpm",
        "%",
        "mm",
        "µm",
        "m",
        "mm/s",
        "m/s",
        "A",
        "mA",
        "V",
        "kV",
        "W",
        "kW",
        "kWh",
        "Hz",
        "L",
        "L/min",
        "L/h",
        "m³/h",
        "kg",
        "g",
        "t",
        "N",
        "Nm",
        "s",
        "ms",
        "min",
        "h",
        "ppm",
        "lux",
        "dB",
    ]
)

UNIT = "^(?:[A-Z0-9]{2,3}|" + "|".join(re.escape(u) for u in sorted(UNIT_SYMBOLS)) + ")$"

Quality = Literal["good", "uncertain", "bad"]


class SourceDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)


class IngestSource(BaseModel):
    source_id: UUID
    line_id: UUID
    name: str
    created_by: str
    created_at: UtcDatetime
    revoked_at: UtcDatetime | None = None


class CreatedSource(IngestSource):
    secret: str  # shown once


class ReadingPoint(BaseModel):
    """One machine reading as posted. Strict: a string value is refused, not coerced."""

    model_config = ConfigDict(extra="forbid")

    # Patterns and finiteness are checked in pydantic-core (no Python call per point).
    machine_id: Annotated[
        str, Field(min_length=1, max_length=100, strict=True, pattern=MACHINE_ID.pattern)
    ]
    tag: Annotated[str, Field(min_length=1, max_length=100, strict=True, pattern=TAG_NAME.pattern)]
    value: Annotated[float, Field(strict=True, allow_inf_nan=False)]
    # a UN/CEFACT code or one of UNIT_SYMBOLS
    unit: Annotated[str, Field(min_length=1, max_length=16, strict=True, pattern=UNIT)] | None = (
        None
    )
    quality: Quality = "good"
    ts: AwareDatetime
    historical: Annotated[bool, Field(strict=True)] = False


class Reading(BaseModel):
    machine_id: str
    tag: str
    ts: UtcDatetime
    value: float
    unit: str | None = None
    quality: Quality = "good"
    origin: Literal["machine", "typed"] = "machine"
    # when downsampled: the bucket's extremes and size
    min: float | None = None
    max: float | None = None
    count: int | None = None


class AlarmRuleDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tag: str = Field(min_length=1, max_length=100, pattern=TAG_NAME.pattern)
    above: float | None = Field(None, allow_inf_nan=False)
    below: float | None = Field(None, allow_inf_nan=False)
    for_seconds: int = Field(ge=0, le=86400)
    severity: Severity
    title: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _a_threshold(self) -> AlarmRuleDraft:
        if self.above is None and self.below is None:
            raise ValueError("a rule needs `above`, `below` or both")
        if self.above is not None and self.below is not None and self.below >= self.above:
            # out of range is over `above` or under `below`: `below` sits under `above`
            raise ValueError("`below` must be less than `above`")
        return self


class AlarmRulePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    above: float | None = Field(None, allow_inf_nan=False)
    below: float | None = Field(None, allow_inf_nan=False)
    for_seconds: int | None = Field(None, ge=0, le=86400)
    severity: Severity | None = None
    title: str | None = Field(None, min_length=1, max_length=200)


class AlarmRule(BaseModel):
    rule_id: UUID
    line_id: UUID
    tag: str
    above: float | None
    below: float | None
    for_seconds: int
    severity: Severity
    title: str
    created_by: str
    created_at: UtcDatetime
    firing: bool = False
