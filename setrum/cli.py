"""``setrum`` — the command line of the whole system.

setrum dev [--data-dir DIR] [--no-seed] [--no-web]   run biller, payments, subgraphs, router and web app
setrum token inspect --meter N TOKEN         decode a token as the meter would (support tool)
setrum keys                                  print fresh service keys (one Ed25519 keypair per service) for .env
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from setrum_common.trust.service_keys import generate_deployment_keys

__all__ = ["main"]


def _web_app(skip: bool) -> Path | None:
    """Build the customer web app when its sources changed; None (with a warning) if it cannot be."""
    if skip:
        return None
    from .webapp import WebAppBuildError, ensure_built, needs_build

    if needs_build():
        print("Building the web app (npm ci, npm run build)…", flush=True)
    try:
        return ensure_built()
    except WebAppBuildError as error:
        print(f"setrum dev: the web app is not served: {error}", file=sys.stderr)
        return None


def _dev(args: argparse.Namespace) -> int:
    from .launcher import System

    web_app = _web_app(args.no_web)
    data_dir = Path(args.data_dir)
    system = System(data_dir, seed=not args.no_seed, log_dir=data_dir / "logs", web_app_dir=web_app)
    print("Starting Setrum (biller, payments, users, master, transactions, router)…", flush=True)
    try:
        system.start()
    except RuntimeError as error:
        print(f"setrum dev: {error}", file=sys.stderr)
        return 1
    p = system.ports
    print(
        "\nSetrum is running:\n"
        + (f"  web app             {system.web_app_url}\n" if system.web_app_url else "")
        + f"  router (GraphiQL)   http://127.0.0.1:{p.router}/graphql\n"
        f"  users subgraph      http://127.0.0.1:{p.users}/graphql\n"
        f"  master subgraph     http://127.0.0.1:{p.master}/graphql\n"
        f"  transactions        http://127.0.0.1:{p.transactions}/graphql\n"
        f"  biller              http://127.0.0.1:{p.biller}\n"
        f"  payments (simulator) http://127.0.0.1:{p.payments}/pay   (or: python -m payments pay <VA number>)\n"
        f"  data and logs       {system.data_dir}\n"
        "Press Ctrl-C to stop.",
        flush=True,
    )
    stopped = threading.Event()

    def _stop(*_: object) -> None:
        stopped.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        while not stopped.wait(1.0):
            dead = [name for name, proc in system.processes.items() if proc.poll() is not None]
            if dead:
                print(f"setrum dev: {', '.join(dead)} stopped unexpectedly; shutting down", file=sys.stderr)
                return 1
    finally:
        print("\nStopping…", flush=True)
        system.stop()
        print("Stopped.", flush=True)
    return 0


def _token(argv: list[str]) -> int:
    from sts.cli import inspect_command

    if not argv or argv[0] != "inspect":
        print("usage: setrum token inspect --meter NUMBER TOKEN", file=sys.stderr)
        return 2
    return inspect_command(argv[1:])


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="setrum", description="Setrum prepaid electricity vending")
    sub = parser.add_subparsers(dest="command", required=True)
    dev = sub.add_parser("dev", help="run the whole system on localhost (SQLite, demo data)")
    dev.add_argument("--data-dir", default="data", help="where SQLite files and logs go (default: ./data)")
    dev.add_argument("--no-seed", action="store_true", help="do not load the demo data")
    dev.add_argument("--no-web", action="store_true", help="do not build or serve the customer web app")
    sub.add_parser("token", help="token tools: `setrum token inspect --meter N TOKEN`", add_help=False)
    sub.add_parser("keys", help="print fresh service keys for a deployment's .env (one Ed25519 keypair per service)")
    if argv[:1] == ["token"]:
        return _token(argv[1:])
    args = parser.parse_args(argv)
    if args.command == "dev":
        return _dev(args)
    if args.command == "keys":
        for name, value in generate_deployment_keys().items():
            print(f"{name}={value}")
        return 0
    parser.print_help()
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
