"""Objects made by someone else are reported and left alone, before the run changes anything.

A Liqo network peering between the two edges made by liqoctl or by hand is found by Liqo's remote
cluster label; an object of any kind sitting where the plan would create one is found by name.
Either refuses the whole run up front, so a refusal never leaves half a shortcut to roll back.
So does our own shortcut with its gateway server on the other edge: the plan would put a
GatewayServer beside the GatewayClient there (both rendering the same gateway pod), and moving
a live tunnel's server is a teardown and a new connect, which the user asks for explicitly.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Final

from liqoshortcut.core.forge import Manifest
from liqoshortcut.core.naming import is_owned_by
from liqoshortcut.core.plan import Action, Plan, Side, Step
from liqoshortcut.errors import PreconditionFailed
from liqoshortcut.kube import discovery, objects
from liqoshortcut.kube.clients import Cluster
from liqoshortcut.kube.resources import by_kind

# The gateway kind that must not be on a side: the opposite side's.
OTHER_GATEWAY: Final = {Side.SERVER: "GatewayClient", Side.CLIENT: "GatewayServer"}


def refuse_foreign(plan: Plan, clusters: Mapping[str, Cluster]) -> dict[str, Manifest | None]:
    """Raise PreconditionFailed if anything in the plan's way was not made by this shortcut.

    Returns what was found where each CREATE step would create its object (by step id): ours,
    or None, so that the run does not read each of them a second time. The two edges are read
    at once; the server's edge is judged first.
    """
    with ThreadPoolExecutor(max_workers=2) as pool:
        sides = [
            pool.submit(_refuse_on, plan, clusters, side) for side in (Side.SERVER, Side.CLIENT)
        ]
    return {step_id: obj for side in sides for step_id, obj in side.result().items()}


def _refuse_on(
    plan: Plan, clusters: Mapping[str, Cluster], side: Side
) -> dict[str, Manifest | None]:
    edge, peer = plan.edges[side], plan.edges[side.other]
    cluster = clusters[edge.name]
    found = discovery.peering_objects(cluster, edge.namespace, peer.cluster_id)
    foreign = [obj for obj in found if not is_owned_by(dict(obj.labels), plan.shortcut)]
    if foreign:
        names = ", ".join(f"{obj.kind} {obj.namespace}/{obj.name}" for obj in foreign)
        raise PreconditionFailed(
            f"{cluster.name} already has a Liqo network peering with "
            f"{clusters[peer.name].name} not made by liqo-shortcut ({names}); "
            "it is left alone: remove it with liqoctl network reset to let liqo-shortcut "
            "manage the pair"
        )
    # Ours, but the other side's gateway: the shortcut exists with the other server edge.
    crossed = [obj for obj in found if obj.kind == OTHER_GATEWAY[side]]
    if crossed:
        server = edge.name if side is Side.CLIENT else peer.name
        asked = peer.name if side is Side.CLIENT else edge.name
        where = ", ".join(f"{obj.kind} {obj.namespace}/{obj.name}" for obj in crossed)
        raise PreconditionFailed(
            f"shortcut {plan.shortcut} has its gateway server on {server}, not on {asked} "
            f"({cluster.name} holds its {where}): to move the server, delete the shortcut, "
            f"then create it again with {asked} as the server edge"
        )
    return {
        step.id: find_ours(cluster, step, plan.shortcut)
        for step in plan.steps
        if step.action is Action.CREATE and step.side is side
    }


def find_ours(cluster: Cluster, step: Step, shortcut: str) -> Manifest | None:
    """The object ``step`` creates, if it exists and is ``shortcut``'s; None if it is absent.

    Raises PreconditionFailed if it exists and carries no label of ours.
    """
    found = objects.get(cluster, by_kind(step.kind), step.name, step.namespace)
    if found is None or is_owned_by(found["metadata"].get("labels"), shortcut):
        return found
    where = f"{step.namespace}/" if step.namespace else ""
    raise PreconditionFailed(
        f"{step.kind} {where}{step.name} on {cluster.name} exists and was not made by "
        "liqo-shortcut; it is left alone"
    )
