"""`create` run in the background, to be interrupted or killed at a chosen step."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from lab.cluster import kubeconfig_path


@contextmanager
def create_running(
    stderr_path: Path, *flags: str, env: Mapping[str, str] | None = None
) -> Iterator[subprocess.Popen[str]]:
    """`kubectl shortcut create edge-a edge-b FLAGS` under way, its stderr going to
    ``stderr_path``, with ``env`` added to its environment.

    Killed on the way out if still running, so a failed test leaves no run behind to disturb
    the next one.
    """
    with stderr_path.open("w") as stderr:
        run = subprocess.Popen(
            [sys.executable, "-m", "liqoshortcut.cli", "create", "edge-a", "edge-b", *flags],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env={**os.environ, "KUBECONFIG": str(kubeconfig_path()), **(env or {})},
            text=True,
        )
        try:
            yield run
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()


def wait_for_line(
    run: subprocess.Popen[str], stderr_path: Path, text: str, times: int = 1, timeout: float = 60
) -> None:
    """Until ``text`` is in ``times`` progress lines; fails if the run ends or never gets there."""
    deadline = time.monotonic() + timeout
    while stderr_path.read_text().count(text) < times:
        assert run.poll() is None, stderr_path.read_text()
        assert time.monotonic() < deadline, f"the run never reached {text!r}"
        time.sleep(0.1)
