"""Progress on stderr: one line per event, coloured on a terminal, timestamped in CI logs.

The workflow reports events and never prints; this module is the CLI's reporter. On a terminal
lines get a mark and colour (unless NO_COLOR); elsewhere plain ``HH:MM:SS cluster step`` lines
that read well in a CI log.
"""

from __future__ import annotations

import threading
import time

from liqoshortcut.cli.environment import Environment
from liqoshortcut.workflow.progress import Phase, ProgressEvent, Reporter

_MARKS = {
    Phase.STARTED: ("…", "dim"),
    Phase.DONE: ("✓", "green"),
    Phase.SKIPPED: ("=", "cyan"),
    Phase.FAILED: ("✗", "red"),
    Phase.ROLLBACK: ("↶", "yellow"),
}


def reporter(env: Environment, quiet: bool) -> Reporter:
    lock = threading.Lock()  # the two edges' steps report from two threads

    def plain(event: ProgressEvent) -> None:
        if quiet or event.phase is Phase.STARTED:
            return
        stamp = time.strftime("%H:%M:%S")
        detail = f" ({event.detail})" if event.detail else ""
        with lock:
            env.stderr.write(
                f"{stamp} {event.cluster or '-':<10} {event.step}: {event.phase.value}{detail}\n"
            )

    if quiet or not env.stderr_isatty:
        return plain

    from rich.console import Console

    console = Console(file=env.stderr, no_color=env.no_color, highlight=False)

    def live(event: ProgressEvent) -> None:
        if event.phase is Phase.STARTED:
            return
        mark, style = _MARKS[event.phase]
        detail = f" [dim]({event.detail})[/]" if event.detail else ""
        with lock:
            console.print(f"[{style}]{mark}[/] [bold]{event.cluster}[/] {event.step}{detail}")

    return live
