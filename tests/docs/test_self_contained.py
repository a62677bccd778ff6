"""The repository stands on its own: nothing it tracks cites a path outside the checkout or a
document the checkout does not contain, and every ``docs/… §Section`` citation names a real heading.

Checked: every file ``git ls-files`` lists (text only), except the exclusions below.
"""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# What cannot be helped: third-party bundles we serve as they were published (GraphiQL, React);
# their text is not ours to edit. And this file, which has to spell the forbidden patterns out.
EXCLUDED_PREFIXES = ("router/http/graphiql/static/",)
EXCLUDED_FILES = {"tests/docs/test_self_contained.py"}

# Paths outside the checkout, and documents that never were in it (the team's workbench).
OUTSIDE = re.compile(
    r"(?<![\w.])/work/"  # an absolute path on the build machine
    r"|\.\./shared\b"  # the workbench beside the checkout
    r"|\bshared/(?:domain|peers|notes)\b"
    r"|\b(?:DOMAIN|RUN|CONTRACT|STYLE)\.md\b"
    r"|\bnotes §"  # "notes §3.9": the router notes
    r"|\b(?:federation-router|strawberry-federation)\.md\b"
)
MARKDOWN_NAME = re.compile(r"(?<![\w./-])((?:[\w-]+/)*[\w-]+\.md)\b")
# `docs/domain.md §Price and kWh`, `bench/README.md` §Method: the section must be a heading there.
SECTION_CITATION = re.compile(r"\b((?:docs/[\w-]+|bench/README|README)\.md)`?\s+§\s?([^\n]+)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.M)
# A numbered section ("5.2", not "5.2a"): a citation's number names the heading with that number.
SECTION_NUMBER = re.compile(r"(\d+(?:\.\d+)*)(?![\d.]*\w)")


@cache
def tracked_files() -> tuple[str, ...]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return tuple(name for name in listed.decode().split("\0") if name)


def _text(name: str) -> str | None:
    try:
        return (ROOT / name).read_text(encoding="utf-8")
    except (UnicodeDecodeError, IsADirectoryError, FileNotFoundError):  # binary, submodule, deleted
        return None


@cache
def _headings(document: str) -> tuple[str, ...]:
    text = _text(document)
    return () if text is None else tuple(h.strip("`* ") for h in HEADING.findall(text))


def problems_in(name: str) -> list[str]:
    text = _text(name)
    if text is None:
        return []
    found = [
        f"{name}:{_line(text, m.start())}: cites {m.group(0)!r}, outside the repository" for m in OUTSIDE.finditer(text)
    ]
    known = {Path(f).name for f in tracked_files()}
    for match in MARKDOWN_NAME.finditer(text):
        cited = match.group(1)
        exists = (ROOT / cited).is_file() or (ROOT / name).parent.joinpath(cited).is_file()
        if not exists and ("/" in cited or cited not in known):
            found.append(f"{name}:{_line(text, match.start())}: cites {cited}, which the repository does not have")
    for match in SECTION_CITATION.finditer(text):
        document, rest = match.groups()
        if not (ROOT / document).is_file():
            continue  # reported above
        if not any(_names(heading, rest) for heading in _headings(document)):
            found.append(f"{name}:{_line(text, match.start())}: {document} has no section {rest.strip()!r}")
    return found


def _names(heading: str, cited: str) -> bool:
    """``§Price and kWh worked example`` names "Price and kWh"; ``§The public benchmark workload)``
    names "The public benchmark workload (`bench/peers/`)"."""
    number = SECTION_NUMBER.match(cited)
    if number is not None:  # ``§5.2.`` at a sentence's end names "5.2 Subgraph rules"
        heading_number = SECTION_NUMBER.match(heading)
        return heading_number is not None and heading_number.group(1) == number.group(1)
    words = re.split(r"[,;)`'\"]", cited, maxsplit=1)[0].strip()
    return cited.startswith(heading) or (len(words) >= 3 and heading.startswith(words))


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _checked() -> list[str]:
    return [name for name in tracked_files() if name not in EXCLUDED_FILES and not name.startswith(EXCLUDED_PREFIXES)]


def test_no_tracked_file_cites_anything_outside_the_repository() -> None:
    problems = [p for name in _checked() for p in problems_in(name)]
    assert not problems, "\n".join(problems)


def test_the_check_catches_what_it_is_for() -> None:
    # The detector itself, on text that must fail and text that must pass.
    assert OUTSIDE.search("see /work/shared/domain/DOMAIN.md") and OUTSIDE.search("(notes §3.9)")
    assert OUTSIDE.search("Path('../shared/peers')") and OUTSIDE.search("RUN.md §8")
    assert not OUTSIDE.search("bench/.work/node") and not OUTSIDE.search("docs/domain.md §Limits")
    assert "Price and kWh" in _headings("docs/domain.md")
    assert _names("5.2 Subgraph rules", '5.2."""') and _names("5.2 Subgraph rules", "5.2 Subgraph rules).")
    assert not _names("5.20 Other rules", "5.2.") and not _names("5.2 Subgraph rules", "5.3.")
    assert not problems_in("docs/domain.md")
