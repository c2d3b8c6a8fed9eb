"""``python -m lab.emulator``: run the Liqo emulator until interrupted."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from lab import build
from lab.emulator.runtime import Emulator

REPO_ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.emulator", description=__doc__)
    parser.add_argument("--kubeconfig", type=Path, default=REPO_ROOT / ".lab" / "kubeconfig")
    parser.add_argument(
        "--faults", type=Path, default=REPO_ROOT / ".lab" / "emulator" / "faults.json"
    )
    parser.add_argument(
        "--context", action="append", help="a context to emulate (repeatable; default: all)"
    )
    parser.add_argument("--liqo-namespace", default="liqo")
    parser.add_argument(
        "--resync", type=float, default=1.0, help="seconds between passes without events"
    )
    parser.add_argument(
        "--latency-interval", type=float, default=10.0, help="Connection latency refresh (s)"
    )
    parser.add_argument(
        "--loss-timeout", type=float, default=10.0, help="seconds without pongs before Error"
    )
    parser.add_argument(
        "--pods-only",
        action="store_true",
        help="only node, kubelet, load balancer and gateway pods (Liqo's controllers run)",
    )
    parser.add_argument(
        "--real-gateways",
        action="store_true",
        help="run Liqo's gateway binaries for the gateway pods (LAB_DATAPATH=real)",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    emulator = Emulator(
        args.kubeconfig,
        args.context,
        faults=args.faults,
        liqo_namespace=args.liqo_namespace,
        resync=args.resync,
        latency_interval=args.latency_interval,
        loss_timeout=args.loss_timeout,
        pods_only=args.pods_only,
        gateway_binaries=build.liqo_gateway_binaries() if args.real_gateways else None,
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    emulator.start()
    done.wait()
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
