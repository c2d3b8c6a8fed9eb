"""`python -m liqoshortcut.operator`: what `kubectl shortcut operator` runs."""

import sys

from liqoshortcut.operator.main import main

sys.exit(main())
