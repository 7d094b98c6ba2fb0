"""The web client's wire types (web/src/generated/protocol.ts) are generated from the
server's models (`make types`); a stale file fails here."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from warroom import bounds, wire_schema

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
GENERATED = WEB / "src" / "generated" / "protocol.ts"


def generate() -> str:
    document = {"schema": wire_schema.document(), "limits": wire_schema.shared_limits()}
    node = shutil.which("node")
    assert node, "node is needed to generate the web types (make install)"
    done = subprocess.run(
        [node, "scripts/gen-types.mjs"],
        cwd=WEB,
        input=json.dumps(document, ensure_ascii=False),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_committed_web_types_are_what_the_models_generate_now():
    # Given the committed file and the server's models as they are
    committed = GENERATED.read_text(encoding="utf-8")
    # When the types are generated again
    fresh = generate()
    # Then nothing differs (else: run `make types` and commit the result)
    assert fresh == committed, "web/src/generated/protocol.ts is stale: run `make types`"


def test_the_web_shares_the_limits_by_the_same_names():
    # Given the generated file
    committed = GENERATED.read_text(encoding="utf-8")
    # Then each limit the client shares is exported under the server's name and value
    for name in bounds.SHARED_WITH_CLIENT:
        assert f"export const {name} = {getattr(bounds, name)};" in committed
    assert bounds.MAX_CLIENT_FRAME_BYTES == 32 * 1024
    assert bounds.MAX_MESSAGE_BYTES == 128 * 1024
    assert bounds.MAX_CONTENT_BYTES == 64 * 1024


def test_a_frame_that_gains_a_key_makes_the_committed_file_stale(monkeypatch):
    # Given the schema of the pong frame with one more key, as a changed model would give
    original = wire_schema.document

    def changed() -> dict:
        document = original()
        pong = document["$defs"]["PongFrame"]
        pong["properties"]["at"] = {"type": "string"}
        pong["required"] = [*pong["required"], "at"]
        return document

    monkeypatch.setattr(wire_schema, "document", changed)
    # When the types are generated
    fresh = generate()
    # Then they differ from the committed file, by the new key of that frame
    assert fresh != GENERATED.read_text(encoding="utf-8")
    pong = fresh[fresh.index("export interface PongFrame {") :]
    assert pong[: pong.index("}")].splitlines()[1:] == ["  type: 'pong';", "  at: string;"]
