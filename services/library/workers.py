"""Describing many model files at once (a first scan of a large library) in worker processes.

Describing is pure Python (headers, sidecars, vocabulary matching), so threads would share one core;
separate interpreters use them all. Workers are plain `python -m services.library.workers` processes,
not multiprocessing: inside ComfyUI, multiprocessing's spawn would re-import ComfyUI's main module in
each child. Jobs go in and entries come out through temporary files (pipes would fill and stall a
worker while the parent waits on another). A worker that fails leaves its share to this process.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from . import describe as describing
from .entries import ModelEntry, entry_values

log = logging.getLogger(__name__)

Job = tuple[str, str, str, frozenset[str], int]  # kind, path, name, sidecar names, size
PARALLEL_FROM = 400  # fewer files describe faster than interpreters start
MAX_WORKERS = 8
PACK_ROOT = Path(__file__).resolve().parents[2]  # the folder holding services/


def default_workers() -> int:
    try:
        available = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        available = os.cpu_count() or 1
    return min(available, MAX_WORKERS)


def describe_many(jobs: list[Job], workers: int | None = None, parallel_from: int = PARALLEL_FROM) -> list[ModelEntry]:
    """The entries of `jobs`, in order."""
    workers = default_workers() if workers is None else workers
    if workers < 2 or len(jobs) < parallel_from:
        return [describing.describe(*job) for job in jobs]
    shares = [list(range(i, len(jobs), workers)) for i in range(workers)]
    out: list[ModelEntry | None] = [None] * len(jobs)
    with tempfile.TemporaryDirectory(prefix="ig-describe-") as tmp:
        running = []
        for n, share in enumerate(shares):
            source, target = Path(tmp) / f"{n}.in", Path(tmp) / f"{n}.out"
            source.write_text(json.dumps([[*jobs[i][:3], sorted(jobs[i][3]), jobs[i][4]] for i in share]))
            with open(source, "rb") as stdin, open(target, "wb") as stdout:
                try:
                    process = subprocess.Popen([sys.executable, "-m", "services.library.workers"], cwd=PACK_ROOT,
                                               stdin=stdin, stdout=stdout)
                except OSError as exc:
                    log.warning("Intelligent Generation: no describe worker (%s); describing here", exc)
                    process = None
            running.append((share, process, target))
        for share, process, target in running:
            entries = _collect(process, target, len(share))
            for i, entry in zip(share, entries or [describing.describe(*jobs[i]) for i in share], strict=True):
                out[i] = entry
    return [entry for entry in out if entry is not None]


def _collect(process: subprocess.Popen[bytes] | None, target: Path, expected: int) -> list[ModelEntry] | None:
    if process is None:
        return None
    if process.wait() != 0:
        log.warning("Intelligent Generation: a describe worker failed (exit %s); describing its files here",
                    process.returncode)
        return None
    try:
        entries = [ModelEntry(*json.loads(line)) for line in target.read_text(encoding="utf-8").splitlines()]
    except (OSError, ValueError, TypeError) as exc:
        log.warning("Intelligent Generation: a describe worker's answer is unreadable (%s)", exc)
        return None
    return entries if len(entries) == expected else None


def main() -> None:
    jobs = json.load(sys.stdin)
    out = sys.stdout
    for kind, path, name, sidecars, size in jobs:
        out.write(json.dumps(entry_values(describing.describe(kind, path, name, frozenset(sidecars), size))) + "\n")


if __name__ == "__main__":
    main()
