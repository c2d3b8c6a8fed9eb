"""Setup shared by the unit and the integration tests."""

from __future__ import annotations

import signal

# A test run started in the background by a non-interactive shell (`make test &` in a script)
# inherits SIGINT ignored, and so would every CLI it starts. The tests that press Ctrl-C, here
# or in such a CLI, need it delivered as a terminal delivers it.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
