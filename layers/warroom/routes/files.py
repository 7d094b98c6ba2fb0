"""Attachments: the upload limits, presigned uploads, a room's files, presigned downloads.
The S3 adapter is handed to the use-cases here."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from warroom.logic import files
from warroom.routes.common import caller
from warroom.storage import attachment_store

router = Router()


@router.get("/api/limits")
def upload_limits() -> dict[str, Any]:
    return files.limits()


@router.post("/api/rooms/<room_id>/files")
def upload(room_id: UUID, body: files.UploadRequest) -> Response[dict[str, Any]]:
    created = files.create_upload(
        room_id=room_id, user_id=caller().user_id, request=body, store=attachment_store()
    )
    return Response(status_code=201, content_type="application/json", body=created)


@router.get("/api/rooms/<room_id>/files")
def room_files(room_id: UUID) -> dict[str, Any]:
    found = files.list_files(room_id=room_id, user_id=caller().user_id)
    return {"files": [f.model_dump(mode="json") for f in found]}


@router.get("/api/rooms/<room_id>/files/<file_id>")
def download(room_id: UUID, file_id: UUID) -> dict[str, Any]:
    return files.download(
        room_id=room_id, user_id=caller().user_id, file_id=file_id, store=attachment_store()
    )
