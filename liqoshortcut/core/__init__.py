"""Pure decisions, no I/O: the models of a shortcut, names and labels, the plan (which object goes
to which cluster, in which order) and path-choice policy.

The bottom layer, so both front ends and the workflow can trust it and tests need no cluster: it
imports nothing of liqoshortcut's other layers, nor kubernetes, typer, rich or kopf.
"""
