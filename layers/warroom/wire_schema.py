"""The JSON Schema of everything the server says to the web client — every WebSocket
frame and every HTTP body — from the pydantic models that build them, for the client's
generated TypeScript (`make types`: this module, then `web/scripts/gen-types.mjs`).

`python -m warroom.wire_schema` prints the document. Its root is the union of the
server's frames (`ServerFrame`); every other type is a definition. Each definition is
named by its TypeScript name (a model's title); titles inside a definition are dropped
so the generator does not make a type of every property.

Required keys say what is always on the wire: everything the server sends is dumped
whole, so a key with a default is still always there, except the keys a `WireModel`
leaves out when None (`frames.WireModel.omitted_when_none`). Request bodies are
described as they are accepted (a key with a default may be left out).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema

from warroom import bodies, bounds, frames
from warroom.logic.files import UploadRequest
from warroom.models import FileInfo, Reaction, RoomDraft, RoomPatch, User
from warroom.routes.members import NewMember, RoleChange
from warroom.routes.messages import OutgoingMessage
from warroom.routes.rooms import ReadMark

#: What the server sends: dumped whole.
SENT: tuple[type[BaseModel], ...] = (
    *frames.SERVER_FRAMES,
    frames.WireMessage,
    frames.AckFields,
    FileInfo,
    Reaction,
    User,
    bodies.UserList,
    bodies.RoomList,
    bodies.MemberList,
    bodies.Limits,
    bodies.HistoryAnswer,
    bodies.ChangesAnswer,
    bodies.MessageList,
    bodies.SearchAnswer,
    bodies.ReadMarkAnswer,
    bodies.UploadTicket,
    bodies.FileList,
    bodies.FileLink,
    bodies.ReportLink,
    bodies.Health,
    bodies.ErrorBody,
)
#: What the server accepts over HTTP, and shapes of a message's content.
ACCEPTED: tuple[type[BaseModel], ...] = (
    RoomDraft,
    RoomPatch,
    NewMember,
    RoleChange,
    OutgoingMessage,
    ReadMark,
    UploadRequest,
    bodies.IncidentData,
    bodies.SystemContent,
)


class _WireSchema(GenerateJsonSchema):
    def field_is_required(self, field: Any, total: bool) -> bool:
        # A sent body is dumped whole: defaults are on the wire too.
        if self.mode == "serialization":
            return True
        return super().field_is_required(field, total)


def _inner(node: Any, *, names: bool = False) -> Any:
    """A definition's insides: no titles or defaults (the generator would make a type of
    every titled property), and `frames.WIRE_REF` as a `$ref`. `names`: `node` maps
    property names to schemas (a property may be called `title`)."""
    if isinstance(node, dict):
        if names:
            return {k: _inner(v) for k, v in node.items()}
        if frames.WIRE_REF in node:
            return {"$ref": f"#/$defs/{node[frames.WIRE_REF]}"}
        return {
            k: _inner(v, names=k == "properties")
            for k, v in node.items()
            if k not in ("title", "default")
        }
    if isinstance(node, list):
        return [_inner(v) for v in node]
    return node


def document() -> dict[str, Any]:
    entries: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        *((model, "serialization") for model in SENT),
        *((model, "validation") for model in ACCEPTED),
    ]
    _, schema = models_json_schema(
        entries, ref_template="#/$defs/{model}", schema_generator=_WireSchema
    )
    definitions: dict[str, Any] = {}
    for name, definition in sorted(schema["$defs"].items()):
        definitions[name] = {"title": definition.get("title", name), **_inner(definition)}
    frame_refs = [{"$ref": f"#/$defs/{model.__name__}"} for model in frames.SERVER_FRAMES]
    return {"title": "ServerFrame", "anyOf": frame_refs, "$defs": definitions}


def shared_limits() -> dict[str, int]:
    """The limits the web client shares with the server, by the same names."""
    return {name: getattr(bounds, name) for name in bounds.SHARED_WITH_CLIENT}


def main() -> None:
    json.dump(
        {"schema": document(), "limits": shared_limits()},
        sys.stdout,
        ensure_ascii=False,
        indent=1,
        sort_keys=False,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
