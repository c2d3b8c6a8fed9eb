"""Executes a plan: ensure each object, wait for it, journal what this run created and roll it
back in reverse on failure; progress goes to a small reporter interface that each front end
implements.

One workflow serves both front ends (the CLI runs it once, the operator on every reconcile), so it
may import `kube` and `core` but neither typer, rich nor kopf.
"""
