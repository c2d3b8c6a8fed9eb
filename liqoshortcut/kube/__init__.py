"""Cluster access: kubeconfig and context resolution, clients per edge (from a context or a
kubeconfig Secret), typed access to Liqo resources, and mapping API errors to domain errors.

Sits above `core` (it may use its models and labels) and below `workflow`; it knows nothing of how a
run is presented, so it imports neither typer, rich nor kopf.
"""
