"""``python -m liqoshortcut.cli``: the same as the ``kubectl-shortcut`` console script."""

from liqoshortcut.cli.app import main

main()
