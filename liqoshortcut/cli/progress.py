"""Progress on stderr: live on a terminal, one timestamped line per finished step elsewhere.

The workflow reports events and never prints; this module is the CLI's reporter. On a terminal,
steps under way (a wait for a gateway pod can take a while) spin at the bottom with their elapsed
time, and each finished step is printed above them with a coloured mark (no colour with
NO_COLOR). Elsewhere, plain ``HH:MM:SS cluster step: phase`` lines that read well in a CI log.
rich is imported only for a terminal, so scripts and `--help` never pay for it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from liqoshortcut.cli.environment import Environment
from liqoshortcut.workflow.progress import Phase, ProgressEvent, Reporter

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.spinner import Spinner

_MARKS = {
    Phase.DONE: ("✓", "green"),
    Phase.SKIPPED: ("=", "cyan"),
    Phase.FAILED: ("✗", "red"),
    Phase.ROLLBACK: ("↶", "yellow"),
}
REFRESHES_PER_SECOND = 8


@contextmanager
def reporter(env: Environment, quiet: bool) -> Iterator[Reporter]:
    """The reporter for one run; on a terminal the live display ends with the block."""
    if quiet:
        yield _discard
    elif not env.stderr_isatty:
        yield _plain(env)
    else:
        with _live(env) as live:
            yield live


def _discard(event: ProgressEvent) -> None:
    return None


def _plain(env: Environment) -> Reporter:
    lock = threading.Lock()  # the two edges' steps report from two threads

    def plain(event: ProgressEvent) -> None:
        if event.phase is Phase.STARTED:
            return
        stamp = time.strftime("%H:%M:%S")
        detail = f" ({event.detail})" if event.detail else ""
        line = f"{stamp} {event.cluster or '-':<10} {event.step}: {event.phase.value}{detail}\n"
        # Progress is for a person: a stderr that is gone (a closed terminal after SIGHUP, a
        # closed pipe) must not fail the run, nor stop its rollback.
        with lock, contextlib.suppress(OSError, ValueError):
            env.stderr.write(line)

    return plain


@contextmanager
def _live(env: Environment) -> Iterator[Reporter]:
    from rich.console import Console, Group
    from rich.live import Live
    from rich.spinner import Spinner

    console = Console(file=env.stderr, force_terminal=True, no_color=env.no_color, highlight=False)
    lock = threading.Lock()
    # Steps under way: when each started, its label, and its spinner (which keeps its frame).
    running: dict[tuple[str | None, str], tuple[float, str, Spinner]] = {}

    def under_way() -> RenderableType:
        now = time.monotonic()
        with lock:
            steps = list(running.values())
        for started, label, spinner in steps:
            spinner.update(text=f"{label} [dim]{now - started:.0f}s[/]")
        return Group(*(spinner for _, _, spinner in steps))

    with Live(
        console=console,
        get_renderable=under_way,
        refresh_per_second=REFRESHES_PER_SECOND,
        transient=True,
    ) as display:

        def live(event: ProgressEvent) -> None:
            key = (event.cluster, event.step)
            with lock:
                if event.phase is Phase.STARTED:
                    label = f"[bold]{event.cluster}[/] {event.step}"
                    running[key] = (time.monotonic(), label, Spinner("dots", text=label))
                    return
                running.pop(key, None)
            mark, style = _MARKS[event.phase]
            detail = f" [dim]({event.detail})[/]" if event.detail else ""
            with contextlib.suppress(OSError, ValueError):  # as in `_plain`
                display.console.print(
                    f"[{style}]{mark}[/] [bold]{event.cluster}[/] {event.step}{detail}"
                )

        yield live
