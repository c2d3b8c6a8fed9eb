"""`create`'s traffic flags read as the spec's traffic policy, and what the dry run says a run
would do with central's Services: the command line's spelling of `core.traffic`, kept here so
that no layer below the CLI knows a flag's name.
"""

from __future__ import annotations

from typing import Final

from liqoshortcut.core.routing import USE_DIRECT_CONNECTIONS
from liqoshortcut.core.selectors import SelectorSyntaxError, parse
from liqoshortcut.core.traffic import LabelSelector, PathMode, ServiceSelection, TrafficPolicy
from liqoshortcut.errors import UsageError
from liqoshortcut.workflow.routing import describe

# The command line's spelling of the spec's values (`core.traffic`), lower case as kubectl's.
SERVICES_FLAG: Final = {"none": "None", "all": "All"}
PATH_FLAG: Final = {"direct": "Direct", "hub": "Hub", "auto": "Auto"}
AUTO_NEEDS_THE_OPERATOR: Final = (
    "--path auto needs the operator's repeated measurements; apply the VirtualNodeShortcut "
    "from --dry-run=client -o yaml instead"
)


def traffic_policy(
    services: str | None,
    service_selector: str | None,
    namespace_selector: str | None,
    path: str,
) -> TrafficPolicy:
    """The spec's traffic policy from ``create``'s flags; a selector means Selected.

    ``services`` is None when ``--services`` was not given (then: none, or Selected when a
    selector is); an explicit ``--services`` next to a selector is refused, whatever its value.
    """
    selectors = {
        "--service-selector": service_selector,
        "--namespace-selector": namespace_selector,
    }
    given = [flag for flag, text in selectors.items() if text is not None]
    if given and services is not None:
        what = "every Service" if services == "all" else "no Service"
        raise UsageError(
            f"--services {services} selects {what} and cannot go with {' and '.join(given)}: "
            f"drop --services to select by {'them' if len(given) > 1 else 'it'}"
        )
    parsed = {flag: _selector(flag, text) for flag, text in selectors.items() if text is not None}
    return TrafficPolicy(
        services="Selected" if given else SERVICES_FLAG[services or "none"],
        service_selector=parsed.get("--service-selector"),
        namespace_selector=parsed.get("--namespace-selector"),
        path=PATH_FLAG[path],
    )


def _selector(flag: str, text: str) -> LabelSelector:
    if not text.strip():
        # kubectl's -l '' selects everything; here it is more likely an unset shell variable.
        raise UsageError(
            f"{flag} is empty: give labels such as app=web, or --services all for every Service"
        )
    try:
        return parse(text)
    except SelectorSyntaxError as error:
        raise UsageError(f"invalid {flag}: {error}") from None


def require_imperative(policy: TrafficPolicy) -> None:
    """Refuse what only the operator can do, before anything is changed."""
    if policy.path == PathMode.AUTO:
        raise UsageError(AUTO_NEEDS_THE_OPERATOR)


def planned(policy: TrafficPolicy, wait: bool) -> str | None:
    """What a run of ``create`` would do with central's Services, for the dry run's steps
    (None when the policy selects no Service)."""
    if policy.services == ServiceSelection.NONE:
        return None
    selected = describe(policy)
    if policy.path == PathMode.HUB:
        return f"{selected} stay on the hub path (--path hub): no Service is annotated"
    if policy.path == PathMode.AUTO:
        return (
            f"the operator routes {selected} over the faster path (--path auto): apply the "
            "VirtualNodeShortcut, create alone refuses it"
        )
    if not wait:
        return f"no Service is routed (--no-wait): {selected} would be"
    return f"then, on central: annotate {selected} to use the shortcut ({USE_DIRECT_CONNECTIONS})"
