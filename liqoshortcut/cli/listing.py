"""`kubectl shortcut list`: every shortcut, read from the central cluster alone.

The records `create` keeps in central say which edges a shortcut joins, which one hosts the
gateway server and how the last run ended, so listing needs no edge credentials (and no edge
to be reachable). The table looks like `kubectl get`'s; "No shortcuts found" goes to stderr,
as kubectl's "No resources found" does, so stdout stays empty for scripts.
"""

from __future__ import annotations

import typer

from liqoshortcut.cli.environment import environment
from liqoshortcut.cli.options import ContextOption, KubeconfigOption, LiqoNamespaceOption
from liqoshortcut.cli.output import OutputFormat, OutputOption, table, write_data

COLUMNS = ("NAME", "SERVER", "CLIENT", "STATE", "AGE", "SOURCE")


def list_shortcuts(
    ctx: typer.Context,
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
    liqo_namespace: LiqoNamespaceOption = "liqo",
    output: OutputOption = OutputFormat.TEXT,
) -> None:
    """List the shortcuts recorded in the central cluster, with their edges, state and age."""
    from datetime import UTC, datetime

    from liqoshortcut.core.record import age
    from liqoshortcut.kube.clients import connect
    from liqoshortcut.kube.kubeconfig import load_kubeconfig
    from liqoshortcut.workflow.records import all_records

    env = environment(ctx)
    resolved = load_kubeconfig(kubeconfig).resolve(context)
    central = connect(resolved, name=f"central ({resolved.context})")
    records = all_records(central, liqo_namespace)
    if not records and output is OutputFormat.TEXT:
        env.stderr.write(
            f"No shortcuts found in namespace {liqo_namespace} of the central cluster "
            f"(context {resolved.context}).\n"
        )
        return
    now = datetime.now(UTC)
    rows = [
        (r.name, r.server.context, r.client.context, str(r.state), age(r.created, now), r.source)
        for r in records
    ]
    data = {"shortcuts": [record.as_dict() for record in records]}
    write_data(env, output, data, text=table([COLUMNS, *rows]))
