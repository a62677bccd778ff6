"""`compose` command: config -> supergraph file, or `--check` that the written one is current.

Exit codes: 0 success (or up to date), 1 composition failed / stale / bad config. The lead wires this
into `python -m router compose`; `diff` lives in `diff.py`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from router.errors import CompositionConfigError

from .compose import compose
from .config import DEFAULT_CONFIG_PATH, load_config, load_sources
from .diff import diff_command

__all__ = ["compose_command", "diff_command"]


def compose_command(argv: list[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    parser = argparse.ArgumentParser(prog="compose", description="Compose subgraph SDLs into a supergraph SDL.")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG_PATH, help="composition config (YAML)")
    parser.add_argument("--output", type=Path, default=None, help="supergraph file (default: from the config)")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; fail if composition fails or the output file is stale"
    )
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        sources = load_sources(config)
    except CompositionConfigError as exc:
        print(f"ERROR {exc}", file=err)
        return 1
    result = compose(sources)
    for hint in result.hints:
        print(f"HINT [{hint.code}] {hint.location}: {hint.message}", file=err)
    for error in result.errors:
        print(f"ERROR [{error.code}] {error.location}: {error.message}", file=err)
    if result.supergraph_sdl is None:
        print(f"composition failed with {len(result.errors)} error(s)", file=err)
        return 1
    output: Path = args.output or config.output
    if args.check:
        try:
            current = output.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != result.supergraph_sdl:
            state = "missing" if current is None else "stale"
            print(f"ERROR {output} is {state}: run the compose command to regenerate it", file=err)
            return 1
        print(f"{output} is up to date", file=out)
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(result.supergraph_sdl, encoding="utf-8")
    print(f"wrote {output} ({len(sources)} subgraphs)", file=out)
    return 0
