"""Attachments: who may upload and download which file, and on what terms.

The bucket itself is behind an `AttachmentStore` the caller hands in (the S3 adapter,
`warroom.storage`); this module only decides. The API hands out a presigned POST whose policy pins the key, the content type and the
size range, so a client cannot upload something other than what it declared; downloads
are presigned GETs that live five minutes, with the stored type and a disposition that
lets the browser show only images and PDF (everything else downloads).
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Protocol
from urllib.parse import quote
from uuid import UUID

from pydantic import BaseModel, Field

from warroom.bounds import MAX_CONTENT_BYTES
from warroom.dal import files as files_dal
from warroom.dal import rooms as rooms_dal
from warroom.dal.messages import Conn
from warroom.db import Database, get_database
from warroom.errors import NotFoundError, PayloadTooLarge, ValidationFailed
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
        "max_content_bytes": MAX_CONTENT_BYTES,
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


class AttachmentStore(Protocol):
    """What the use-cases need of the bucket (`warroom.storage.AttachmentStore`)."""

    def presigned_upload(
        self, key: str, *, content_type: str, max_bytes: int, expires_in: int
    ) -> dict[str, Any]: ...

    def presigned_download(
        self, key: str, *, content_type: str, disposition: str | None = None, expires_in: int
    ) -> str: ...

    def put(self, key: str, body: bytes, *, content_type: str) -> None: ...


def create_upload(
    *,
    room_id: UUID,
    user_id: str,
    request: UploadRequest,
    store: AttachmentStore,
    db: Database | None = None,
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
    upload = store.presigned_upload(
        key,
        content_type=request.content_type,
        max_bytes=request.size,
        expires_in=UPLOAD_EXPIRES_SECONDS,
    )
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
    *,
    room_id: UUID,
    user_id: str,
    file_id: UUID,
    store: AttachmentStore,
    db: Database | None = None,
) -> dict[str, Any]:
    def operation(conn: Conn) -> dict[str, Any]:
        require_member(conn, room_id, user_id)
        return _file_row(conn, room_id, file_id)

    row = (db or get_database()).run(operation)
    url = store.presigned_download(
        row["object_key"],
        content_type=row["content_type"],
        disposition=content_disposition(row["content_type"], row["filename"]),
        expires_in=DOWNLOAD_EXPIRES_SECONDS,
    )
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
