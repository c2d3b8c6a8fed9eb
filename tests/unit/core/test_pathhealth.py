"""The path a shortcut's traffic takes: immediate fallback, hysteresis on return, Auto's choice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from liqoshortcut.core.connection import ConnectionSeen
from liqoshortcut.core.pathhealth import HealthSettings, PathTracker, Sample
from liqoshortcut.core.reasons import HubWhy
from liqoshortcut.core.traffic import PathMode

START = datetime(2026, 12, 2, 3, 0, 0, tzinfo=UTC)
SETTINGS = HealthSettings(stale_after=30.0, healthy_samples=3, faster_samples=2)


def stamp(at: float) -> str:
    return (START + timedelta(seconds=at)).strftime("%Y-%m-%dT%H:%M:%SZ")


def sample(
    at: float,
    state: str = "Connected",
    direct: str = "1ms",
    hub: str = "2ms",
    refreshed: float | None = None,
) -> Sample:
    """Liqo rewrites the latency every 10s: the timestamp is that of the last refresh."""
    when = stamp((at // 10) * 10 if refreshed is None else refreshed)
    seen = ConnectionSeen(state, direct, when)
    return Sample(
        direct=(seen, seen),
        hub=(ConnectionSeen("Connected", hub, when), ConnectionSeen("Connected", hub, when)),
        at=at,
        wall=START + timedelta(seconds=at),
        edges=("edge-b", "edge-a"),
    )


def run(tracker: PathTracker, samples: list[Sample]) -> list[str]:
    return [tracker.observe(s).path for s in samples]


def test_direct_needs_consecutive_healthy_checks_then_falls_back_at_once() -> None:
    tracker = PathTracker(PathMode.DIRECT, SETTINGS)
    assert run(tracker, [sample(t) for t in (0, 5, 10, 15)]) == ["Hub", "Hub", "Direct", "Direct"]
    state = tracker.observe(sample(20, state="Error"))
    assert (state.path, state.why) == ("Hub", HubWhy.UNHEALTHY)
    assert "edge-b's Connection is Error" in state.message
    # back to Connected: two healthy checks are not enough, the third returns
    assert run(tracker, [sample(t) for t in (25, 30, 35)]) == ["Hub", "Hub", "Direct"]


def test_a_flapping_tunnel_does_not_flap_the_path() -> None:
    tracker = PathTracker(PathMode.DIRECT, SETTINGS, direct=True)
    flapping = [
        sample(t, state="Error" if i % 2 else "Connected") for i, t in enumerate(range(0, 60, 5))
    ]
    assert run(tracker, flapping) == ["Direct", "Hub", *["Hub"] * 10]


def test_a_latency_that_stops_advancing_is_unhealthy_after_stale_after() -> None:
    tracker = PathTracker(PathMode.DIRECT, SETTINGS, direct=True)
    # the gateway hangs: Connected, but the timestamp stays at the refresh of t=10
    paths = run(tracker, [sample(t, refreshed=10) for t in (10, 20, 30, 40, 45)])
    assert paths == ["Direct", "Direct", "Direct", "Direct", "Hub"]
    assert "not been refreshed for 30s" in tracker.observe(sample(50, refreshed=10)).message


def test_a_first_sighting_of_an_old_timestamp_is_stale() -> None:
    tracker = PathTracker(PathMode.DIRECT, SETTINGS, direct=True)  # e.g. a restarted operator
    state = tracker.observe(sample(100, refreshed=0))
    assert (state.path, state.why) == ("Hub", HubWhy.UNHEALTHY)


def test_a_restarted_operator_keeps_a_healthy_direct_path() -> None:
    tracker = PathTracker(PathMode.DIRECT, SETTINGS, direct=True)
    assert run(tracker, [sample(t) for t in (100, 105)]) == ["Direct", "Direct"]


def test_hub_mode_never_goes_direct() -> None:
    tracker = PathTracker(PathMode.HUB, SETTINGS, direct=True)
    states = [tracker.observe(sample(t)) for t in range(0, 30, 5)]
    assert {(s.path, s.why) for s in states} == {("Hub", HubWhy.POLICY)}
    assert all(s.healthy for s in states)


def test_auto_picks_direct_only_when_clearly_faster_for_several_checks() -> None:
    tracker = PathTracker(PathMode.AUTO, SETTINGS)
    # direct 1.9ms against a 2ms+2ms hub: clearly faster (below 80%)
    faster = [sample(t, direct="1.9ms") for t in range(0, 30, 5)]
    assert run(tracker, faster) == ["Hub", "Hub", "Hub", "Direct", "Direct", "Direct"]
    state = tracker.observe(sample(30, direct="1.9ms"))
    assert (state.direct_latency, state.hub_latency) == (0.0019, 0.004)
    # direct 3.5ms: faster than the hub's 4ms but not clearly: stays direct (hysteresis)
    assert run(tracker, [sample(t, direct="3.5ms") for t in (35, 40, 45)]) == ["Direct"] * 3
    # direct 5ms: slower for two checks: back to the hub
    assert run(tracker, [sample(t, direct="5ms") for t in (50, 55, 60)]) == ["Direct", "Hub", "Hub"]
    assert tracker.observe(sample(65, direct="5ms")).why is HubWhy.HUB_FASTER


def test_auto_chooses_hub_when_the_direct_path_is_slower() -> None:
    tracker = PathTracker(PathMode.AUTO, SETTINGS)
    assert set(run(tracker, [sample(t, direct="8ms") for t in range(0, 60, 5)])) == {"Hub"}


def test_auto_without_a_hub_figure_keeps_its_path() -> None:
    tracker = PathTracker(PathMode.AUTO, SETTINGS)
    states = [tracker.observe(sample(t, hub="N/A")) for t in range(0, 30, 5)]
    assert {s.why for s in states[2:]} == {HubWhy.UNMEASURED}
    kept = PathTracker(PathMode.AUTO, SETTINGS, direct=True)
    assert run(kept, [sample(t, hub="N/A") for t in (0, 5)]) == ["Direct", "Direct"]
