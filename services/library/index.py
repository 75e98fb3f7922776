"""The library index on disk: SQLite (WAL) in the cache folder, one row per model file.

A row holds the file's signature (size, mtime_ns and its sidecars' mtimes), the entry's LIGHT fields as
columns and the rest as a JSON array in field order, decoded only when read (entries.StoredEntry): a start
reads 100,000 rows without decoding one description. The signature carries ENTRY_VERSION, so rows of another
field layout are never used. A restart or rescan only stats folders; a changed file is described again alone.

Beside the entries, each LoRA's search document (retrieval.Document), keyed by its row's signature and the
code that reads words: a new process decodes documents instead of reading every title and description again
(at 100,000 LoRAs, under a second against ten).
"""

from __future__ import annotations

import gc
import json
import logging
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .entries import LIGHT, ModelEntry, StoredEntry, heavy_text, light_values

log = logging.getLogger(__name__)


class IndexCache:
    def __init__(self, cache_dir: Path) -> None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        self.path = cache_dir / "library.sqlite"

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # WAL stays consistent; a crash may lose the last update of a cache
        db.execute(f"CREATE TABLE IF NOT EXISTS entries (key BLOB PRIMARY KEY, signature TEXT, {', '.join(LIGHT)}, "
                   "heavy TEXT, exact TEXT)")
        db.execute("CREATE TABLE IF NOT EXISTS documents (key BLOB PRIMARY KEY, stamp TEXT, document TEXT)")
        db.execute("CREATE TABLE IF NOT EXISTS listings (root BLOB, folder BLOB, listing TEXT, "
                   "PRIMARY KEY (root, folder))")
        return db

    def load(self) -> dict[str, tuple[str, ModelEntry]]:
        try:
            with self._connect() as db:
                db.execute("DROP TABLE IF EXISTS models")  # the layout before StoredEntry: its rows were read anew
                rows = db.execute(f"SELECT key, signature, {', '.join(LIGHT)}, heavy, exact FROM entries").fetchall()
        except sqlite3.Error as exc:  # a damaged cache is rebuilt, never fatal
            log.warning("Intelligent Generation: library index unreadable (%s); rebuilding it", exc)
            self.path.unlink(missing_ok=True)
            return {}
        loaded: dict[str, tuple[str, ModelEntry]] = {}
        flags = LIGHT.index("trigger_guessed")
        with paused_gc():  # a hundred thousand new objects: the collector would only walk them again
            for key, signature, *light, heavy, exact in rows:
                if exact is not None:
                    light = json.loads(exact)
                light[flags], light[flags + 1] = bool(light[flags]), bool(light[flags + 1])  # SQLite has no bool
                loaded[_text(key)] = (signature, StoredEntry.stored(tuple(light), heavy))
        return loaded

    def update(self, fresh: list[tuple[str, str, ModelEntry]], removed: list[str]) -> None:
        if not fresh and not removed:
            return
        try:
            with self._connect() as db:
                try:
                    db.executemany(INSERT, [_row(_blob(k), _storable(sig), entry) for k, sig, entry in fresh])
                except UnicodeEncodeError:  # a file name that is not UTF-8: rows checked one by one (rare)
                    db.executemany(INSERT, [_row(_blob(k), _storable(sig), entry, check=True)
                                            for k, sig, entry in fresh])
                db.executemany("DELETE FROM entries WHERE key = ?", [(_blob(key),) for key in removed])
                db.executemany("DELETE FROM documents WHERE key = ?", [(_blob(key),) for key in removed])
        except sqlite3.Error as exc:
            log.warning("Intelligent Generation: could not save the library index: %s", exc)

    def documents(self, wanted: dict[str, str]) -> dict[str, str]:
        """The stored documents of `wanted` (key -> stamp) whose stamp still matches, as JSON text (decoded one
        by one by the reader, so that 100,000 decoded documents are never held twice)."""
        if not wanted:
            return {}
        found: dict[str, str] = {}
        try:
            with self._connect() as db:
                if len(wanted) >= FEW:
                    queries: Iterable[sqlite3.Cursor] = [db.execute("SELECT key, stamp, document FROM documents")]
                else:
                    keys = [_blob(k) for k in wanted]
                    queries = (db.execute("SELECT key, stamp, document FROM documents WHERE key IN "
                                          f"({','.join('?' * len(keys[i:i + CHUNK]))})", keys[i:i + CHUNK])
                               for i in range(0, len(keys), CHUNK))
                for rows in queries:
                    for key, stamp, document in rows:
                        text = _text(key)
                        if wanted.get(text) == stamp:
                            found[text] = document
        except sqlite3.Error as exc:
            log.warning("Intelligent Generation: stored search documents unreadable (%s); reading models again", exc)
            return {}
        return found

    def store_documents(self, fresh: list[tuple[str, str, str]]) -> None:
        """(key, stamp, JSON text) of documents just made."""
        if not fresh:
            return
        try:
            with self._connect() as db:
                db.executemany("INSERT OR REPLACE INTO documents VALUES (?, ?, ?)",
                               ((_blob(key), _storable(stamp), text) for key, stamp, text in fresh))
        except sqlite3.Error as exc:
            log.warning("Intelligent Generation: could not save the search documents: %s", exc)

    def listings(self) -> dict[tuple[str, str], str]:
        """The model folders' saved listings ((root, folder) -> JSON, see folder_watch)."""
        try:
            with self._connect() as db:
                rows = db.execute("SELECT root, folder, listing FROM listings").fetchall()
        except sqlite3.Error as exc:
            log.warning("Intelligent Generation: saved folder listings unreadable (%s); listing the folders", exc)
            return {}
        return {(_text(root), _text(folder)): listing for root, folder, listing in rows}

    def store_listings(self, listings: dict[tuple[str, str], str]) -> None:
        if not listings:
            return
        try:
            with self._connect() as db:
                db.executemany("INSERT OR REPLACE INTO listings VALUES (?, ?, ?)",
                               ((_blob(root), _blob(folder), text) for (root, folder), text in listings.items()))
        except sqlite3.Error as exc:
            log.warning("Intelligent Generation: could not save the folder listings: %s", exc)


INSERT = f"INSERT OR REPLACE INTO entries VALUES (?, ?, {', '.join('?' * len(LIGHT))}, ?, ?)"


def _row(key: bytes, signature: str, entry: ModelEntry, check: bool = False) -> tuple[Any, ...]:
    """An entry's row. A file name that is not UTF-8 (surrogate escapes) cannot be an SQLite text: with `check`,
    such a row holds the light fields escaped for show and exactly as JSON in `exact` (which escapes them),
    read back instead."""
    light = light_values(entry)
    if check and not all(_encodable(v) for v in light if isinstance(v, str)):
        return (key, signature, *(_storable(v) if isinstance(v, str) else v for v in light), heavy_text(entry),
                json.dumps(light))
    return (key, signature, *light, heavy_text(entry), None)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


FEW = 1000  # fewer wanted documents than this are asked for by key; more, by reading the table
CHUNK = 500  # keys per query: under every SQLite build's limit on parameters


def _blob(key: str) -> bytes:
    # File names that are not UTF-8 arrive as surrogate escapes; bytes keep them exact.
    return key.encode("utf-8", "surrogateescape")


def _storable(text: str) -> str:
    """A signature naming a sidecar whose name is not UTF-8: stored with the odd bytes escaped (such a file is
    then read again at each start, rather than breaking the index's save)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _text(key: bytes | str) -> str:
    return key.decode("utf-8", "surrogateescape") if isinstance(key, bytes) else key


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection during a scan, nor a walk of its objects right after: a scan makes
    tens of thousands of objects that live as long as the library and form no cycles, and the first young
    collection after it would walk every one of them (about as long as reading the index)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            if not gc.get_freeze_count():  # someone else's frozen objects stay theirs
                gc.freeze()  # with unfreeze: every tracked object moves to the oldest generation, unwalked
                gc.unfreeze()
            gc.enable()
