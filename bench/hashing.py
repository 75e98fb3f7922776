"""SHA-256 throughput of services.library.hashing.sha256_file next to `openssl dgst` and hashlib.file_digest.

Usage: .venv/bin/python bench/hashing.py [--size-mib 1024] [--rounds 3] [--dir PATH] [--files 4]

With --files N (N > 1) it also hashes N files of that size through `hash_many` (the Metadata
Fetcher's path: a fresh cache, worker threads) with 1 worker and with min(N, cores) workers, and
prints the aggregate throughput of each. BLAKE3 joins the single-file table when the optional
`blake3` package is installed.

The file is read once first so every contender hashes from the page cache: this measures
hashing and copying, not the disk. Each contender runs --rounds times; the median counts.
The openssl figure includes starting the process (a few milliseconds).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.library.hashing import BUFFER_BYTES, HashCache, blake3_available, hash_file, hash_many, sha256_file  # noqa: E402

TARGET_RATIO = 0.85
CHUNK = 16 * 1024 * 1024


def write_file(path: Path, size: int) -> None:
    block = os.urandom(CHUNK)
    with open(path, "wb") as f:
        for start in range(0, size, CHUNK):
            f.write(block[: min(CHUNK, size - start)])


def warm(path: Path) -> None:
    with open(path, "rb", buffering=0) as f:
        while f.read(CHUNK):
            pass


def ours(path: Path) -> str:
    return sha256_file(path)[0]


def openssl(path: Path) -> str:
    out = subprocess.run(["openssl", "dgst", "-sha256", str(path)], capture_output=True, text=True, check=True)
    return out.stdout.strip().rsplit("= ", 1)[-1]


def file_digest(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def ours_with_blake3(path: Path) -> str:
    return hash_file(path, with_blake3=True)[0]


def parallel(paths: list[Path], workers: int) -> float:
    """Seconds for hash_many over the files with a fresh cache (so every file is read)."""
    with tempfile.TemporaryDirectory(prefix="ig-hash-cache-") as cache_dir:
        start = time.perf_counter()
        outcomes = hash_many(HashCache(cache_dir), [(str(p), None) for p in paths], workers=workers)
        seconds = time.perf_counter() - start
    if any(o.error for o in outcomes):
        raise RuntimeError([o.error for o in outcomes if o.error])
    return seconds


def median_seconds(fn: Callable[[Path], str], path: Path, rounds: int) -> tuple[float, str]:
    times: list[float] = []
    digest = ""
    for _ in range(rounds):
        start = time.perf_counter()
        digest = fn(path)
        times.append(time.perf_counter() - start)
    return statistics.median(times), digest


def main() -> int:
    parser = argparse.ArgumentParser(description="SHA-256 throughput: sha256_file vs openssl vs hashlib")
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="where to write the temporary file")
    parser.add_argument("--files", type=int, default=1, help="also hash this many files in worker threads")
    args = parser.parse_args()
    size = args.size_mib * 1024 * 1024

    contenders: dict[str, Callable[[Path], str]] = {"sha256_file (ours)": ours}
    if shutil.which("openssl"):
        contenders["openssl dgst -sha256"] = openssl
    else:
        print("note: openssl not found on PATH; skipping it and the ratio")
    if blake3_available():
        contenders["ours + BLAKE3 (1 pass)"] = ours_with_blake3
    else:
        print("note: the optional blake3 package is not installed; skipping BLAKE3")
    if hasattr(hashlib, "file_digest"):
        contenders["hashlib.file_digest"] = file_digest
    else:
        print("note: hashlib.file_digest needs Python 3.11+; skipping it")

    fd, name = tempfile.mkstemp(prefix="ig-hash-bench-", dir=args.dir)
    os.close(fd)
    path = Path(name)
    try:
        write_file(path, size)
        warm(path)
        print(f"file: {path} ({args.size_mib} MiB, page cache warm), rounds: {args.rounds} (median), "
              f"buffer: {BUFFER_BYTES // 1024} KiB, Python {sys.version.split()[0]}")
        rates: dict[str, float] = {}
        digests: set[str] = set()
        for label, fn in contenders.items():
            seconds, digest = median_seconds(fn, path, args.rounds)
            rates[label] = size / seconds / 1e9
            digests.add(digest)
            print(f"  {label:<22} {seconds:8.3f} s  {rates[label]:6.2f} GB/s")
        if len(digests) != 1:
            print(f"error: digests differ: {sorted(digests)}")
            return 1
        if "openssl dgst -sha256" in rates:
            ratio = rates["sha256_file (ours)"] / rates["openssl dgst -sha256"]
            verdict = "PASS" if ratio >= TARGET_RATIO else "FAIL"
            print(f"ratio ours/openssl: {ratio:.3f}")
            print(f"target: ratio >= {TARGET_RATIO}: {verdict}")
        else:
            print(f"target: ratio >= {TARGET_RATIO}: not measured (no openssl)")
        if args.files > 1:
            copies = [path]
            for i in range(1, args.files):
                copy = path.with_name(f"{path.name}.{i}")
                shutil.copyfile(path, copy)
                warm(copy)
                copies.append(copy)
            try:
                cores = os.cpu_count() or 1
                workers = min(args.files, cores)
                one = min(parallel(copies, 1) for _ in range(args.rounds))
                many = min(parallel(copies, workers) for _ in range(args.rounds))
                total = size * args.files / 1e9
                print(f"hash_many over {args.files} files ({cores} cores), best of {args.rounds}:")
                print(f"  1 worker               {one:8.3f} s  {total / one:6.2f} GB/s")
                print(f"  {workers} workers{' ' * (14 - len(str(workers)))} {many:8.3f} s  {total / many:6.2f} GB/s"
                      f"  ({one / many:.2f}x)")
            finally:
                for copy in copies[1:]:
                    copy.unlink(missing_ok=True)
    finally:
        path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
