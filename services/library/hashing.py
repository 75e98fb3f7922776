"""SHA-256 of model files, cached so an unchanged file is never hashed twice.

Names follow A1111 and CivitAI: AutoV2 is the first 10 hex of the file's
SHA-256; AutoV3 the first 12 hex of the SHA-256 of the bytes after the
safetensors header (what kohya stores as `sshs_model_hash`).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .safetensors_header import HeaderError, read_header

log = logging.getLogger(__name__)

HASHES_DB = "hashes.sqlite"
BUFFER_BYTES = 1024 * 1024  # measured fastest with hashlib here (see FACTS / bench/hashing.py)

Progress = Callable[[int, int], None]  # (bytes done, bytes total)


@dataclass(frozen=True)
class FileHashes:
    sha256: str
    autov3: str | None = None
    blake3: str | None = None  # only when the optional `blake3` package is installed and asked for

    @property
    def autov2(self) -> str:
        return self.sha256[:10]


def blake3_available() -> bool:
    return importlib.util.find_spec("blake3") is not None


def sha256_file(path: str | Path, progress: Progress | None = None, tail_from: int | None = None) -> tuple[str, str | None]:
    """SHA-256 of the whole file and, in the same pass, of the bytes from `tail_from` on."""
    whole, tail, _ = hash_file(path, progress, tail_from)
    return whole, tail


def hash_file(
    path: str | Path, progress: Progress | None = None, tail_from: int | None = None, with_blake3: bool = False
) -> tuple[str, str | None, str | None]:
    """SHA-256 of the file, of its bytes from `tail_from` on, and BLAKE3 if asked: all in one read.

    One reused buffer with `readinto` avoids an allocation per block; hashlib releases the GIL
    on large updates, so several files hash in parallel in threads.
    """
    whole = hashlib.sha256()
    tail = hashlib.sha256() if tail_from is not None else None
    b3: Any = importlib.import_module("blake3").blake3(max_threads=1) if with_blake3 else None
    buffer = bytearray(BUFFER_BYTES)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as f:
        total = os.fstat(f.fileno()).st_size
        done = 0
        while n := f.readinto(buffer):
            whole.update(view[:n])
            if tail is not None and tail_from is not None and done + n > tail_from:
                tail.update(view[max(0, tail_from - done) : n])
            if b3 is not None:
                b3.update(view[:n])
            done += n
            if progress:
                progress(done, total)
    return whole.hexdigest(), tail.hexdigest() if tail is not None else None, b3.hexdigest() if b3 is not None else None


class HashCache:
    """SQLite cache keyed by path, size, mtime_ns and inode: any change means a re-hash."""

    def __init__(self, cache_dir: str | Path) -> None:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        self._db_path = Path(cache_dir) / HASHES_DB
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS hashes (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER,"
                " inode INTEGER, sha256 TEXT NOT NULL, autov3 TEXT)"
            )
            columns = {row[1] for row in db.execute("PRAGMA table_info(hashes)")}
            if "blake3" not in columns:  # caches written before BLAKE3 was optional
                db.execute("ALTER TABLE hashes ADD COLUMN blake3 TEXT")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self._db_path, timeout=10)

    def get(self, path: str | Path) -> FileHashes | None:
        st = os.stat(path)
        with self._lock, self._connect() as db:
            row = db.execute(
                "SELECT sha256, autov3, blake3 FROM hashes WHERE path=? AND size=? AND mtime_ns=? AND inode=?",
                (str(path), st.st_size, st.st_mtime_ns, st.st_ino),
            ).fetchone()
        return FileHashes(row[0], row[1], row[2]) if row else None

    def put(self, path: str | Path, hashes: FileHashes, st: os.stat_result) -> None:
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO hashes (path, size, mtime_ns, inode, sha256, autov3, blake3)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (str(path), st.st_size, st.st_mtime_ns, st.st_ino, hashes.sha256, hashes.autov3, hashes.blake3),
            )

    def hashes(
        self, path: str | Path, embedded_autov3: str | None = None, progress: Progress | None = None,
        with_blake3: bool = False,
    ) -> FileHashes:
        """Cached hashes, or hash now. AutoV3 comes from the header's sshs_model_hash when present."""
        with_blake3 = with_blake3 and blake3_available()
        cached = self.get(path)
        if cached and (cached.blake3 or not with_blake3):
            return cached
        st = os.stat(path)
        offset = None if embedded_autov3 else _data_offset(Path(path))
        sha, tail, b3 = hash_file(path, progress=progress, tail_from=offset, with_blake3=with_blake3)
        autov3 = (embedded_autov3 or tail or "")[:12] or None
        result = FileHashes(sha, autov3, b3)
        if os.stat(path).st_mtime_ns == st.st_mtime_ns:  # not rewritten while we read it
            self.put(path, result, st)
        return result


@dataclass(frozen=True)
class CachedHash:
    """A row of the hash cache: the hashes of the file as it was (size, mtime_ns, inode) when hashed."""

    size: int
    mtime_ns: int
    inode: int
    sha256: str
    autov3: str | None = None


def read_cache(cache_dir: str | Path | None) -> dict[str, CachedHash]:
    """Every row of the hash cache by path, opened read-only in one query (nothing created, nothing hashed); {}
    without a cache. Lets the library, its listing and the statistics use the hashes of thousands of files."""
    db_path = Path(cache_dir) / HASHES_DB if cache_dir else None
    if db_path is None or not db_path.is_file():
        return {}
    try:
        db = sqlite3.connect(db_path.resolve().as_uri() + "?mode=ro", uri=True, timeout=10)
        try:
            rows = db.execute("SELECT path, size, mtime_ns, inode, sha256, autov3 FROM hashes").fetchall()
        finally:
            db.close()
    except sqlite3.Error as exc:  # missing table, damaged file: as if nothing were hashed
        log.warning("Intelligent Generation: hash cache not readable (%s)", exc)
        return {}
    return {row[0]: CachedHash(*row[1:]) for row in rows}


def still_current(path: str, cached: CachedHash | None) -> str | None:
    """The SHA-256 of a `read_cache` row while the file is unchanged since it was hashed (HashCache.get's rule:
    size, mtime and inode), else None."""
    if cached is None:
        return None
    try:
        st = os.stat(path)
    except OSError:  # removed since
        return None
    return cached.sha256 if (st.st_size, st.st_mtime_ns, st.st_ino) == (cached.size, cached.mtime_ns, cached.inode) \
        else None


@dataclass
class HashOutcome:
    path: str
    hashes: FileHashes | None = None
    cached: bool = False  # found in the cache: not read this time
    error: str | None = None


def hash_many(
    cache: HashCache,
    files: Sequence[tuple[str, str | None]],
    progress: Progress | None = None,
    workers: int | None = None,
    with_blake3: bool = False,
) -> list[HashOutcome]:
    """Hash (path, embedded AutoV3) pairs, cached ones first and without reading, the rest in threads.

    Progress is over the bytes that need reading, summed across threads. A file that cannot be
    read is reported in its outcome, never raised.
    """
    outcomes = [HashOutcome(path) for path, _ in files]
    todo: list[tuple[int, int]] = []  # (index, size)
    for i, (path, _) in enumerate(files):
        try:
            cached = cache.get(path)
            if cached and (cached.blake3 or not (with_blake3 and blake3_available())):
                outcomes[i].hashes, outcomes[i].cached = cached, True
            else:
                todo.append((i, os.stat(path).st_size))
        except OSError as exc:
            outcomes[i].error = f"cannot read: {exc.strerror or exc}"
    total = sum(size for _, size in todo)
    done = [0] * len(files)
    lock = threading.Lock()

    def run(index: int) -> None:
        path, embedded = files[index]

        def step(n: int, _total: int) -> None:
            with lock:
                done[index] = n
                reached = sum(done)
            if progress:
                progress(reached, total)

        try:
            outcomes[index].hashes = cache.hashes(path, embedded, progress=step, with_blake3=with_blake3)
        except OSError as exc:
            outcomes[index].error = f"cannot read: {exc.strerror or exc}"

    count = workers or min(4, os.cpu_count() or 1)
    if count <= 1 or len(todo) <= 1:
        for index, _ in todo:
            run(index)
    else:
        with ThreadPoolExecutor(max_workers=count, thread_name_prefix="ig-hash") as pool:
            list(pool.map(run, [index for index, _ in todo]))
    if progress:
        progress(total, total)
    return outcomes


def _data_offset(path: Path) -> int | None:
    if path.suffix.lower() not in (".safetensors", ".sft"):
        return None
    try:
        return read_header(path).data_offset
    except HeaderError:
        return None
