"""The `kubectl shortcut` front end: one module per command, rendering and exit codes.

kubectl starts this for every `kubectl shortcut ...` and every tab completion, so at module scope it
imports only typer, the standard library and `liqoshortcut.errors`; anything heavier (kubernetes,
yaml, pydantic, rich) is imported inside the command that needs it. It may call `workflow`, `kube`
and `core`, never `operator` or kopf (see the import-linter contracts in pyproject.toml).
"""
