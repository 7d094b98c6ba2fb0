"""The signature checks the local stand-ins leave out, done as AWS does them.

moto checks no S3 signature, presigned URL expiry or POST policy, and a plain HTTP
endpoint accepts any caller. The gateway uses these to hold its S3 proxy and its
`@connections` endpoint to what S3 and API Gateway (IAM auth) accept: requests signed
with the local credentials, unexpired, and (for browser uploads) matching the signed
POST policy. botocore's own signers recompute each signature, so the canonical form is
exactly the one the clients signed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy as email_policy
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from botocore.auth import S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AMZ_DATE = "%Y%m%dT%H%M%SZ"
# API Gateway and S3 refuse a header-signed request whose X-Amz-Date is further than
# this from their clock.
CLOCK_SKEW = timedelta(minutes=15)
MAX_PRESIGNED_SECONDS = 7 * 24 * 3600
_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class SigningKeys:
    access_key: str
    secret_key: str
    region: str


class Refused(Exception):
    """Why a request is refused, with the error code the real service answers."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _timestamp(value: str | None) -> datetime:
    try:
        return datetime.strptime(value or "", AMZ_DATE).replace(tzinfo=UTC)
    except ValueError as exc:
        raise Refused("AccessDenied", "X-Amz-Date is missing or malformed") from exc


def _check_scope(credential: str, amz_date: str, keys: SigningKeys, service: str) -> None:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise Refused("AuthorizationQueryParametersError", "malformed credential scope")
    access_key, day, region, signed_service, _ = parts
    if access_key != keys.access_key:
        raise Refused("InvalidAccessKeyId", "the access key is not known here")
    if day != amz_date[:8] or region != keys.region or signed_service != service:
        raise Refused("SignatureDoesNotMatch", "the credential scope does not match")


def _same(expected: str, given: str) -> None:
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise Refused("SignatureDoesNotMatch", "the request signature does not match")


def verify_header_signature(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    keys: SigningKeys,
    service: str,
    now: datetime | None = None,
) -> None:
    """A request signed in its Authorization header (SigV4), as boto3 signs calls to the
    Management API. Raises Refused."""
    lowered = {k.lower(): v for k, v in headers.items()}
    match = _AUTHORIZATION.match(lowered.get("authorization", ""))
    if match is None:
        raise Refused("MissingAuthenticationTokenException", "Missing Authentication Token")
    amz_date = lowered.get("x-amz-date", "")
    signed_at = _timestamp(amz_date)
    if abs((now or datetime.now(UTC)) - signed_at) > CLOCK_SKEW:
        raise Refused("InvalidSignatureException", "Signature expired")
    _check_scope(match["credential"], amz_date, keys, service)
    names = match["signed"].split(";")
    if "host" not in names:
        raise Refused("InvalidSignatureException", "the host header must be signed")
    request = AWSRequest(
        method=method,
        url=url,
        data=body,
        headers={name: lowered[name] for name in names if name in lowered and name != "host"},
    )
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(keys.access_key, keys.secret_key), service, keys.region)
    canonical = signer.canonical_request(request)
    _same(signer.signature(signer.string_to_sign(request, canonical), request), match["signature"])


def verify_presigned_url(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    keys: SigningKeys,
    now: datetime | None = None,
) -> None:
    """An S3 request signed in its query string (a presigned GET/HEAD/PUT): signature
    over exactly this method, path and query (including response-* overrides), and not
    expired. Raises Refused."""
    split = urlsplit(url)
    params = dict(parse_qsl(split.query, keep_blank_values=True))
    if params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" or "X-Amz-Signature" not in params:
        raise Refused("AccessDenied", "Access Denied")
    amz_date = params.get("X-Amz-Date", "")
    signed_at = _timestamp(amz_date)
    try:
        expires = int(params.get("X-Amz-Expires", ""))
    except ValueError as exc:
        raise Refused("AuthorizationQueryParametersError", "X-Amz-Expires is malformed") from exc
    if not 0 < expires <= MAX_PRESIGNED_SECONDS:
        raise Refused("AuthorizationQueryParametersError", "X-Amz-Expires is out of range")
    current = now or datetime.now(UTC)
    if current > signed_at + timedelta(seconds=expires):
        raise Refused("AccessDenied", "Request has expired")
    if signed_at - current > CLOCK_SKEW:
        raise Refused("AccessDenied", "Request is not yet valid")
    _check_scope(params.get("X-Amz-Credential", ""), amz_date, keys, "s3")
    # The canonical query is every parameter but the signature, as the client had it.
    query = "&".join(p for p in split.query.split("&") if not p.startswith("X-Amz-Signature="))
    lowered = {k.lower(): v for k, v in headers.items()}
    names = params.get("X-Amz-SignedHeaders", "host").split(";")
    request = AWSRequest(
        method=method,
        url=split._replace(query=query).geturl(),
        headers={name: lowered[name] for name in names if name in lowered and name != "host"},
    )
    request.context["timestamp"] = amz_date
    signer = S3SigV4QueryAuth(
        Credentials(keys.access_key, keys.secret_key), "s3", keys.region, expires=expires
    )
    canonical = signer.canonical_request(request)
    _same(
        signer.signature(signer.string_to_sign(request, canonical), request),
        params["X-Amz-Signature"],
    )


def form_fields(body: bytes, content_type: str) -> tuple[dict[str, str], int]:
    """The fields of a multipart/form-data upload before its `file`, and the file's size
    (S3 ignores fields after the file)."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=email_policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise Refused("MalformedPOSTRequest", "the body is not multipart/form-data")
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if not isinstance(name, str):
            continue
        if name == "file":
            return fields, len(data)
        fields[name.lower()] = data.decode("utf-8", "replace")
    raise Refused("InvalidArgument", "POST requires exactly one file upload per request")


def _condition_holds(condition: Any, fields: Mapping[str, str], size: int) -> tuple[str, bool]:
    if isinstance(condition, dict) and len(condition) == 1:
        ((name, value),) = condition.items()
        return name.lower(), fields.get(name.lower()) == value
    if isinstance(condition, list) and len(condition) == 3:
        op, name, value = condition
        if op == "content-length-range":
            return "", int(name) <= size <= int(value)
        field = str(name).lstrip("$").lower()
        if op == "eq":
            return field, fields.get(field) == value
        if op == "starts-with":
            return field, str(fields.get(field, "")).startswith(str(value))
    raise Refused("InvalidPolicyDocument", "the policy holds a condition S3 does not know")


def verify_post_policy(
    *,
    bucket: str,
    body: bytes,
    content_type: str,
    keys: SigningKeys,
    now: datetime | None = None,
) -> None:
    """A browser upload by presigned POST: the policy is signed with the local
    credentials, unexpired, and every condition holds for this form and file; every
    field is one the policy names. Raises Refused."""
    fields, size = form_fields(body, content_type)
    encoded = fields.get("policy")
    if not encoded or fields.get("x-amz-algorithm") != "AWS4-HMAC-SHA256":
        raise Refused("AccessDenied", "Access Denied")
    amz_date = fields.get("x-amz-date", "")
    _timestamp(amz_date)
    _check_scope(fields.get("x-amz-credential", ""), amz_date, keys, "s3")
    signing_key = ("AWS4" + keys.secret_key).encode()
    for step in (amz_date[:8], keys.region, "s3", "aws4_request"):
        signing_key = hmac.new(signing_key, step.encode(), hashlib.sha256).digest()
    expected = hmac.new(signing_key, encoded.encode(), hashlib.sha256).hexdigest()
    _same(expected, fields.get("x-amz-signature", ""))
    try:
        document = json.loads(base64.b64decode(encoded))
        expiration = datetime.fromisoformat(str(document["expiration"]).replace("Z", "+00:00"))
        conditions = list(document["conditions"])
    except (ValueError, KeyError, TypeError) as exc:
        raise Refused("InvalidPolicyDocument", "the policy cannot be read") from exc
    if (now or datetime.now(UTC)) > expiration:
        raise Refused("AccessDenied", "Invalid according to Policy: Policy expired.")
    covered = {"bucket"}
    for condition in conditions:
        name, holds = _condition_holds(condition, {**fields, "bucket": bucket}, size)
        if not holds:
            raise Refused(
                "AccessDenied",
                f"Invalid according to Policy: Policy Condition failed: {name or 'content-length-range'}",
            )
        covered.add(name)
    exempt = {"policy", "x-amz-signature", "file"}
    extra = [
        f for f in fields if f not in covered and f not in exempt and not f.startswith("x-ignore-")
    ]
    if extra:
        raise Refused(
            "AccessDenied", f"Invalid according to Policy: Extra input fields: {extra[0]}"
        )
