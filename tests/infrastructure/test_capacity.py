"""docs/capacity.md and the sweep's row of docs/deploy.md are computed, not typed: the
tables there must be exactly what infra/capacity.py makes of its constants."""

from __future__ import annotations

import re

import pytest

from infra import capacity
from infra.constants import REPO_ROOT

pytestmark = pytest.mark.infrastructure

CAPACITY_DOC = REPO_ROOT / "docs" / "capacity.md"
DEPLOY_DOC = REPO_ROOT / "docs" / "deploy.md"


def _block(text: str, name: str) -> str:
    match = re.search(rf"<!-- table:{name} -->\n(.*?)\n<!-- /table:{name} -->", text, re.S)
    assert match, f"docs/capacity.md has no table {name!r}"
    return match.group(1)


@pytest.mark.parametrize("name", ["per_incident", "limits", "incident_hour", "sweep"])
def test_each_table_in_the_capacity_doc_is_recomputed_from_the_constants(name: str) -> None:
    # Given the tables the model computes from its constants
    expected = capacity.tables()[name]
    # When reading the same table in docs/capacity.md
    written = _block(CAPACITY_DOC.read_text(), name)
    # Then they are identical (re-run `python -m infra.capacity` after changing a number)
    assert written == expected


def test_the_first_limit_to_bind_is_the_smallest() -> None:
    # Given the limits of prod for a busy incident
    rows = capacity.bounds(capacity.stage_config("prod"), capacity.Incident())
    # Then the table names the smallest as binding first, and the request quota counts
    # the posts: a room of n costs n + 1 posts per message
    first = min(rows, key=lambda b: b.incidents)
    assert f"| **first to bind** | {first.limit} |" in capacity.tables()["limits"]
    assert capacity.Incident(people=30, messages_per_s=1).posts_per_s == 31


def test_the_prod_cost_table_counts_the_sweep() -> None:
    # Given the sweep's monthly cost now and as it was when it polled for 55 s a minute
    now = capacity.sweep_month_usd()
    before = capacity.sweep_month_usd(capacity.POLLING_SWEEP_RUN_S)
    # Then the polling sweep was the ≈ $16 a month the prod table left out
    assert 15 < before < 17
    # And the prod table of docs/deploy.md has a row for the sweep with today's figure
    prod = DEPLOY_DOC.read_text().split("### prod:", 1)[1].split("\n\n", 2)[1]
    (row,) = [line for line in prod.splitlines() if "the sweep every minute" in line]
    assert row.endswith(f"| ≈ ${now:.2f} |")
    assert f"≈ ${before:.2f}" in row
