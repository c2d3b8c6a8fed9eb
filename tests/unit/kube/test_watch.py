"""A watch stream's chunks become events whatever the chunk boundaries (the lab tests the rest)."""

from __future__ import annotations

import json

from liqoshortcut.kube.watch import _events


def test_events_are_whole_lines_however_the_stream_is_cut() -> None:
    events = [
        {"type": "ADDED", "object": {"metadata": {"name": "a"}}},
        {"type": "MODIFIED", "object": {"metadata": {"name": "a"}, "status": {"value": "ok"}}},
        {"type": "DELETED", "object": {"metadata": {"name": "a"}}},
    ]
    stream = b"".join(json.dumps(event).encode() + b"\n" for event in events)
    for size in (1, 7, 64, len(stream)):
        chunks = [stream[i : i + size] for i in range(0, len(stream), size)]
        assert list(_events(iter(chunks))) == events


def test_a_line_cut_off_by_the_end_of_the_stream_is_not_an_event() -> None:
    whole = json.dumps({"type": "ADDED", "object": {}}).encode() + b"\n"
    assert list(_events(iter([whole, b'{"type": "MODI']))) == [{"type": "ADDED", "object": {}}]
