"""Ingest secrets at rest (issue 18): the KMS envelope (moto's KMS) and the key file."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import boto3
import pytest
from cryptography.exceptions import InvalidTag
from moto import mock_aws

from warroom.sealing import KeyFileSealer, KmsEnvelopeSealer

SECRET = b"whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"


class CountingKms:
    """moto's KMS client, counting Decrypt calls."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.decrypts = 0

    def generate_data_key(self, **kwargs: Any) -> Any:
        return self.client.generate_data_key(**kwargs)

    def decrypt(self, **kwargs: Any) -> Any:
        self.decrypts += 1
        return self.client.decrypt(**kwargs)


def test_kms_envelope_seals_opens_and_unwraps_each_data_key_once() -> None:
    with mock_aws():
        # Given a KMS key and a sealer using it
        client = boto3.client("kms", region_name="eu-west-1")
        key_id = client.create_key(Description="ingest")["KeyMetadata"]["KeyId"]
        kms = CountingKms(client)
        sealer = KmsEnvelopeSealer(key_id, client=kms)
        # When a secret is sealed
        sealed = sealer.seal(SECRET)
        # Then the stored form does not contain it, and it opens to the secret
        assert SECRET not in sealed
        assert sealer.open(sealed) == SECRET
        # And a second open in the same container asks KMS nothing more
        assert sealer.open(sealed) == SECRET
        assert kms.decrypts == 1
        # And a container with a cold cache opens it too (KMS unwraps the data key)
        assert KmsEnvelopeSealer(key_id, client=client).open(sealed) == SECRET
        # But a tampered ciphertext does not open
        with pytest.raises(InvalidTag):
            KmsEnvelopeSealer(key_id, client=client).open(sealed[:-1] + bytes([sealed[-1] ^ 1]))


def test_key_file_is_made_private_and_only_its_key_opens(tmp_path: Path) -> None:
    # Given a key file sealer whose file does not exist yet
    path = tmp_path / "dev" / "ingest-secrets.key"
    sealer = KeyFileSealer(path)
    # When it seals a secret
    sealed = sealer.seal(SECRET)
    # Then the key file exists, readable by its owner only, and the secret opens again,
    # also by a fresh sealer on the same file (the next `make dev`)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert SECRET not in sealed
    assert KeyFileSealer(path).open(sealed) == SECRET
    # But another key file cannot open it
    with pytest.raises(InvalidTag):
        KeyFileSealer(tmp_path / "other.key").open(sealed)
