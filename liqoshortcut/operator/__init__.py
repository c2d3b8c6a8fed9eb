"""The kopf operator for `VirtualNodeShortcut`: handlers, status, conditions and events over the
same workflow the CLI runs.

A front end beside `cli`: it may import `workflow`, `kube` and `core`, never `cli`, typer or rich.
"""
