"""Secrets at rest: the ingest sources' webhook secrets are sealed before they are stored.

One small interface, `Sealer` (`seal`, `open`), two implementations:
- `KmsEnvelopeSealer` (the cloud): a fresh 256-bit data key from KMS `GenerateDataKey`
  per secret, AES-GCM under it, and the KMS-encrypted data key stored beside the
  ciphertext. Opening asks KMS to decrypt the data key once per warm container and
  sealed key (cached), so the ingest hot path does not call KMS on every request.
- `KeyFileSealer` (`make dev`, tests): AES-GCM under a 256-bit key kept in a file in
  `.local/` (created on first use, mode 0600).

The sealed form is `version byte | len(wrapped key) (2 bytes) | wrapped key | nonce (12) |
ciphertext`; the key file's wrapped key is empty.
"""

from __future__ import annotations

import os
import secrets
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from warroom.errors import ConfigurationError
from warroom.lazy import Lazy

VERSION = b"\x01"
AAD = b"warroom-ingest-secret"


def _pack(wrapped: bytes, nonce: bytes, ciphertext: bytes) -> bytes:
    return VERSION + len(wrapped).to_bytes(2, "big") + wrapped + nonce + ciphertext


def _unpack(blob: bytes) -> tuple[bytes, bytes, bytes]:
    if blob[:1] != VERSION or len(blob) < 3:
        raise ConfigurationError("a sealed secret is not in a known form")
    size = int.from_bytes(blob[1:3], "big")
    wrapped = blob[3 : 3 + size]
    nonce = blob[3 + size : 15 + size]
    return wrapped, nonce, blob[15 + size :]


class Sealer(ABC):
    @abstractmethod
    def seal(self, plaintext: bytes) -> bytes: ...

    @abstractmethod
    def open(self, sealed: bytes) -> bytes: ...


class KeyFileSealer(Sealer):
    def __init__(self, path: Path) -> None:
        self.path = path
        self._key: bytes | None = None
        self._lock = threading.Lock()

    def _key_bytes(self) -> bytes:
        with self._lock:
            if self._key is None:
                if not self.path.exists():
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "wb") as out:
                        out.write(secrets.token_bytes(32))
                key = self.path.read_bytes()
                if len(key) != 32:
                    raise ConfigurationError(f"the key file {self.path} is not a 256-bit key")
                self._key = key
            return self._key

    def seal(self, plaintext: bytes) -> bytes:
        nonce = secrets.token_bytes(12)
        return _pack(b"", nonce, AESGCM(self._key_bytes()).encrypt(nonce, plaintext, AAD))

    def open(self, sealed: bytes) -> bytes:
        _, nonce, ciphertext = _unpack(sealed)
        return AESGCM(self._key_bytes()).decrypt(nonce, ciphertext, AAD)


class KmsEnvelopeSealer(Sealer):
    def __init__(self, key_id: str, *, client: Any | None = None, region: str | None = None):
        self.key_id = key_id
        self._client = client
        self._region = region
        self._data_keys: dict[bytes, bytes] = {}

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("kms", region_name=self._region)
        return self._client

    def seal(self, plaintext: bytes) -> bytes:
        made = self.client.generate_data_key(KeyId=self.key_id, KeySpec="AES_256")
        nonce = secrets.token_bytes(12)
        ciphertext = AESGCM(made["Plaintext"]).encrypt(nonce, plaintext, AAD)
        return _pack(made["CiphertextBlob"], nonce, ciphertext)

    def open(self, sealed: bytes) -> bytes:
        wrapped, nonce, ciphertext = _unpack(sealed)
        key = self._data_keys.get(wrapped)
        if key is None:
            key = self.client.decrypt(CiphertextBlob=wrapped, KeyId=self.key_id)["Plaintext"]
            self._data_keys[wrapped] = key
        return AESGCM(key).decrypt(nonce, ciphertext, AAD)


def _sealer_from_settings() -> Sealer:
    from warroom.settings import ingest_settings

    settings = ingest_settings()
    if settings.kms_key_id:
        return KmsEnvelopeSealer(settings.kms_key_id, region=settings.region)
    return KeyFileSealer(Path(settings.key_file))


_sealer = Lazy(_sealer_from_settings)
sealer = _sealer.get
set_sealer = _sealer.set
