"""SHA-256 of model files, cached so an unchanged file is never hashed twice.

Names follow A1111 and CivitAI: AutoV2 is the first 10 hex of the file's
SHA-256; AutoV3 the first 12 hex of the SHA-256 of the bytes after the
safetensors header (what kohya stores as `sshs_model_hash`).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .safetensors_header import HeaderError, read_header

BUFFER_BYTES = 1024 * 1024  # measured fastest with hashlib here (see FACTS / bench/hashing.py)

Progress = Callable[[int, int], None]  # (bytes done, bytes total)


@dataclass(frozen=True)
class FileHashes:
    sha256: str
    autov3: str | None = None

    @property
    def autov2(self) -> str:
        return self.sha256[:10]


def sha256_file(path: str | Path, progress: Progress | None = None, tail_from: int | None = None) -> tuple[str, str | None]:
    """SHA-256 of the whole file and, in the same pass, of the bytes from `tail_from` on.

    One reused buffer with `readinto` avoids an allocation per block.
    """
    whole = hashlib.sha256()
    tail = hashlib.sha256() if tail_from is not None else None
    buffer = bytearray(BUFFER_BYTES)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as f:
        total = os.fstat(f.fileno()).st_size
        done = 0
        while n := f.readinto(buffer):
            whole.update(view[:n])
            if tail is not None and tail_from is not None and done + n > tail_from:
                tail.update(view[max(0, tail_from - done) : n])
            done += n
            if progress:
                progress(done, total)
    return whole.hexdigest(), tail.hexdigest() if tail is not None else None


class HashCache:
    """SQLite cache keyed by path, size, mtime_ns and inode: any change means a re-hash."""

    def __init__(self, cache_dir: str | Path) -> None:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        self._db_path = Path(cache_dir) / "hashes.sqlite"
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS hashes (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER,"
                " inode INTEGER, sha256 TEXT NOT NULL, autov3 TEXT)"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self._db_path, timeout=10)

    def get(self, path: str | Path) -> FileHashes | None:
        st = os.stat(path)
        with self._lock, self._connect() as db:
            row = db.execute(
                "SELECT sha256, autov3 FROM hashes WHERE path=? AND size=? AND mtime_ns=? AND inode=?",
                (str(path), st.st_size, st.st_mtime_ns, st.st_ino),
            ).fetchone()
        return FileHashes(row[0], row[1]) if row else None

    def put(self, path: str | Path, hashes: FileHashes, st: os.stat_result) -> None:
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO hashes VALUES (?, ?, ?, ?, ?, ?)",
                (str(path), st.st_size, st.st_mtime_ns, st.st_ino, hashes.sha256, hashes.autov3),
            )

    def hashes(self, path: str | Path, embedded_autov3: str | None = None, progress: Progress | None = None) -> FileHashes:
        """Cached hashes, or hash now. AutoV3 comes from the header's sshs_model_hash when present."""
        cached = self.get(path)
        if cached:
            return cached
        st = os.stat(path)
        offset = None if embedded_autov3 else _data_offset(Path(path))
        sha, tail = sha256_file(path, progress=progress, tail_from=offset)
        autov3 = (embedded_autov3 or tail or "")[:12] or None
        result = FileHashes(sha, autov3)
        if os.stat(path).st_mtime_ns == st.st_mtime_ns:  # not rewritten while we read it
            self.put(path, result, st)
        return result


def _data_offset(path: Path) -> int | None:
    if path.suffix.lower() not in (".safetensors", ".sft"):
        return None
    try:
        return read_header(path).data_offset
    except HeaderError:
        return None
