"""Small conversions the constructs share."""

from __future__ import annotations

from aws_cdk import aws_logs as logs

from infra.constants import StageConfig


def log_retention(config: StageConfig) -> logs.RetentionDays:
    """The stage's log retention (constants name a RetentionDays member, e.g. ONE_MONTH)."""
    return logs.RetentionDays[config.log_retention]
