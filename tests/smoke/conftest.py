"""The smoke suite's target: the deployed stage named by WARROOM_SMOKE_STACK, else the
local stack (the e2e suite's session fixture, so `make test` proves the suite here)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import local_stack  # noqa: F401  (the local target's stack)
from tests.smoke.targets import SMOKE_STACK_ENV, DeployedTarget, LocalTarget, Target


def _target_kind() -> str:
    return "deployed" if os.environ.get(SMOKE_STACK_ENV) else "local"


@pytest.fixture(scope="session", params=[_target_kind()])
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    chosen: Target
    if request.param == "deployed":
        chosen = DeployedTarget(os.environ[SMOKE_STACK_ENV])
    else:
        stack: Any = request.getfixturevalue("local_stack")
        chosen = LocalTarget(stack)
    try:
        yield chosen
    finally:
        chosen.close()
