"""``python -m biller [--host H] [--port P] [--no-seed]``: serve the biller with uvicorn."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m biller", description="the embedded STS biller")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--no-seed", action="store_true", help="do not load the demo meter register")
    args = parser.parse_args(argv)

    from setrum_common.service_app import load_settings, serve

    from .app import create_app
    from .settings import BillerSettings

    settings = load_settings("biller", BillerSettings)
    if settings is None:
        return 2
    return serve(
        "biller",
        settings,
        create_app,
        host=args.host,
        port=args.port,
        overrides={"seed_demo_data": False} if args.no_seed else {},
    )


if __name__ == "__main__":
    sys.exit(main())
