"""Attachments: presigned uploads to and downloads from the private S3 bucket.

The API hands out a presigned POST whose policy pins the key, the content type and the
size range, so a client cannot upload something other than what it declared; downloads
are presigned GETs that live five minutes, with the stored type and a disposition that
lets the browser show only images and PDF (everything else downloads).
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from typing import Any, Literal
from urllib.parse import quote
from uuid import UUID

from pydantic import BaseModel, Field

from warroom.dal import files as files_dal
from warroom.dal import rooms as rooms_dal
from warroom.dal.messages import Conn
from warroom.db import Database, get_database
from warroom.errors import (
    ConfigurationError,
    NotFoundError,
    PayloadTooLarge,
    ServiceUnavailable,
    ValidationFailed,
)
from warroom.logic.access import require_member, require_writer

MAX_FILE_BYTES = 25 * 1024 * 1024
UPLOAD_EXPIRES_SECONDS = 900
DOWNLOAD_EXPIRES_SECONDS = 300
ALLOWED_CONTENT_TYPES = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "text/csv",
    "application/json",
    "application/zip",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "video/mp4",
)


class UploadRequest(BaseModel):
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=1, max_length=120)
    size: int = Field(gt=0)


class StoredFile(BaseModel):
    file_id: UUID
    room_id: UUID
    filename: str
    content_type: str
    size_bytes: int
    uploaded_by: str
    created_at: Any


def limits() -> dict[str, Any]:
    return {
        "max_file_bytes": MAX_FILE_BYTES,
        "allowed_content_types": list(ALLOWED_CONTENT_TYPES),
        "max_content_bytes": 64 * 1024,
    }


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _object_key(room_id: UUID, file_id: UUID, filename: str) -> str:
    safe = _SAFE.sub("_", filename).strip("._") or "file"
    return f"rooms/{room_id}/{file_id}/{safe[:120]}"


# Shown in the browser: the image types on the allow-list (no SVG: it can carry script)
# and PDF (rendered by the browser's own viewer). Everything else is saved, never
# rendered on a page, whatever a browser might sniff it as.
INLINE_CONTENT_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"}
)


def content_disposition(content_type: str, filename: str) -> str:
    """`inline` for images and PDF, `attachment` for the rest, with the original name
    (RFC 6266: an ASCII fallback and the UTF-8 name)."""
    kind = "inline" if content_type in INLINE_CONTENT_TYPES else "attachment"
    fallback = _SAFE.sub("_", filename).strip("._") or "file"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


_client: Any | None = None
_lock = threading.Lock()


def _addressing_style() -> Literal["auto", "virtual", "path"]:
    style = os.environ.get("S3_ADDRESSING_STYLE", "auto")
    return style if style in ("virtual", "path") else "auto"  # type: ignore[return-value]


def s3_client() -> Any:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                # boto3 on first use: the HTTP handler's cold start does not pay for it.
                import boto3
                from botocore.config import Config

                _client = boto3.client(
                    "s3",
                    config=Config(
                        signature_version="s3v4",
                        s3={"addressing_style": _addressing_style()},
                    ),
                )
    return _client


def _aws_errors() -> tuple[type[Exception], ...]:
    """botocore's errors, imported only when one is being handled."""
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError)


def _bucket() -> str:
    bucket = os.environ.get("ATTACHMENTS_BUCKET")
    if not bucket:
        raise ConfigurationError("ATTACHMENTS_BUCKET is not set")
    return bucket


def create_upload(
    *, room_id: UUID, user_id: str, request: UploadRequest, db: Database | None = None
) -> dict[str, Any]:
    if request.content_type not in ALLOWED_CONTENT_TYPES:
        raise ValidationFailed(f"files of type {request.content_type} are not accepted")
    if request.size > MAX_FILE_BYTES:
        raise PayloadTooLarge(f"files are limited to {MAX_FILE_BYTES // (1024 * 1024)} MB")
    file_id = uuid.uuid4()
    key = _object_key(room_id, file_id, request.filename)

    def operation(conn: Conn) -> None:
        require_writer(rooms_dal.access(conn, room_id=room_id, user_id=user_id), room_id)
        files_dal.insert(
            conn,
            file_id=file_id,
            room_id=room_id,
            object_key=key,
            filename=request.filename,
            content_type=request.content_type,
            size_bytes=request.size,
            uploaded_by=user_id,
        )

    (db or get_database()).run(operation)
    try:
        upload = s3_client().generate_presigned_post(
            Bucket=_bucket(),
            Key=key,
            Fields={"Content-Type": request.content_type},
            Conditions=[
                {"Content-Type": request.content_type},
                ["content-length-range", 1, request.size],
            ],
            ExpiresIn=UPLOAD_EXPIRES_SECONDS,
        )
    except _aws_errors() as exc:
        raise ServiceUnavailable("attachments cannot be uploaded right now") from exc
    return {
        "file_id": str(file_id),
        "upload": {
            "url": upload["url"],
            "fields": upload["fields"],
            "expires_in": UPLOAD_EXPIRES_SECONDS,
        },
        "max_bytes": request.size,
    }


def _file_row(conn: Conn, room_id: UUID, file_id: UUID) -> dict[str, Any]:
    row = files_dal.get(conn, room_id=room_id, file_id=file_id)
    if row is None:
        raise NotFoundError("this file does not exist in this room")
    return row


def download(
    *, room_id: UUID, user_id: str, file_id: UUID, db: Database | None = None
) -> dict[str, Any]:
    def operation(conn: Conn) -> dict[str, Any]:
        require_member(conn, room_id, user_id)
        return _file_row(conn, room_id, file_id)

    row = (db or get_database()).run(operation)
    try:
        url = s3_client().generate_presigned_url(
            "get_object",
            Params={
                "Bucket": _bucket(),
                "Key": row["object_key"],
                "ResponseContentType": row["content_type"],
                "ResponseContentDisposition": content_disposition(
                    row["content_type"], row["filename"]
                ),
            },
            ExpiresIn=DOWNLOAD_EXPIRES_SECONDS,
        )
    except _aws_errors() as exc:
        raise ServiceUnavailable("attachments cannot be downloaded right now") from exc
    return {
        "url": url,
        "file_id": str(row["file_id"]),
        "filename": row["filename"],
        "content_type": row["content_type"],
        "size_bytes": row["size_bytes"],
        "expires_in": DOWNLOAD_EXPIRES_SECONDS,
    }


def list_files(*, room_id: UUID, user_id: str, db: Database | None = None) -> list[StoredFile]:
    def operation(conn: Conn) -> list[StoredFile]:
        require_member(conn, room_id, user_id)
        return [StoredFile.model_validate(r) for r in files_dal.of_room(conn, room_id)]

    return (db or get_database()).run(operation)
