"""The C open-loop load generator (``bench/loadgen/openloop.c``): built on first use, run, read back.

A Python generator on the same two cores as the system it loads takes a core by itself at a few
thousand requests/s, and its event-loop lag lands in the latencies it reports. The C one sends the
same requests for a few percent of a core. It is compiled with the machine's C compiler into
``bench/.work`` (git-ignored), once per version of its source; :func:`build` returns None when no
compiler exists, and the caller falls back to its Python generator and says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .common import BENCH_DIR, WORK

__all__ = ["ERRORS", "SEQ", "OpenLoopRun", "Record", "Template", "build", "compiler", "run"]

SOURCE = BENCH_DIR / "loadgen" / "openloop.c"
SEQ = "{{seq}}"  # replaced in a template's body by the request's number (unique within a run)
# The generator's error codes (see openloop.c), by name; 0 is an answer.
ERRORS = {1: "connect", 2: "closed", 3: "timeout", 4: "malformed", 5: "not-sent"}


def compiler() -> str | None:
    """The machine's C compiler, if any."""
    for name in (os.environ.get("CC") or "", "cc", "gcc", "clang"):
        path = shutil.which(name) if name else None
        if path:
            return path
    return None


def build(work: Path = WORK) -> Path | None:
    """The generator's binary, compiled now if this version of the source has not been yet; None without a
    C compiler. A compile error is raised (it is a bug in the source, not a missing tool)."""
    cc = compiler()
    if cc is None:
        return None
    source = SOURCE.read_bytes()
    binary = work / f"openloop-{hashlib.sha256(source).hexdigest()[:12]}"
    if binary.is_file():
        return binary
    work.mkdir(parents=True, exist_ok=True)
    partial = binary.with_suffix(f".{os.getpid()}.tmp")
    done = subprocess.run(
        [cc, "-O2", "-Wall", "-o", str(partial), str(SOURCE), "-lm"], capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"compiling {SOURCE.name} with {cc} failed:\n{done.stderr}")
    os.replace(partial, binary)  # atomic: a concurrent build never runs a half-written binary
    return binary


@dataclass(frozen=True)
class Template:
    """One request shape; the generator adds Content-Length and replaces ``{{seq}}`` in the body."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes = b""

    def encode(self, host: str) -> bytes:
        head = f"{self.method} {self.path} HTTP/1.1\r\nHost: {host}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in self.headers.items())
        raw = head.encode()
        return f"T {len(raw)} {len(self.body)}\n".encode() + raw + self.body


@dataclass(frozen=True)
class Record:
    """One request: its number, when it was due (s from the start), its latency from that due time (s), the
    answer's status (0 without one), which marks its body contained (bit k: the k-th mark), the error
    (None, or a value of ERRORS), and whether it found every allowed connection busy when due."""

    seq: int
    due_s: float
    latency_s: float
    status: int
    marks: int
    error: str | None
    late: bool


@dataclass
class OpenLoopRun:
    records: list[Record]
    summary: dict[str, Any]  # the generator's totals: sent, late, peak_connections, cpu_user_s, cpu_sys_s, ...

    @property
    def cpu_s(self) -> float:
        return float(self.summary["cpu_user_s"] + self.summary["cpu_sys_s"])


def run(
    binary: Path,
    url: str,
    templates: Sequence[Template],
    *,
    rate: float,
    seconds: float,
    marks: Sequence[str] = (),
    max_connections: int = 4000,
    timeout_s: float = 30.0,
    seq_start: int = 0,
) -> OpenLoopRun:
    """Offer ``rate`` requests/s for ``seconds`` to ``url``'s host and port (request i uses templates[i % n]
    and is due at i / rate s); returns when every request is answered, failed or timed out."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"openloop speaks plain http only: {url}")
    port = parts.port or 80
    host_header = parts.netloc
    WORK.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=WORK, prefix="openloop-") as tmp:
        spec, out = Path(tmp) / "templates", Path(tmp) / "records"
        spec.write_bytes(b"".join(t.encode(host_header) for t in templates))
        argv = [
            str(binary),
            *("--host", parts.hostname, "--port", str(port)),
            *("--rate", repr(rate), "--duration", repr(seconds)),
            *("--templates", str(spec), "--out", str(out)),
            *("--max-conns", str(max_connections), "--timeout", repr(timeout_s), "--seq-start", str(seq_start)),
        ]
        for mark in marks:
            argv += ["--mark", mark]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 2 * timeout_s + 60)
        if done.returncode != 0:
            raise RuntimeError(f"openloop failed ({done.returncode}): {done.stderr.strip()}")
        summary = json.loads(done.stdout.strip().splitlines()[-1])
        return OpenLoopRun(_records(out.read_text()), summary)


def _records(text: str) -> list[Record]:
    out = []
    for line in text.splitlines():
        seq, due_us, latency_us, status, marks, error, late = (int(x) for x in line.split())
        out.append(Record(seq, due_us / 1e6, latency_us / 1e6, status, marks, ERRORS.get(error), late == 1))
    return out
