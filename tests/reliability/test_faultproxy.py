"""The fault proxy follows WebSocket frame boundaries (so a mid-frame cut is inside a frame)."""

from __future__ import annotations

import struct

from tests.faultproxy import FrameCursor


def frame(payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        return bytes([0x81, n]) + payload
    if n < 65536:
        return bytes([0x81, 126]) + struct.pack("!H", n) + payload
    return bytes([0x81, 127]) + struct.pack("!Q", n) + payload


def test_frame_ends_are_found_across_any_split() -> None:
    head = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
    frames = [frame(b"a" * 5), frame(b""), frame(b"b" * 300), frame(b"c" * 70_000), frame(b"d")]
    stream = head + b"".join(frames)
    ends, offset = [len(head)], len(head)
    for item in frames:
        offset += len(item)
        ends.append(offset)
    for chunk in (1, 2, 7, 100, 4096, len(stream)):
        cursor, found = FrameCursor(), []
        for start in range(0, len(stream), chunk):
            found += sorted(start + i for i in cursor.feed(stream[start : start + chunk]))
        assert found == ends, chunk
