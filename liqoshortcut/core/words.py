"""How names a user typed appear in one-line messages: quoted, and cut when very long.

A context name or a plugin's command is echoed in many errors; a name of thousands of characters
(a pasted token, a runaway script) would bury the sentence that says what is wrong. A long name
keeps its start and its end, which are what tell two names apart.
"""

from __future__ import annotations

# Characters of one name in a message: more than any context name kubectl's tables show in full
# (an EKS ARN is about 60), few enough to leave room for the sentence on one terminal line.
NAME_SHOWN_MAX = 64
PATH_SHOWN_MAX = 200  # a file or command path: deep install paths are common and all of it helps
ELLIPSIS = "..."


def cut(name: str, limit: int = NAME_SHOWN_MAX) -> str:
    """``name``, or its start and end joined by ``...`` when it is longer than ``limit``."""
    if len(name) <= limit:
        return name
    room = limit - len(ELLIPSIS)
    tail = room // 3
    return f"{name[: room - tail]}{ELLIPSIS}{name[len(name) - tail :]}"


def shown(name: str, limit: int = NAME_SHOWN_MAX) -> str:
    """``name`` quoted as a message quotes it (``'edge-a'``), cut as `cut` does."""
    return repr(cut(name, limit))
