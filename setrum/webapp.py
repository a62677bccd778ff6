"""The customer web app in ``web/``: its API schema, and building it when its sources changed.

The app is a static bundle (Vite) that the router serves at ``/app/`` (``ROUTER_WEB_APP_DIR``).
Its typed GraphQL documents are generated from ``web/schema.graphql``, the client-facing API
schema of ``schema/supergraph.graphql`` (``@inaccessible`` elements and federation plumbing
removed), which this module writes and checks like ``router compose --check``.

  python -m setrum.webapp schema [--check]   write (or check) web/schema.graphql
  python -m setrum.webapp build [--force]    npm ci when the lock file changed, then npm run build
  python -m setrum.webapp check              schema current, and `graphql-codegen --check`
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "API_SCHEMA",
    "APP_PATH",
    "DIST_DIR",
    "WEB_DIR",
    "WebAppBuildError",
    "api_schema_sdl",
    "codegen_is_current",
    "ensure_built",
    "install_packages",
    "main",
    "needs_build",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
WEB_DIR = REPO_ROOT / "web"
DIST_DIR = WEB_DIR / "dist"
API_SCHEMA = WEB_DIR / "schema.graphql"
SUPERGRAPH = REPO_ROOT / "schema" / "supergraph.graphql"
APP_PATH = "/app/"

# What the bundle is made from: a change to any of these makes the built files stale.
_BUILD_INPUTS = ("src", "index.html", "public", "package-lock.json", "vite.config.ts", "tsconfig.json")
_HEADER = (
    "# The router's client-facing API schema, generated from schema/supergraph.graphql by\n"
    "# `python -m setrum.webapp schema`; GraphQL Code Generator reads it. Do not edit.\n\n"
)


class WebAppBuildError(RuntimeError):
    """npm is missing or a build step failed; the message says which and how to see why."""


def api_schema_sdl(supergraph: Path = SUPERGRAPH) -> str:
    from router.supergraph import load_supergraph

    return _HEADER + load_supergraph(supergraph.read_text(encoding="utf-8")).api_schema_sdl().strip() + "\n"


def _files(paths: Iterable[Path]) -> Iterable[Path]:
    for path in paths:
        if path.is_dir():
            yield from (p for p in path.rglob("*") if p.is_file())
        elif path.is_file():
            yield path


def needs_build(web_dir: Path = WEB_DIR) -> bool:
    """True when ``dist/index.html`` is missing or older than any build input."""
    index = web_dir / "dist" / "index.html"
    if not index.is_file():
        return True
    built = index.stat().st_mtime
    return any(f.stat().st_mtime > built for f in _files(web_dir / name for name in _BUILD_INPUTS))


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise WebAppBuildError("npm is not installed (install Node.js 20 or newer, e.g. apt-get install nodejs npm)")
    return npm


def _run(argv: list[str], web_dir: Path, quiet: bool) -> None:
    env = {**os.environ, "NO_UPDATE_NOTIFIER": "1", "npm_config_fund": "false", "npm_config_audit": "false"}
    result = subprocess.run(argv, cwd=web_dir, env=env, capture_output=quiet, text=True, check=False)
    if result.returncode != 0:
        detail = f":\n{result.stdout}{result.stderr}" if quiet else ""
        raise WebAppBuildError(f"`{' '.join(argv[1:])}` failed in {web_dir} (exit {result.returncode}){detail}")


def install_packages(web_dir: Path = WEB_DIR, *, quiet: bool = True) -> None:
    """``npm ci`` when node_modules is missing or older than package-lock.json."""
    stamp = web_dir / "node_modules" / ".package-lock.json"
    lock = web_dir / "package-lock.json"
    if stamp.is_file() and stamp.stat().st_mtime >= lock.stat().st_mtime:
        return
    _run([_npm(), "ci", "--no-audit", "--no-fund"], web_dir, quiet)


def ensure_built(web_dir: Path = WEB_DIR, *, force: bool = False, quiet: bool = True) -> Path:
    """Install the Node packages and build the app if its sources changed; returns ``dist/``."""
    if force or needs_build(web_dir):
        install_packages(web_dir, quiet=quiet)
        _run([_npm(), "run", "build"], web_dir, quiet)
    return web_dir / "dist"


def _schema_command(check: bool) -> int:
    fresh = api_schema_sdl()
    current = API_SCHEMA.read_text(encoding="utf-8") if API_SCHEMA.is_file() else ""
    if check:
        if fresh != current:
            print(
                f"{API_SCHEMA.relative_to(REPO_ROOT)} is stale: run `python -m setrum.webapp schema`", file=sys.stderr
            )
            return 1
        return 0
    if fresh != current:
        API_SCHEMA.write_text(fresh, encoding="utf-8")
        print(f"wrote {API_SCHEMA.relative_to(REPO_ROOT)}; now run `npm run codegen` in web/")
    return 0


def codegen_is_current(web_dir: Path = WEB_DIR) -> tuple[bool, str]:
    """Run ``graphql-codegen --check``: (current?, its output)."""
    install_packages(web_dir)
    result = subprocess.run(
        [_npm(), "run", "--silent", "codegen:check"], cwd=web_dir, capture_output=True, text=True, check=False
    )
    return result.returncode == 0, result.stdout + result.stderr


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m setrum.webapp", description="Setrum's customer web app")
    sub = parser.add_subparsers(dest="command", required=True)
    schema = sub.add_parser("schema", help="write web/schema.graphql from the supergraph")
    schema.add_argument("--check", action="store_true", help="exit 1 when web/schema.graphql is stale")
    build = sub.add_parser("build", help="npm ci (when needed) and npm run build")
    build.add_argument("--force", action="store_true", help="build even when dist/ looks current")
    sub.add_parser("check", help="web/schema.graphql and the generated documents are current")
    args = parser.parse_args(argv)
    try:
        if args.command == "schema":
            return _schema_command(args.check)
        if args.command == "build":
            print(f"built {ensure_built(force=args.force, quiet=False)}")
            return 0
        if _schema_command(check=True):
            return 1
        current, output = codegen_is_current()
        if not current:
            print(f"web/src/gql is stale: run `npm run codegen` in web/\n{output}", file=sys.stderr)
            return 1
        return 0
    except WebAppBuildError as error:
        print(f"setrum.webapp: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
