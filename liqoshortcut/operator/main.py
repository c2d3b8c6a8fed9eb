"""`kubectl shortcut operator`: run the VirtualNodeShortcut operator against the central cluster.

The CLI never imports kopf, so its `operator` command hands its arguments to this module in a
fresh interpreter (`python -m liqoshortcut.operator`); the options are defined here, once, and
follow kopf's own flag names where they mean the same (the Helm chart's Deployment passes
``--namespace``, ``--standalone``/``--peering``, ``--log-level``, ``--log-format`` and
``--liveness``). A bad option gets one line on stderr and exit code 2, as in the rest of the CLI.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, NoReturn

import kopf

from liqoshortcut.core.pathhealth import HealthSettings
from liqoshortcut.errors import ExitCode, ShortcutError, exit_code_for
from liqoshortcut.operator.handlers import (
    DEFAULT_RESYNC_SECONDS,
    OperatorOptions,
    Shortcuts,
    configure,
    register,
)
from liqoshortcut.operator.login import central
from liqoshortcut.operator.router import DEFAULT_HEALTH_INTERVAL, Router

PROG: Final = "kubectl shortcut operator"
LOG_LEVELS: Final = ("debug", "info", "warning", "error")
LOG_FORMATS: Final = {
    "plain": kopf.LogFormat.PLAIN,
    "full": kopf.LogFormat.FULL,
    "json": kopf.LogFormat.JSON,
}
DEFAULT_WORKERS: Final = 8  # passes at once; each mostly waits on API servers
MIN_RESYNC_SECONDS: Final = 2.0  # a pass over a healthy shortcut takes about a second
MIN_HEALTH_INTERVAL: Final = 0.5  # a round is a few lists on central and two per shortcut
MIN_STALE_AFTER: Final = 1.0


@dataclass(frozen=True)
class Arguments:
    kubeconfig: Path | None
    context: str | None
    namespaces: tuple[str, ...]
    peering: str | None  # None: standalone
    log_level: str
    log_format: str
    liveness: str | None
    options: OperatorOptions
    workers: int


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(ExitCode.USAGE, f"error: {message} (see {PROG} --help)\n")


def _at_least(
    minimum: float, unit: str = "seconds", kind: type[float] | type[int] = float
) -> Callable[[str], float]:
    def parse(value: str) -> float:
        number = kind(value)
        if number < minimum:
            raise argparse.ArgumentTypeError(f"give at least {minimum:g} {unit}")
        return number

    parse.__name__ = kind.__name__  # argparse names the type in its "invalid ... value" line
    return parse


def parser() -> argparse.ArgumentParser:
    parse = _Parser(
        prog=PROG,
        description=(
            "Make, keep healthy and tear down the shortcuts that VirtualNodeShortcut resources "
            "in the central cluster ask for. Runs in the foreground until interrupted."
        ),
    )
    parse.add_argument(
        "--kubeconfig",
        type=Path,
        help="kubeconfig of the central cluster "
        "(default: the pod's service account, else KUBECONFIG, ~/.kube/config)",
    )
    parse.add_argument("--context", help="context of the central cluster (default: current)")
    parse.add_argument(
        "-n",
        "--namespace",
        dest="namespaces",
        action="append",
        default=[],
        help="namespace whose VirtualNodeShortcuts to handle; repeat for more (default: the "
        "context's namespace, or the pod's)",
    )
    mode = parse.add_mutually_exclusive_group()
    mode.add_argument(
        "--standalone", action="store_true", help="run alone, without kopf peering (the default)"
    )
    mode.add_argument(
        "--peering", metavar="NAME", help="coordinate with other replicas through this KopfPeering"
    )
    parse.add_argument("--log-level", choices=LOG_LEVELS, default="info")
    parse.add_argument("--log-format", choices=list(LOG_FORMATS), default="plain")
    parse.add_argument(
        "--liveness",
        metavar="URL",
        help="serve kopf's liveness probe, e.g. http://0.0.0.0:8080/healthz",
    )
    parse.add_argument(
        "--resync",
        type=_at_least(MIN_RESYNC_SECONDS),
        default=DEFAULT_RESYNC_SECONDS,
        metavar="SECONDS",
        help="seconds between two passes over a shortcut: drift repair and health "
        f"(default {DEFAULT_RESYNC_SECONDS:.0f})",
    )
    parse.add_argument(
        "--health-interval",
        type=_at_least(MIN_HEALTH_INTERVAL),
        default=DEFAULT_HEALTH_INTERVAL,
        metavar="SECONDS",
        help="seconds between two health checks of every shortcut, after which the selected "
        f"Services' path is decided again (default {DEFAULT_HEALTH_INTERVAL:g})",
    )
    parse.add_argument(
        "--stale-after",
        type=_at_least(MIN_STALE_AFTER),
        default=HealthSettings().stale_after,
        metavar="SECONDS",
        help="a Connection whose latency Liqo has not refreshed for this long is unhealthy "
        f"(default {HealthSettings().stale_after:g}: three of Liqo's 10 s refreshes)",
    )
    parse.add_argument(
        "--healthy-checks",
        type=_at_least(1, "check", int),
        default=HealthSettings().healthy_samples,
        metavar="COUNT",
        help="healthy checks in a row before Services return to a shortcut, and Auto's "
        f"checks in a row before it changes path (default {HealthSettings().healthy_samples})",
    )
    parse.add_argument(
        "--allow-exec-plugins",
        action="store_true",
        help="accept edge kubeconfigs that run exec or auth-provider plugins inside the operator",
    )
    parse.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_WORKERS,
        help=f"passes run at once (default {DEFAULT_WORKERS})",
    )
    return parse


def parse_arguments(argv: Sequence[str]) -> Arguments:
    parsed = parser().parse_args(list(argv))
    return Arguments(
        kubeconfig=parsed.kubeconfig,
        context=parsed.context,
        namespaces=tuple(parsed.namespaces),
        peering=parsed.peering,
        log_level=parsed.log_level,
        log_format=parsed.log_format,
        liveness=parsed.liveness,
        options=OperatorOptions(
            resync_seconds=parsed.resync,
            allow_plugins=parsed.allow_exec_plugins,
            health_interval=parsed.health_interval,
            health=HealthSettings(
                stale_after=parsed.stale_after,
                healthy_samples=int(parsed.healthy_checks),
                faster_samples=int(parsed.healthy_checks),
            ),
        ),
        workers=parsed.workers,
    )


async def serve(
    arguments: Arguments,
    *,
    stop_flag: threading.Event | asyncio.Event | None = None,
    ready_flag: threading.Event | asyncio.Event | None = None,
) -> None:
    """Run the operator until ``stop_flag`` is set (or a signal, when in the main thread)."""
    reached = central(arguments.kubeconfig, arguments.context)
    namespaces = arguments.namespaces or (reached.namespace,)
    options = arguments.options
    router = Router(reached.cluster, namespaces, options.health, options.health_interval)
    registry = kopf.OperatorRegistry()
    kopf.on.login(registry=registry)(reached.login)
    register(registry, Shortcuts(reached.cluster, options, router))
    settings = kopf.OperatorSettings()
    configure(settings, arguments.workers)
    stop_routing = threading.Event()
    routing = threading.Thread(target=router.run, args=(stop_routing,), name="router", daemon=True)
    routing.start()
    try:
        await kopf.operator(
            registry=registry,
            settings=settings,
            standalone=arguments.peering is None,
            peering_name=arguments.peering,
            namespaces=namespaces,
            liveness_endpoint=arguments.liveness,
            stop_flag=stop_flag,
            ready_flag=ready_flag,
        )
    finally:
        stop_routing.set()
        routing.join()


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    kopf.configure(
        debug=arguments.log_level == "debug",
        quiet=arguments.log_level in ("warning", "error"),
        log_format=LOG_FORMATS[arguments.log_format],
    )
    if arguments.log_level == "error":
        logging.getLogger().setLevel(logging.ERROR)
    try:
        asyncio.run(serve(arguments))
    except ShortcutError as error:  # before kopf starts: central unreachable, bad kubeconfig
        sys.stderr.write(f"error: {error}\n")
        return exit_code_for(error)
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    return ExitCode.SUCCESS
