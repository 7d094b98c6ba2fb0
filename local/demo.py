"""Demo data for a first start: a few people and an active incident room with history.

Idempotent: it does nothing when the demo room already exists.
"""

from __future__ import annotations

import uuid

from warroom.db import Database
from warroom.logic import messages, rooms, users
from warroom.models import MessageDraft, Role, RoomDraft, Severity

DEMO_USERS = [
    ("alice@factory.example", "Alice Chen", "Production", "Shift lead"),
    ("bob@factory.example", "Bob Lin", "Maintenance", "Maintenance engineer"),
    ("carol@factory.example", "Carol Wu", "Quality", "QA engineer"),
    ("dave@factory.example", "Dave Huang", "Plant management", "Plant manager"),
]
DEMO_ROOM_TITLE = "Line 3 CNC spindle overheating"
# A fixed namespace so the demo messages keep their ids (and stay idempotent).
_NS = uuid.UUID("6f1c1f39-5b0e-4a55-9d2c-0c1d2e3f4a5b")


def load_demo(db: Database) -> bool:
    for user_id, name, department, title in DEMO_USERS:
        users.sync_user(user_id, name, department=department, job_title=title, db=db)
    alice, bob, carol, dave = (u[0] for u in DEMO_USERS)
    if any(r.title == DEMO_ROOM_TITLE for r in rooms.list_rooms(user_id=alice, db=db)):
        return False
    room = rooms.create_room(
        user_id=alice,
        draft=RoomDraft(
            title=DEMO_ROOM_TITLE,
            severity=Severity.HIGH,
            location="Plant A / Line 3 / CNC-07",
            lots=["LOT-2026-1125-A", "LOT-2026-1125-B"],
        ),
        db=db,
    )
    for member, role in ((bob, Role.EDITOR), (carol, Role.EDITOR), (dave, Role.VIEWER)):
        rooms.add_member(room_id=room.room_id, user_id=alice, member_id=member, role=role, db=db)
    script: list[tuple[str, dict[str, object]]] = [
        (alice, {"content": "Line 3 stopped at 09:12. CNC-07 spindle alarm, temperature high."}),
        (
            bob,
            {
                "message_type": "incident_data",
                "content": {
                    "machine_id": "CNC-07",
                    "line": "L3",
                    "readings": {"temperature": 85.2, "pressure": 3.1, "rate": 0},
                    "units": {"temperature": "°C", "pressure": "bar", "rate": "pcs/h"},
                    "note": "spindle housing",
                },
            },
        ),
        (bob, {"content": "設備溫度上升到85°C，冷卻水壓力偏低。Checking the coolant pump."}),
        (
            alice,
            {
                "content": "@Carol Wu please hold lots LOT-2026-1125-A/B for inspection.",
                "mentions": [carol],
            },
        ),
        (carol, {"content": "Holding both lots. Will sample 20 pcs from each."}),
    ]
    for n, (sender, fields) in enumerate(script):
        draft = MessageDraft(client_msg_id=uuid.uuid5(_NS, f"{room.room_id}-{n}"), **fields)
        messages.send_message(room_id=room.room_id, sender_id=sender, draft=draft, db=db)
    return True
