"""`create --dry-run=client|server`: show what `create` would do, change nothing anywhere.

``-o yaml`` is one YAML stream that `kubectl apply -f -` in central accepts as is: the plan for
the edges is printed as comments (applied to central, those objects would land in the wrong
cluster), and the one live document is the VirtualNodeShortcut the operator would act on.
``-o json`` holds the same as data; ``-o text`` lists the steps in the waves they run in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from liqoshortcut.cli.environment import Environment
from liqoshortcut.cli.output import OutputFormat, emit, table, write_data

if TYPE_CHECKING:
    from liqoshortcut.core.plan import Plan
    from liqoshortcut.workflow.dry_run import Answer
    from liqoshortcut.workflow.preflight import Preflight


class DryRun(StrEnum):
    NONE = "none"
    CLIENT = "client"
    SERVER = "server"


DryRunOption = Annotated[
    DryRun,
    typer.Option(
        "--dry-run",
        case_sensitive=False,
        help="client: print the plan; server: also have every API server validate it. "
        "Nothing changes in either.",
    ),
]


def show_client(
    env: Environment,
    output: OutputFormat,
    document: Mapping[str, Any],
    plan: Plan,
    traffic: str | None = None,
) -> None:
    """``traffic``: what the run would do with central's Services, a line after the steps."""
    if output is OutputFormat.YAML:
        emit(env, _yaml_stream(document))
    else:
        text = _waves_text(plan) + (f"\n{traffic}" if traffic else "")
        write_data(env, output, document, text=text)


def show_server(env: Environment, output: OutputFormat, answers: Sequence[Answer]) -> None:
    rows = [("CLUSTER", "OBJECT", "RESULT")]
    rows += [
        (a.cluster, a.object, f"{a.verdict}{': ' + a.message if a.message else ''}")
        for a in answers
    ]
    write_data(env, output, {"results": [a.as_dict() for a in answers]}, text=table(rows))


def _waves_text(plan: Plan) -> str:
    lines = [f"shortcut {plan.shortcut}: dry run, nothing was changed; steps in order:"]
    for number, wave in enumerate(plan.waves(), start=1):
        for index, step in enumerate(wave):
            label = f"{number:>3}" if index == 0 else "   "
            lines.append(f"{label}  {step.cluster:<12} {step.what}")
    lines.append(
        "(steps with one number can run at the same time; each starts once the steps it needs "
        "are done)"
    )
    return "\n".join(lines)


def _yaml_stream(document: Mapping[str, Any]) -> str:
    import yaml

    def commented(data: object) -> str:
        dumped = yaml.safe_dump(data, sort_keys=False).rstrip("\n")
        return "\n".join(f"#   {line}" for line in dumped.splitlines())

    lines = [
        f"# Dry run of shortcut {document['shortcut']}: nothing was changed.",
        f"# Gateway server on {document['server']}, client on {document['client']}. The objects",
        "# `create` makes, per edge and in order, are comments here ('<at run time: ...>' marks",
        "# values only the run learns): this file is for the central cluster.",
    ]
    for cluster, objects in document["objects"].items():
        lines.append(f"#\n# On {cluster}:")
        lines += [commented(manifest) + "\n#   ---" for manifest in objects]
    lines.append("#\n# The same shortcut for the operator: create the Secrets it names, in the")
    lines.append("# namespace you apply it to, then `kubectl apply -f` this file in central:")
    lines += [f"#   {command}" for command in document["secrets"]]
    resource = yaml.safe_dump(document["virtualNodeShortcut"], sort_keys=False)
    return "\n".join(lines) + "\n---\n" + resource


def show_dry_run(
    env: Environment,
    output: OutputFormat,
    mode: DryRun,
    preflight: Preflight,
    timeout: int,
    wait: bool = True,
) -> None:
    """Print the dry run of ``preflight``'s plan; a server-side refusal fails the command."""
    from liqoshortcut.cli.traffic_flags import planned
    from liqoshortcut.core.dry_run import document, resource
    from liqoshortcut.errors import PreconditionFailed
    from liqoshortcut.workflow.dry_run import Verdict, server_dry_run
    from liqoshortcut.workflow.foreign import refuse_foreign

    plan, spec = preflight.plan, preflight.spec
    refuse_foreign(plan, preflight.edges)  # read only: what a real run would refuse, refused
    if mode is DryRun.CLIENT:
        traffic = planned(spec.traffic, wait)
        show_client(env, output, document(spec, plan, timeout), plan, traffic)
        return
    namespace = preflight.central_namespace
    answers = server_dry_run(
        plan, preflight.edges, preflight.central, resource(spec, plan, timeout), namespace
    )
    show_server(env, output, answers)
    refused = [answer for answer in answers if answer.verdict is Verdict.REFUSED]
    if refused:
        raise PreconditionFailed(
            f"{len(refused)} object(s) refused in the server-side dry run, first: "
            f"{refused[0].message}"
        )
