"""Helpers shared by the benchmarks: a throwaway database and latency statistics."""

from __future__ import annotations

import statistics

from local.scratch_db import scratch_database

__all__ = ["percentile", "scratch_database", "summary_ms"]


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(values: list[float]) -> str:
    return (
        f"p50 {percentile(values, 50) * 1000:7.2f} ms  p99 {percentile(values, 99) * 1000:7.2f} ms"
        f"  mean {statistics.fmean(values) * 1000:7.2f} ms"
    )
