"""Each function's role grants exactly the AWS calls its code can make, on the specific
resource, and nothing beyond.

The calls come from the code: starting at each handler, every module it can import (lazy
imports too) is followed through `functions/` and `layers/`; each module that makes an AWS
call is listed in CALL_SITES with the call and the IAM action it needs, and a test checks
that no module makes an AWS call (a boto3 client, a SigV4-signed request) without being
listed there, and that each listed call is really in that module's source.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from infra.constants import FUNCTIONS_DIR, REPO_ROOT, FunctionSpec
from tests.infrastructure.conftest import ALL_FUNCTIONS, Synthesized

pytestmark = pytest.mark.infrastructure

LAYERS_DIR = REPO_ROOT / "layers"

# module → [(the call as it appears in the source, IAM action, the resource it must be on)]
CALL_SITES: dict[str, list[tuple[str, str, str]]] = {
    "warroom.db.connections": [("generate_db_auth_token", "rds-db:connect", "dbuser")],
    "warroom.fanout": [
        ("post_to_connection", "execute-api:ManageConnections", "connections"),
        ("delete_connection", "execute-api:ManageConnections", "connections"),
        ("SigV4Auth", "execute-api:ManageConnections", "connections"),  # the signed POST
    ],
    "warroom.storage": [
        ("generate_presigned_post", "s3:PutObject", "attachments"),
        ("generate_presigned_url", "s3:GetObject", "attachments"),
        ("put_object", "s3:PutObject", "attachments"),
    ],
    "warroom.flush_scheduler": [("send_message", "sqs:SendMessage", "flush_queue")],
    # issue 19: notices are queued by whoever mentions or pages, sent (signed with the
    # VAPID key) by the push function; the escalation timer is a delayed message.
    "warroom.push_queue": [("send_message_batch", "sqs:SendMessage", "push_queue")],
    "warroom.paging": [("send_message", "sqs:SendMessage", "escalation_queue")],
    "warroom.webpush": [("get_secret_value", "secretsmanager:GetSecretValue", "vapid_secret")],
    # issue 18: the ingest sources' secrets, sealed under a KMS key (envelope)
    "warroom.sealing": [
        ("generate_data_key", "kms:GenerateDataKey", "ingest_key"),
        ("decrypt", "kms:Decrypt", "ingest_key"),
    ],
    "warroom.sweep_gate": [
        ("get_metric_statistics", "cloudwatch:GetMetricStatistics", "*"),
    ],
    "functions.migrate.handler": [
        ("get_secret_value", "secretsmanager:GetSecretValue", "master_secret"),
    ],
}
AWS_CALL_MARKERS = ("boto3.client(", "boto3.resource(", "SigV4Auth")
# Reachable by import, never executed by that function: (function id, action) → why.
NOT_CALLED_HERE = {
    (fn, "sqs:SendMessage"): "only a join or departure left pending schedules a flush, and "
    "only $connect/$disconnect (ConnectFn) record joins and departures; these send no "
    "message, so they queue no mention push"
    for fn in ("SweepFn", "PresenceFlushFn")
}
NOT_CALLED_HERE[("PushFn", "sqs:SendMessage")] = (
    "the push function sends the notices it is given; it reaches the queue's module through "
    "the notice type, and never enqueues"
)
NOT_CALLED_HERE[("MigrateFn", "rds-db:connect")] = (
    "the migration logs in as the master user with its password (DB_IAM_AUTH=false); it "
    "imports the connection module for its TLS settings and Alembic's connect"
)
NOT_CALLED_HERE |= {
    (fn, "cloudwatch:GetMetricStatistics"): "the sweep gate reads CloudWatch only where the "
    "database pauses (dev); prod's sweep has no gate settings"
    for fn in ("SweepFn",)
}
# What every function's role may hold whatever its code: X-Ray's trace upload (active
# tracing; no resource-level permissions).
ALWAYS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
# Granted for the platform rather than for a call in our code.
_EVENT_SOURCE = {
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
}
PLATFORM = {
    # The SQS event source mapping polls the queue with the function's role.
    "PresenceFlushFn": _EVENT_SOURCE,
    "PushFn": _EVENT_SOURCE,
    "EscalateFn": _EVENT_SOURCE,
}


def _module_file(module: str) -> Path | None:
    parts = module.split(".")
    for root in (REPO_ROOT, LAYERS_DIR):
        for candidate in (
            root.joinpath(*parts).with_suffix(".py"),
            root.joinpath(*parts, "__init__.py"),
        ):
            if candidate.is_file():
                return candidate
    return None


def _imported(path: Path, package: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the handler's own package
                base = ".".join(
                    [*package.split(".")[: len(package.split(".")) - node.level + 1], base]
                )
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def reachable_modules(spec: FunctionSpec) -> set[str]:
    """Our modules (warroom.*, functions.*) the function's handler can import."""
    start = f"functions.{spec.folder}.{spec.handler.split('.')[0]}"
    seen: set[str] = set()
    queue = [start]
    while queue:
        module = queue.pop()
        path = _module_file(module)
        if module in seen or path is None:
            continue
        seen.add(module)
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        for name in _imported(path, package):
            if name.split(".")[0] in {"warroom", "functions"}:
                queue.append(name)
                # `from warroom.db import get_database` imports the package warroom.db
                queue.append(name.rsplit(".", 1)[0])
    return seen


def calls_of(spec: FunctionSpec) -> set[str]:
    """The IAM actions of every AWS call the function's code can make."""
    return {action for m in reachable_modules(spec) for _, action, _ in CALL_SITES.get(m, [])}


def _grants(stage: Synthesized, spec: FunctionSpec) -> list[tuple[str, Any]]:
    grants = []
    for statement in stage.function_statements(spec.service):
        assert statement["Effect"] == "Allow"
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        resources = (
            statement["Resource"]
            if isinstance(statement["Resource"], list)
            else [statement["Resource"]]
        )
        grants += [(action, resource) for action in actions for resource in resources]
    return grants


def _on_expected_resource(stage: Synthesized, kind: str, resource: Any) -> bool:
    text = json.dumps(resource)
    if kind == "*":
        return resource == "*"  # CloudWatch metric reads have no resource-level permissions
    if kind == "connections":
        ws = [k for k, v in stage.of_type("AWS::ApiGatewayV2::Api").items()
              if v["Properties"].get("ProtocolType") == "WEBSOCKET"]  # fmt: skip
        return (
            len(ws) == 1
            and {"Ref": ws[0]} in resource["Fn::Join"][1]
            and ("/@connections/*" in text)
        )
    if kind == "attachments":
        buckets = [k for k in stage.of_type("AWS::S3::Bucket") if k.startswith("AttachmentsBucket")]
        return len(buckets) == 1 and resource == {
            "Fn::Join": ["", [{"Fn::GetAtt": [buckets[0], "Arn"]}, "/*"]]
        }
    if kind == "flush_queue":
        queues = [k for k in stage.of_type("AWS::SQS::Queue") if k.startswith("PresenceFlushQueue")]
        return len(queues) == 1 and resource == {"Fn::GetAtt": [queues[0], "Arn"]}
    if kind in ("push_queue", "escalation_queue"):
        prefix = "PushPushQueue" if kind == "push_queue" else "PushEscalationQueue"
        queues = [
            k for k in stage.of_type("AWS::SQS::Queue") if k.startswith(prefix) and "Dlq" not in k
        ]
        return len(queues) == 1 and resource == {"Fn::GetAtt": [queues[0], "Arn"]}
    if kind == "vapid_secret":
        secrets = [k for k in stage.of_type("AWS::SecretsManager::Secret") if "VapidKey" in k]
        return len(secrets) == 1 and resource == {"Ref": secrets[0]}
    if kind == "ingest_key":
        keys = [k for k in stage.of_type("AWS::KMS::Key") if k.startswith("IngestSecrets")]
        return len(keys) == 1 and resource == {"Fn::GetAtt": [keys[0], "Arn"]}
    if kind == "dbuser":
        return ":dbuser:" in text and text.endswith('/warroom_app"]]}')
    if kind == "master_secret":
        (attachment,) = stage.of_type("AWS::SecretsManager::SecretTargetAttachment")
        return resource == {"Ref": attachment}
    raise AssertionError(kind)


def test_every_module_that_calls_aws_is_listed_with_its_calls() -> None:
    # Given every module of the functions and the shared package
    sources = [*FUNCTIONS_DIR.rglob("*.py"), *(LAYERS_DIR / "warroom").rglob("*.py")]
    for path in sources:
        root = REPO_ROOT if path.is_relative_to(FUNCTIONS_DIR) else LAYERS_DIR
        module = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        text = path.read_text()
        # Then one that makes a client or signs a request is listed
        if any(marker in text for marker in AWS_CALL_MARKERS):
            assert module in CALL_SITES, f"{module} calls AWS but is not in CALL_SITES"
        # And every call listed for it is really in its source
        for call, _, _ in CALL_SITES.get(module, []):
            assert call in text, f"{module} no longer makes {call}"


@pytest.mark.parametrize("spec", ALL_FUNCTIONS, ids=lambda spec: spec.id)
def test_each_role_grants_what_its_code_calls_on_that_resource_and_nothing_else(
    stage: Synthesized, spec: FunctionSpec
) -> None:
    # Given the AWS calls the function's code can make, and its role's grants
    needed = calls_of(spec)
    grants = _grants(stage, spec)
    granted = {action for action, _ in grants}
    # (one action may be needed on several resources: SendMessage to each queue it feeds)
    kinds: dict[str, set[str]] = {}
    for module in reachable_modules(spec):
        for _, action, kind in CALL_SITES.get(module, []):
            kinds.setdefault(action, set()).add(kind)
    # Then each call is granted, on its specific resource (unless reachable but never run)
    for action in sorted(needed):
        if (spec.id, action) in NOT_CALLED_HERE:
            continue
        on = [resource for a, resource in grants if a == action]
        assert on, f"{spec.id} calls {action} but its role does not grant it"
        assert all(any(_on_expected_resource(stage, k, r) for k in kinds[action]) for r in on), (
            spec.id,
            action,
            on,
        )
    # And nothing is granted beyond the calls, tracing, and what the platform needs
    beyond = granted - needed - ALWAYS - PLATFORM.get(spec.id, set())
    assert beyond == set(), f"{spec.id} is granted {sorted(beyond)} that no code of it calls"


def test_the_reachable_calls_are_the_ones_expected() -> None:
    # Given the analysis, on functions whose calls are known by heart
    by_id = {spec.id: calls_of(spec) for spec in ALL_FUNCTIONS}
    # Then the authorizer calls nothing, the migration reads its secret (and reaches the
    # IAM token code it does not run), and the
    # HTTP API signs attachment URLs while the WebSocket functions do not
    assert by_id["AuthorizerFn"] == set()
    assert by_id["MigrateFn"] == {"secretsmanager:GetSecretValue", "rds-db:connect"}
    assert {"s3:PutObject", "s3:GetObject"} <= by_id["HistoryFn"]
    assert "s3:PutObject" not in by_id["ConnectFn"]
    assert {"rds-db:connect", "execute-api:ManageConnections", "sqs:SendMessage"} <= by_id[
        "ConnectFn"
    ]
