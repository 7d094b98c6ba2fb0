"""The local gateway's frame guard, fed raw WebSocket bytes: it must find every frame
header wherever reads split them, and refuse exactly the data frames over 32 KB."""

from __future__ import annotations

import os
import struct
from typing import Any

import pytest

from infra.constants import WS_PONG_FRAME
from local.gateway import PONG, FrameSizeGuard
from warroom.bounds import MAX_CLIENT_FRAME_BYTES

pytestmark = pytest.mark.unit


def frame(payload: bytes, *, opcode: int = 0x1, fin: bool = True, masked: bool = True) -> bytes:
    """One client frame as RFC 6455 writes it (clients always mask)."""
    head = bytes([(0x80 if fin else 0) | opcode])
    mask_bit = 0x80 if masked else 0
    size = len(payload)
    if size < 126:
        head += bytes([mask_bit | size])
    elif size < 1 << 16:
        head += bytes([mask_bit | 126]) + struct.pack("!H", size)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", size)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class Parser:
    """Stands in for aiohttp's parser: records what it is fed."""

    def __init__(self) -> None:
        self.fed = b""

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        self.fed += data
        return False, b""

    def feed_eof(self) -> None:
        pass


class Queue:
    def __init__(self) -> None:
        self.error: Any = None

    def set_exception(self, exc: BaseException) -> None:
        self.error = exc


def feed(stream: bytes, read_size: int) -> tuple[Parser, Queue, bool]:
    parser, queue = Parser(), Queue()
    guard = FrameSizeGuard(parser, queue, MAX_CLIENT_FRAME_BYTES, linger=0)
    eof = False
    for start in range(0, len(stream), read_size):
        eof, _ = guard.feed_data(stream[start : start + read_size])
        if eof:
            break
    return parser, queue, eof


@pytest.mark.parametrize("read_size", [1, 3, 7, 1000, 1 << 20])
def test_frames_up_to_32_kb_pass_whole_whatever_the_reads(read_size):
    # Given a stream of a small frame, a ping, a frame of exactly 32 KB and a fragmented
    # message of two 20 KB frames (each under the limit), cut into reads of any size
    stream = (
        frame(b'{"type":"ping"}')
        + frame(b"are you there", opcode=0x9)
        + frame(b"x" * MAX_CLIENT_FRAME_BYTES)
        + frame(b"y" * 20_000, fin=False)
        + frame(b"z" * 20_000, opcode=0x0)
    )
    parser, queue, eof = feed(stream, read_size)
    # Then every byte reaches the parser and nothing is refused
    assert parser.fed == stream and queue.error is None and not eof


@pytest.mark.parametrize("read_size", [1, 5, 4096, 1 << 20])
@pytest.mark.parametrize(
    ("oversized", "opcode"),
    [(MAX_CLIENT_FRAME_BYTES + 1, 0x1), (70_000, 0x2), (40_000, 0x0)],  # text, binary, continuation
)
def test_a_data_frame_over_32_kb_is_refused_with_1009(read_size, oversized, opcode):
    # Given a good frame and then one data frame one byte (or more) over 32 KB
    good = frame(b'{"type":"typing"}')
    stream = good + frame(b"q" * oversized, opcode=opcode)
    header = 2 + (2 if oversized < 1 << 16 else 8) + 4
    parser, queue, eof = feed(stream, read_size)
    # Then the parser got the good frame but none of the oversized one's payload (at
    # most the header bytes that arrived in the same read), and the socket is failed
    # with 1009 before that payload was read; what the client still sends is read and
    # dropped (no end of stream), so closing does not reset a socket with unread bytes
    assert not eof and queue.error is not None and queue.error.code == 1009
    assert parser.fed.startswith(good) and len(parser.fed) <= len(good) + header


def test_the_gateway_pong_is_the_cloud_routes_response():
    assert WS_PONG_FRAME.encode() == PONG
