"""What a cold start imports: heavy modules stay out of a handler's import unless used.
(How long the imports take is printed by `make bench`, not asserted here.)"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from warroom.observability import tracing_enabled

pytestmark = pytest.mark.unit

HANDLERS = [
    "functions.message.handler",
    "functions.connect.handler",
    "functions.connect.authorizer",
    "functions.history.handler",
    "functions.user_sync.handler",
    "functions.sweep.handler",
]
# Loaded on first use only: the X-Ray SDK when tracing, boto3 for S3 or the boto3
# transport, PyJWT (and cryptography) when a token is verified, psycopg_pool where a
# pool is built (never in Lambda, which keeps one connection).
NEVER_AT_IMPORT = [
    "aws_xray_sdk",
    "aws_lambda_powertools.utilities.parser",
    "boto3",
    "s3transfer",
    "jwt",
    "cryptography",
    "psycopg_pool",
]


def _imported_after(code: str, env: dict[str, str]) -> set[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("module", HANDLERS)
def test_a_handler_import_loads_none_of_the_heavy_modules_it_may_not_need(module):
    # Given a Lambda environment with tracing on (the SDK would be needed only once an
    # invocation is traced)
    env = {"PATH": "", "LAMBDA_TASK_ROOT": "/var/task", "AWS_LAMBDA_FUNCTION_NAME": "f"}
    # When the handler module is imported, as a cold start does
    loaded = _imported_after(f"import {module}", env)
    # Then none of the modules needed only on some paths was imported
    assert not [m for m in loaded for heavy in NEVER_AT_IMPORT if m.startswith(heavy)]


def test_with_tracing_off_an_invocation_does_not_load_the_xray_sdk():
    code = """
from warroom.observability import capture_lambda_handler
handler = capture_lambda_handler(lambda event, context: {"ok": event})
assert handler(1, None) == {"ok": 1}
"""
    env = {"PATH": "", "LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}
    assert not any(m.startswith("aws_xray_sdk") for m in _imported_after(code, env))


@pytest.mark.parametrize(
    ("env", "enabled"),
    [
        ({"LAMBDA_TASK_ROOT": "/var/task"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "1"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "false"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"}, False),
        ({}, False),  # outside Lambda there is no X-Ray daemon to send to
    ],
)
def test_tracing_is_on_by_powertools_rules(monkeypatch, env, enabled):
    for name in ("LAMBDA_TASK_ROOT", "POWERTOOLS_TRACE_DISABLED", "AWS_SAM_LOCAL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert tracing_enabled() is enabled
