"""`kubectl shortcut list`: every shortcut, from its record in central and from its edges.

The records `create` keeps in central say which edges a shortcut joins, which one hosts the
gateway server and how the last run ended. A record is not the edges, though (liqoctl may have
reset them since), so `list` also asks both edges of each record, through the contexts it names,
for the shortcut's gateways and Connections (`workflow.live`): the LIVE column, and a warning
when it contradicts the record. An edge it cannot ask is Unknown, with the reason; `--no-check`
reads central alone, as `list` did before. The table looks like `kubectl get`'s; "No shortcuts
found" goes to stderr, as kubectl's "No resources found" does, so stdout stays empty for scripts.
"""

from __future__ import annotations

from typing import Annotated

import typer

from liqoshortcut.cli.environment import environment
from liqoshortcut.cli.options import (
    ContextOption,
    KubeconfigOption,
    LiqoNamespaceOption,
    timeout_seconds,
)
from liqoshortcut.cli.output import OutputFormat, OutputOption, table, write_data

COLUMNS = ("NAME", "SERVER", "CLIENT", "STATE", "AGE", "SOURCE")
LIVE_COLUMN = "LIVE"
NOT_CHECKED = "-"  # a VirtualNodeShortcut: its operator checks it, its STATE says what it saw
LIST_TIMEOUT = "10s"  # the edges answer a list in milliseconds; an edge that does not is Unknown


def list_shortcuts(
    ctx: typer.Context,
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
    liqo_namespace: LiqoNamespaceOption = "liqo",
    output: OutputOption = OutputFormat.TEXT,
    check: Annotated[
        bool,
        typer.Option(
            "--check/--no-check",
            help="Ask both edges of each recorded shortcut for its gateways and Connections "
            "(the LIVE column); --no-check reads the records in central only.",
        ),
    ] = True,
    timeout: Annotated[
        str,
        typer.Option("--timeout", help="How long the edges may take to answer, e.g. 10s."),
    ] = LIST_TIMEOUT,
) -> None:
    """List the shortcuts recorded in the central cluster, with their edges, state and age."""
    from datetime import UTC, datetime

    from liqoshortcut.core.record import age
    from liqoshortcut.workflow.clusters import central as central_of
    from liqoshortcut.workflow.clusters import load
    from liqoshortcut.workflow.live import check_edges, kubeconfig_edges
    from liqoshortcut.workflow.records import all_records

    env = environment(ctx)
    seconds = timeout_seconds(timeout)
    loaded = load(kubeconfig, "--kubeconfig")
    found_central = central_of(loaded, context)
    central, resolved = found_central.cluster, found_central.context
    found = all_records(central, liqo_namespace)
    records = found.records
    for warning in found.warnings:
        env.warn(warning)
    live = check_edges(records, kubeconfig_edges(loaded, seconds), seconds) if check else {}
    for record in records:
        seen = live.get(record.name)
        if seen is None:
            continue
        if seen.disagrees_with(record):
            reasons = "; ".join(r for r in (seen.server.reason, seen.client.reason) if r)
            env.warn(
                f"shortcut {record.name} is recorded {record.state} but its edges say "
                f"{seen.state}{f' ({reasons})' if reasons else ''}"
            )
        for edge, side in ((record.server, seen.server), (record.client, seen.client)):
            if side.state == "Unknown":
                env.warn(
                    f"shortcut {record.name}: {edge.context} could not be asked: {side.reason}"
                )
    if not records and output is OutputFormat.TEXT:
        env.stderr.write(
            f"No shortcuts found in namespace {liqo_namespace} of the central cluster "
            f"(context {resolved.context}).\n"
        )
        return
    now = datetime.now(UTC)
    rows = [
        [r.name, r.server.context, r.client.context, str(r.state), age(r.created, now), r.source]
        for r in records
    ]
    shown = [record.as_dict() for record in records]
    if check:
        for row, record, item in zip(rows, records, shown, strict=True):
            seen = live.get(record.name)
            row.append(NOT_CHECKED if seen is None else seen.state)
            if seen is not None:
                item["live"] = seen.as_dict()
    columns = [*COLUMNS, LIVE_COLUMN] if check else list(COLUMNS)
    write_data(env, output, {"shortcuts": shown}, text=table([columns, *rows]))
