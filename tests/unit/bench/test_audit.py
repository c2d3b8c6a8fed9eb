"""Audit log lines become per-client request counts: one per request, in the run, by User-Agent."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.audit import AuditLog, breakdown, parse_event, requests_of

LIQOCTL = "liqoctl/v0.0.0 (linux/amd64) kubernetes/$Format"
PYTHON = "OpenAPI-Generator/37.0.2/python"
START = datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC)
END = datetime(2026, 11, 25, 10, 0, 30, tzinfo=UTC)


def event(
    audit_id: str,
    verb: str = "get",
    resource: str | None = "configurations",
    *,
    user_agent: str = PYTHON,
    at: str = "2026-11-25T10:00:10.123456Z",
    stage: str = "ResponseComplete",
    subresource: str | None = None,
    uri: str = "/apis/networking.liqo.io/v1beta1/namespaces/t/configurations/x?timeout=30s",
) -> str:
    """One audit log line as a Metadata-level kube-apiserver writes it."""
    body: dict[str, Any] = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": audit_id,
        "stage": stage,
        "requestURI": uri,
        "verb": verb,
        "userAgent": user_agent,
        "requestReceivedTimestamp": at,
        "stageTimestamp": at,
    }
    if resource is not None:
        body["objectRef"] = {"resource": resource, "apiGroup": "networking.liqo.io"}
        if subresource:
            body["objectRef"]["subresource"] = subresource
    return json.dumps(body)


def test_an_event_gives_its_verb_resource_client_and_time_received() -> None:
    request = parse_event("edge-a", event("a1", "create", "gatewayservers", user_agent=LIQOCTL))
    assert request is not None
    assert (request.cluster, request.kind, request.user_agent) == (
        "edge-a",
        "create gatewayservers",
        LIQOCTL,
    )
    assert request.received == datetime(2026, 11, 25, 10, 0, 10, 123456, tzinfo=UTC)


def test_a_subresource_is_counted_apart_from_its_resource() -> None:
    request = parse_event("edge-b", event("a1", "update", "connections", subresource="status"))
    assert request is not None
    assert request.kind == "update connections/status"


def test_a_request_without_a_resource_is_counted_by_its_path_without_the_query() -> None:
    request = parse_event("central", event("a1", resource=None, uri="/apis/networking.liqo.io?x=1"))
    assert request is not None
    assert request.kind == "get /apis/networking.liqo.io"


def test_a_line_cut_by_a_concurrent_write_or_not_an_event_is_skipped() -> None:
    whole = event("a1")
    assert parse_event("edge-a", whole[: len(whole) // 2]) is None
    assert parse_event("edge-a", json.dumps({"kind": "Status"})) is None
    assert parse_event("edge-a", json.dumps({"kind": "Event", "verb": "get"})) is None


def test_a_watch_logged_at_two_stages_is_one_request() -> None:
    lines = [event("w1", "watch", stage="ResponseStarted"), event("w1", "watch")]
    requests = [r for line in lines if (r := parse_event("edge-a", line)) is not None]
    assert len(requests_of(requests, "OpenAPI-Generator/", START, END)) == 1


def test_only_the_clients_requests_received_within_the_run_count() -> None:
    lines = [
        event("ours-1"),
        event("ours-2", "create"),
        event("liqoctl-1", user_agent=LIQOCTL),
        event("emulator-1", user_agent="liqo-lab-emulator"),
        event("before-the-run", at="2026-11-25T09:59:59.999999Z"),
        event("after-the-run", at="2026-11-25T10:00:30.000001Z"),
    ]
    requests = [r for line in lines if (r := parse_event("edge-a", line)) is not None]
    ours = requests_of(requests, "OpenAPI-Generator/", START, END)
    assert sorted(r.audit_id for r in ours) == ["ours-1", "ours-2"]
    assert breakdown(ours) == {"get configurations": 1, "create configurations": 1}


def test_the_same_audit_id_on_two_clusters_is_two_requests() -> None:
    requests = [r for c in ("edge-a", "edge-b") if (r := parse_event(c, event("same"))) is not None]
    assert len(requests_of(requests, "OpenAPI-Generator/", START, END)) == 2


def test_a_log_is_read_from_its_mark_even_after_the_api_server_rotated_it(tmp_path: Path) -> None:
    cluster_dir = tmp_path / "edge-a"
    cluster_dir.mkdir()
    log = AuditLog.in_lab(tmp_path, "edge-a")
    log.path.write_text(event("old") + "\n")
    mark = log.mark()
    with log.path.open("a") as appended:
        appended.write(event("before-rotation") + "\n")
    # What the API server's log rotation does: rename the file aside, start a new one.
    os.rename(log.path, cluster_dir / "audit-2026-11-25T10-00-20.000.log")
    log.path.write_text(event("after-rotation") + "\n")
    assert [r.audit_id for r in log.since(mark)] == ["before-rotation", "after-rotation"]


def test_a_log_that_did_not_rotate_is_read_from_its_mark_only(tmp_path: Path) -> None:
    (tmp_path / "edge-b").mkdir()
    log = AuditLog.in_lab(tmp_path, "edge-b")
    log.path.write_text(event("old") + "\n")
    mark = log.mark()
    with log.path.open("a") as appended:
        appended.write(event("new") + "\n")
    assert [r.audit_id for r in log.since(mark)] == ["new"]
