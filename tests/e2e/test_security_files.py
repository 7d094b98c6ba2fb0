"""Attachments and the local stack's side doors (issue 10, items 6 and 7).

Downloads: `nosniff`, and `attachment` for anything that is not an image or a PDF. The
local S3 proxy on the app's origin serves only presigned requests (signature and expiry
checked against the local credentials, as S3 does) with `nosniff` and a sandboxing CSP;
the `@connections` endpoint accepts only SigV4-signed requests, as API Gateway's does.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from local.aws import ATTACHMENTS_BUCKET
from local.events import REGION
from tests.e2e.conftest import frames_until, of_type

pytestmark = pytest.mark.e2e

LOCAL_KEY, LOCAL_SECRET = "local", "local"  # what `make dev` gives the handlers


def _fetch(
    url: str, method: str = "GET", data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _upload(local_stack, person, room_id: str, filename: str, content_type: str, data: bytes):
    created = local_stack.request(
        "POST",
        f"/api/rooms/{room_id}/files",
        person.token,
        {"filename": filename, "content_type": content_type, "size": len(data)},
    )
    assert created.status == 201, created.text
    upload = created.body["upload"]
    status, _, body = _post_form(upload["url"], upload["fields"], data, content_type)
    assert status in (200, 204), body
    return created.body["file_id"]


def _post_form(url: str, fields: dict[str, str], data: bytes, content_type: str):
    boundary = uuid.uuid4().hex
    parts = b""
    for name, value in fields.items():
        parts += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    parts += (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return _fetch(url, "POST", parts, {"Content-Type": f"multipart/form-data; boundary={boundary}"})


def _download_link(local_stack, person, room_id: str, file_id: str) -> str:
    link = local_stack.request("GET", f"/api/rooms/{room_id}/files/{file_id}", person.token)
    assert link.status == 200, link.text
    return str(link.body["url"])


def _s3(local_stack, secret: str = LOCAL_SECRET) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=local_stack.base_url + "/s3",
        region_name=REGION,
        aws_access_key_id=LOCAL_KEY,
        aws_secret_access_key=secret,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


HTML = b"<html><body><script>document.title='owned'</script></body></html>"


@pytest.mark.parametrize(
    ("filename", "content_type", "data", "disposition"),
    [
        ("notes.txt", "text/plain", HTML, "attachment"),
        ("readings.csv", "text/csv", b"t,85\n", "attachment"),
        ("data.json", "application/json", b'{"a":1}', "attachment"),
        ("spindle.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "inline"),
        ("manual.pdf", "application/pdf", b"%PDF-1.4\n%%EOF\n", "inline"),
    ],
)
def test_downloads_are_nosniff_and_attachments_unless_image_or_pdf(
    local_stack, incident, filename, content_type, data, disposition
):
    owner, viewer, room_id = incident["owner"], incident["viewer"], incident["room_id"]
    # Given an uploaded file
    file_id = _upload(local_stack, owner, room_id, filename, content_type, data)
    # When a member downloads it through the presigned link
    url = _download_link(local_stack, viewer, room_id, file_id)
    status, headers, body = _fetch(url)
    # Then it comes with its declared type, nosniff, and the right disposition
    assert status == 200 and body == data
    assert headers["Content-Type"].startswith(content_type)
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Disposition"].startswith(disposition + ";"), headers
    assert filename.split(".")[0] in headers["Content-Disposition"]
    # and the link itself asks S3 for that disposition and type (as the cloud serves it)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["response-content-disposition"][0].startswith(disposition)
    assert query["response-content-type"] == [content_type]


def test_the_s3_proxy_refuses_unsigned_requests(local_stack, incident):
    owner, room_id = incident["owner"], incident["room_id"]
    file_id = _upload(local_stack, owner, room_id, "a.txt", "text/plain", b"hello")
    key = urllib.parse.urlsplit(_download_link(local_stack, owner, room_id, file_id)).path
    bucket = f"{local_stack.base_url}/s3/{ATTACHMENTS_BUCKET}"
    # When anyone lists the bucket, reads an object or writes one without a signature
    listed = _fetch(bucket)
    listed_v2 = _fetch(bucket + "?list-type=2")
    read = _fetch(local_stack.base_url + key)
    put = _fetch(bucket + "/evil.html", "PUT", HTML, {"Content-Type": "text/html"})
    # Then each is refused as S3 refuses them, and nothing was written
    for status, _, body in (listed, listed_v2, read, put):
        assert status == 403, (status, body[:200])
        assert b"AccessDenied" in body
    moto = boto3.client(
        "s3",
        endpoint_url=local_stack.moto_url,
        region_name=REGION,
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    keys = [o["Key"] for o in moto.list_objects_v2(Bucket=ATTACHMENTS_BUCKET).get("Contents", [])]
    assert "evil.html" not in keys


def test_the_s3_proxy_refuses_forged_and_expired_presigned_requests(local_stack, incident):
    owner, room_id = incident["owner"], incident["room_id"]
    file_id = _upload(local_stack, owner, room_id, "b.txt", "text/plain", b"secret")
    good = _download_link(local_stack, owner, room_id, file_id)
    parts = urllib.parse.urlsplit(good)
    query = dict(urllib.parse.parse_qsl(parts.query))
    key = parts.path.split(f"/s3/{ATTACHMENTS_BUCKET}/", 1)[1]

    def with_query(**changes: str) -> str:
        return parts._replace(query=urllib.parse.urlencode({**query, **changes})).geturl()

    # Given a good link, the same link with its signature or its overrides changed, a
    # link signed with the wrong secret, and one that has expired
    tampered = with_query(**{"X-Amz-Signature": "0" * 64})
    retyped = with_query(**{"response-content-type": "text/html"})
    wrong_secret = _s3(local_stack, secret="not-the-secret").generate_presigned_url(
        "get_object", Params={"Bucket": ATTACHMENTS_BUCKET, "Key": key}, ExpiresIn=300
    )
    expiring = _s3(local_stack).generate_presigned_url(
        "get_object", Params={"Bucket": ATTACHMENTS_BUCKET, "Key": key}, ExpiresIn=1
    )
    time.sleep(2.1)  # past its expiry; what is asserted is the refusal, not a duration
    # Then only the good link is served
    assert _fetch(good)[0] == 200
    for url in (tampered, retyped, wrong_secret, expiring):
        status, _, body = _fetch(url)
        assert status == 403, (url, status, body[:200])


def test_the_s3_proxy_holds_uploads_to_their_signed_policy(local_stack, incident):
    owner, room_id = incident["owner"], incident["room_id"]
    created = local_stack.request(
        "POST",
        f"/api/rooms/{room_id}/files",
        owner.token,
        {"filename": "c.txt", "content_type": "text/plain", "size": 5},
    )
    upload = created.body["upload"]
    fields = upload["fields"]
    # When the form is sent with its signature, its policy or its declared type changed,
    # or with more bytes than the policy allows
    forged_signature = {**fields, "x-amz-signature": "0" * 64}
    as_html = {**fields, "Content-Type": "text/html"}
    other_key = {**fields, "key": fields["key"].rsplit("/", 1)[0] + "/index.html"}
    results = [
        _post_form(upload["url"], forged_signature, b"hello", "text/plain"),
        _post_form(upload["url"], as_html, b"hello", "text/html"),
        _post_form(upload["url"], other_key, b"hello", "text/plain"),
        _post_form(upload["url"], fields, b"hello, and much more", "text/plain"),
    ]
    # Then each is refused, and the genuine form still works
    for status, _, body in results:
        assert status == 403, (status, body[:300])
    assert _post_form(upload["url"], fields, b"hello", "text/plain")[0] in (200, 204)


def test_proxied_objects_carry_nosniff_and_a_sandboxing_csp(local_stack, incident):
    owner, room_id = incident["owner"], incident["room_id"]
    file_id = _upload(local_stack, owner, room_id, "d.txt", "text/plain", HTML)
    status, headers, _ = _fetch(_download_link(local_stack, owner, room_id, file_id))
    assert status == 200
    assert headers["X-Content-Type-Options"] == "nosniff"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp


def _signed_management_request(
    local_stack, connection_id: str, body: bytes, secret: str
) -> tuple[int, bytes]:
    url = f"{local_stack.base_url}/@connections/{urllib.parse.quote(connection_id, safe='')}"
    request = AWSRequest(method="POST", url=url, data=body)
    SigV4Auth(Credentials(LOCAL_KEY, secret), "execute-api", REGION).add_auth(request)
    status, _, answer = _fetch(url, "POST", body, dict(request.headers.items()))
    return status, answer


def test_connections_endpoint_accepts_only_signed_requests(local_stack, incident):
    editor, room_id = incident["editor"], incident["room_id"]
    forged = json.dumps(
        {"type": "message", "message": {"content": "click https://evil.example"}}
    ).encode()
    with local_stack.connect(editor.token, room_id) as ws:
        # Given a live socket whose id an attacker has learned (any id will do to probe)
        probe = "AAAAAAAAAAAAAA=="
        # When they post to it without a signature, or signed with the wrong secret
        unsigned = _fetch(f"{local_stack.base_url}/@connections/{probe}", "POST", forged)
        unsigned_get = _fetch(f"{local_stack.base_url}/@connections/{probe}")
        unsigned_delete = _fetch(f"{local_stack.base_url}/@connections/{probe}", "DELETE")
        wrong = _signed_management_request(local_stack, probe, forged, "not-the-secret")
        # Then every one is refused as API Gateway refuses them (403), before any lookup
        for status in (unsigned[0], unsigned_get[0], unsigned_delete[0], wrong[0]):
            assert status == 403
        # while a correctly signed request gets past the check (410: no such socket)
        assert _signed_management_request(local_stack, probe, forged, LOCAL_SECRET)[0] == 410
        # and the room's socket still works and never saw the forged frame
        ws.send(json.dumps({"type": "presence"}))
        seen = frames_until(ws, of_type("presence"))
        assert all("evil.example" not in json.dumps(f) for f in seen)
