"""An edge's credentials from a Secret in the central cluster: how the operator reaches an edge.

A VirtualNodeShortcut names, per edge, a Secret in its own namespace whose ``kubeconfig`` key holds
a self-contained kubeconfig (what `liqoctl generate peering-user` prints). The Secret is read by
name only (the operator may get Secrets, never list them), its content is parsed in memory and
never quoted in a message, and kubeconfigs that would run a program inside the operator's pod
(exec or auth-provider plugins) are refused unless the operator was started with an opt-in.
"""

from __future__ import annotations

import base64
import binascii

from liqoshortcut.errors import PreconditionFailed, UsageError
from liqoshortcut.kube import rest
from liqoshortcut.kube.clients import Cluster
from liqoshortcut.kube.errors import Action, NotFound, api_call
from liqoshortcut.kube.kubeconfig import ResolvedContext, kubeconfig_from_bytes
from liqoshortcut.kube.resources import SECRET

KUBECONFIG_KEY = "kubeconfig"  # the key `kubectl create secret generic --from-file=kubeconfig=`


class CredentialsInvalid(PreconditionFailed):
    """An edge's Secret is missing, lacks its kubeconfig, or holds one that cannot be used."""


def edge_context(
    central: Cluster, namespace: str, secret_name: str, *, allow_plugins: bool = False
) -> ResolvedContext:
    """The current context of the kubeconfig in Secret ``namespace/secret_name`` on central."""
    where = f"Secret {namespace}/{secret_name}"
    fix = f"let the operator get secrets in {namespace}"
    try:
        with api_call(central, Action("get", SECRET, namespace, secret_name), fix=fix):
            secret = rest.request(central, "GET", rest.path(SECRET, namespace, secret_name))
    except NotFound:
        raise CredentialsInvalid(
            f"{where} does not exist: create it with the edge's kubeconfig under the key "
            f"{KUBECONFIG_KEY!r}"
        ) from None
    encoded = (secret.get("data") or {}).get(KUBECONFIG_KEY)
    if not encoded:
        raise CredentialsInvalid(
            f"{where} has no key {KUBECONFIG_KEY!r}: put the edge's kubeconfig under that key"
        )
    try:
        content = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise CredentialsInvalid(f"{where} key {KUBECONFIG_KEY!r} is not base64 data") from None
    try:
        kubeconfig = kubeconfig_from_bytes(content, where)
        return kubeconfig.resolve(allow_plugins=allow_plugins)
    except UsageError:  # no current context, or one the kubeconfig does not define
        raise CredentialsInvalid(
            f"{where} holds a kubeconfig without a usable current-context: set current-context "
            "in it"
        ) from None
    except PreconditionFailed as error:
        raise CredentialsInvalid(str(error)) from None
