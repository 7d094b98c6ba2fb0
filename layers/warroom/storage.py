"""The S3 adapter: the one module that knows the attachments bucket, its client, presigning
and puts. The use-cases (`logic/files.py`, `logic/report.py`) are handed an
`AttachmentStore` by their caller and never see boto3; AWS errors become
`ServiceUnavailable` here, so nothing above this module knows the SDK.
"""

from __future__ import annotations

from typing import Any

from warroom.errors import ConfigurationError, ServiceUnavailable
from warroom.lazy import Lazy
from warroom.settings import StorageSettings, storage_settings


def _aws_errors() -> tuple[type[Exception], ...]:
    """botocore's errors, imported only when one is being handled."""
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError)


class AttachmentStore:
    """Presigned uploads and downloads, and server-side puts, in the attachments bucket."""

    def __init__(self, settings: StorageSettings, client: Any | None = None) -> None:
        self._settings = settings
        self._client = Lazy(lambda: client if client is not None else self._new_client())

    def _new_client(self) -> Any:
        # boto3 on first use: the HTTP handler's cold start does not pay for it.
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": self._settings.addressing_style},
            ),
        )

    @property
    def bucket(self) -> str:
        if not self._settings.attachments_bucket:
            raise ConfigurationError("ATTACHMENTS_BUCKET is not set")
        return self._settings.attachments_bucket

    def presigned_upload(
        self, key: str, *, content_type: str, max_bytes: int, expires_in: int
    ) -> dict[str, Any]:
        """A presigned POST whose policy pins the key, the content type and the size range:
        `{"url", "fields"}`."""
        try:
            upload: dict[str, Any] = self._client.get().generate_presigned_post(
                Bucket=self.bucket,
                Key=key,
                Fields={"Content-Type": content_type},
                Conditions=[
                    {"Content-Type": content_type},
                    ["content-length-range", 1, max_bytes],
                ],
                ExpiresIn=expires_in,
            )
        except _aws_errors() as exc:
            raise ServiceUnavailable("attachments cannot be uploaded right now") from exc
        return upload

    def presigned_download(
        self, key: str, *, content_type: str, disposition: str | None = None, expires_in: int
    ) -> str:
        params = {"Bucket": self.bucket, "Key": key, "ResponseContentType": content_type}
        if disposition is not None:
            params["ResponseContentDisposition"] = disposition
        try:
            return str(
                self._client.get().generate_presigned_url(
                    "get_object", Params=params, ExpiresIn=expires_in
                )
            )
        except _aws_errors() as exc:
            raise ServiceUnavailable("attachments cannot be downloaded right now") from exc

    def put(self, key: str, body: bytes, *, content_type: str) -> None:
        try:
            self._client.get().put_object(
                Bucket=self.bucket, Key=key, Body=body, ContentType=content_type
            )
        except _aws_errors() as exc:
            raise ServiceUnavailable("the file cannot be stored right now") from exc


_store = Lazy(lambda: AttachmentStore(storage_settings()))
attachment_store = _store.get
set_attachment_store = _store.set
