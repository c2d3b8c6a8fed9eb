"""`python -m liqoshortcut.operator`: what `kubectl shortcut operator` runs."""

import sys

try:
    from liqoshortcut.operator.main import main
except ModuleNotFoundError as missing:
    if missing.name != "kopf":
        raise
    # Run directly without the operator extra: the same line as `kubectl shortcut operator`.
    from liqoshortcut.errors import ExitCode

    sys.stderr.write(
        "error: the operator needs kopf, which is installed with the operator extra only: "
        "pip install 'liqo-shortcut[operator]'\n"
    )
    sys.exit(ExitCode.PRECONDITION_FAILED)

sys.exit(main())
