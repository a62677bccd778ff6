"""``python -m router`` / ``setrum-router``: serve, compose, diff, explain.

``serve`` runs uvicorn (uvloop + httptools when installed); the other subcommands belong to
the composition and planning packages, imported only when used (``serve`` stays light).
"""

from __future__ import annotations

import argparse
import functools
import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = ["main"]

# subcommand -> (help, module, function); the function takes the remaining argv and returns an
# exit code.
_DELEGATED: dict[str, tuple[str, str, str]] = {
    "compose": ("compose subgraph SDLs into a supergraph", "router.composition.compose_cli", "compose_command"),
    "diff": ("compare two supergraphs / schemas", "router.composition.diff", "diff_command"),
    "explain": ("print the query plan of an operation", "router.planning.explain_cli", "explain_command"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="setrum-router", description="Setrum's federation router")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="serve the supergraph over HTTP")
    serve.add_argument("--host", help="bind address (ROUTER_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (ROUTER_PORT, default 4000)")
    serve.add_argument("--supergraph", type=Path, help="supergraph SDL file (ROUTER_SUPERGRAPH)")
    serve.add_argument("--workers", type=int, help="worker processes (hot reload runs in each)")
    for name, (help_text, _, _) in _DELEGATED.items():
        commands.add_parser(name, help=help_text, add_help=False)
    return parser


def _serve(args: argparse.Namespace) -> int:
    import uvicorn
    from pydantic import ValidationError

    from router.settings import RouterSettings

    overrides = {
        k: v
        for k, v in {
            "host": args.host,
            "port": args.port,
            "supergraph": args.supergraph,
            "workers": args.workers,
        }.items()
        if v is not None
    }
    try:
        settings = RouterSettings(**overrides)
    except ValidationError as exc:
        print(f"setrum-router: invalid configuration:\n{exc}", file=sys.stderr)
        return 2
    if not settings.supergraph.is_file():
        print(f"setrum-router: supergraph file not found: {settings.supergraph}", file=sys.stderr)
        return 2
    from setrum_common.http_server import http_protocol
    from setrum_common.logging import configure_logging

    configure_logging("router", json=settings.json_logs, level=settings.log_level.upper())
    from setrum_common.cpu_policy import apply_cpu_policy

    apply_cpu_policy(settings.cpu_policy)  # before any thread or worker starts, so all inherit it
    # Workers re-read the environment, so pass the CLI overrides down that way.
    import os

    os.environ["ROUTER_SUPERGRAPH"] = str(settings.supergraph)
    options: dict[str, Any] = {
        "factory": True,
        "host": settings.host,
        "port": settings.port,
        "loop": _available("uvloop", fallback="asyncio"),
        "http": http_protocol(),  # httptools (else h11); a response's head and body in one send
        "log_config": None,
        "access_log": False,
        "lifespan": "on",
        "timeout_graceful_shutdown": int(settings.shutdown_timeout_s),
    }
    from router.app import worker_config
    from setrum_common.shutdown import GracefulServer
    from setrum_common.workers import run_workers

    # On SIGTERM /ready answers 503 for ROUTER_SHUTDOWN_DRAIN_S, then in-flight requests finish: in the one
    # process, or in every worker when there are several.
    if settings.workers > 1:
        logging = {"json": settings.json_logs, "level": settings.log_level.upper()}
        return run_workers(
            functools.partial(worker_config, options, logging),
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            drain_s=settings.shutdown_drain_s,
            timeout_s=settings.shutdown_timeout_s,
        )
    GracefulServer(uvicorn.Config("router.__main__:_app_from_env", **options), drain_s=settings.shutdown_drain_s).run()
    return 0


def _app_from_env() -> Starlette:
    """uvicorn's app factory: each worker builds its app from the environment, then settles its
    heap (start-up objects out of the collector's way: :mod:`setrum_common.heap`)."""
    from router.app import create_app
    from setrum_common import heap

    app = create_app()
    heap.settle()
    return app


def _available(module: str, *, fallback: str) -> str:
    try:
        importlib.import_module(module)
    except ImportError:
        return fallback
    return module


def _delegate(command: str, argv: list[str]) -> int:
    _, module_name, function_name = _DELEGATED[command]
    function: Callable[[list[str]], int | None] = getattr(importlib.import_module(module_name), function_name)
    return int(function(argv) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in _DELEGATED:
        # Delegated commands parse their own options (including --help).
        return _delegate(argv[0], argv[1:])
    args = _parser().parse_args(argv)
    return _serve(args)


if __name__ == "__main__":
    sys.exit(main())
