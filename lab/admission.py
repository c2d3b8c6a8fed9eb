"""Make a lab API server refuse writes, with a real ValidatingAdmissionPolicy (not a mock).

The refusal comes from the API server's own admission chain, exactly as a site's policy engine
would refuse an object: the tests use it to inject an API error at one step of liqo-shortcut's
sequence, and the lab's fault switches use it to make one of Liqo's real controllers fail a write.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kubernetes import client
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

ENFORCEMENT_TIMEOUT = 30.0  # seconds; a policy is in force about a second after it is created


def refuse(
    api: ApiClient,
    name: str,
    rules: list[dict[str, Any]],
    refused: str,
    message: str,
    labels: dict[str, str] | None = None,
) -> None:
    """Create policy and binding ``name``: the writes ``rules`` match where the CEL expression
    ``refused`` holds are denied with ``message``. Not yet in force when this returns."""
    admission = client.AdmissionregistrationV1Api(api)
    metadata = {"name": name, "labels": labels or {}}
    admission.create_validating_admission_policy(
        client.V1ValidatingAdmissionPolicy.model_validate(
            {
                "metadata": metadata,
                "spec": {
                    "failurePolicy": "Fail",
                    "matchConstraints": {"resourceRules": rules},
                    "validations": [{"expression": f"!({refused})", "message": message}],
                },
            }
        )
    )
    admission.create_validating_admission_policy_binding(
        client.V1ValidatingAdmissionPolicyBinding.model_validate(
            {"metadata": metadata, "spec": {"policyName": name, "validationActions": ["Deny"]}}
        )
    )


def withdraw(api: ApiClient, name: str) -> None:
    """Delete policy and binding ``name``, either of them already gone or not."""
    admission = client.AdmissionregistrationV1Api(api)
    for delete in (
        admission.delete_validating_admission_policy_binding,
        admission.delete_validating_admission_policy,
    ):
        try:
            delete(name)
        except ApiException as error:
            if error.status != 404:
                raise


def wait_until_enforced(
    probe: Callable[[], object], message: str, what: str, *, enforced: bool = True
) -> None:
    """Policies take effect (and stop) a moment after they are created (deleted): run ``probe``,
    a dry-run write the policy refuses with ``message``, until it is refused (or accepted)."""
    deadline = time.monotonic() + ENFORCEMENT_TIMEOUT
    while time.monotonic() < deadline:
        try:
            probe()
        except ApiException as error:
            if message not in str(error.body):
                raise
            if enforced:
                return
        else:
            if not enforced:
                return
        time.sleep(0.2)
    state = "took effect" if enforced else "stopped refusing"
    raise RuntimeError(f"the admission policy on {what} never {state}")
