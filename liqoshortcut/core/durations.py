"""Go durations, as Liqo writes a tunnel's latency (``412μs``) and liqoctl takes ``--timeout``
(``1m30s``): one reading for both.

durationpy, which the kubernetes client already brings, does the arithmetic. What it takes
beyond Go's ``time.ParseDuration`` (days, weeks, months, years, a leading sign) is refused first,
so that a value means here what it means to liqoctl and to Liqo.
"""

from __future__ import annotations

import re
from typing import Final

import durationpy

# One or more <number><unit> with Go's units only.
_GO_DURATION: Final = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?(?:ns|us|µs|μs|ms|s|m|h))+")


def seconds(text: str | None) -> float | None:
    """``text`` as a Go duration, in seconds; None when it is none (``N/A``, ``1d``, empty)."""
    if text is None or not _GO_DURATION.fullmatch(text.strip()):
        return None
    return float(durationpy.from_str(text.strip()).total_seconds())
