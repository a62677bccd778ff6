"""The documents that walk a request through the code name files that exist.

docs/architecture.md (and the README's diagram that points at it) and docs/router.md promise that a new engineer
can follow a request to the database by file names alone; a renamed or removed module must not leave them
pointing at nothing. A name may be written relative to its package (``clients/master_client.py``, or just
``repository.py`` under a subgraph): it only has to be the end of a tracked path.
"""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = ("docs/architecture.md", "docs/router.md", "README.md")
# A source file name, with or without folders before it: `router/app.py`, repository.py, schema/entities.py.
SOURCE_NAME = re.compile(r"(?<![\w./-])((?:[\w-]+/)*[\w-]+\.py)\b")


@cache
def tracked() -> tuple[str, ...]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    names = [name for name in listed.decode().split("\0") if name]
    untracked = subprocess.run(
        ["git", "ls-files", "-z", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, check=True
    ).stdout  # new files of a change not committed yet
    return tuple(names + [name for name in untracked.decode().split("\0") if name])


def missing_in(document: str) -> list[str]:
    text = (ROOT / document).read_text(encoding="utf-8")
    files = tracked()
    return [
        f"{document}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(1)}"
        for m in SOURCE_NAME.finditer(text)
        if not any(f == m.group(1) or f.endswith("/" + m.group(1)) for f in files)
    ]


def test_the_request_walkthrough_names_real_files() -> None:
    missing = [line for document in DOCUMENTS for line in missing_in(document)]
    assert not missing, "these documents name source files that do not exist:\n" + "\n".join(missing)


def test_the_check_reads_the_names() -> None:
    text = (ROOT / "docs/architecture.md").read_text(encoding="utf-8")
    names = {m.group(1) for m in SOURCE_NAME.finditer(text)}
    assert {"router/app.py", "subgraphs/transactions/service/purchases.py", "repository.py"} <= names
    assert not any(f.endswith("/no_such_module.py") for f in tracked())
