"""Debian's chromium for the browser tests (GraphiQL, the web app), with flags that work in CI."""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["CHROMIUM", "CHROMIUM_FLAGS"]

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
