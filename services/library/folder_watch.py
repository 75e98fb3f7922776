"""What is in the model folders, learnt from the folders themselves: a directory's mtime changes when a file in
it is added, removed or renamed, so an unchanged directory's listing is reused without a stat of its files
(ComfyUI's own folder_paths cache works the same way). A queued prompt then costs a stat per directory, not per
file: 100,000 LoRAs in a few hundred folders are a few hundred stats.

A file rewritten in place leaves its directory's mtime alone. Such a change is found by `verify` (the few files
a prompt uses, before their cached facts are used) and by `sweep` (every file, in the background or on Refresh).
The listings are saved with the library index (`unsaved`), and a new process that verifies what it uses starts
from them (`remember`): it lists only the directories that changed since, not 100,000 files.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

# path, ComfyUI name, signature, the suffixes of the sidecars beside it (".civitai.info": shared strings, not
# a name per file), size
ModelFile = tuple[str, str, str, tuple[str, ...], int]


# A directory changed this recently may change again within the same tick of the file system's clock, leaving
# its mtime as it was (git's "racy" index entries): its listing is not trusted until it is older than this.
RACY_NS = 2_000_000_000

LISTING_FORMAT = 3  # saved listings of another format are listed again


def sidecar_names(path: str, suffixes: tuple[str, ...]) -> frozenset[str]:
    """The file names of a model file's sidecars, from their suffixes."""
    stem = os.path.basename(path).rsplit(".", 1)[0]
    return frozenset(stem + suffix for suffix in suffixes)


@dataclass(frozen=True)
class Listing:
    stamp: tuple[int, int, int]  # the directory's mtime, inode and device
    subfolders: tuple[str, ...]
    files: tuple[ModelFile, ...]
    racy: bool = False

    def to_json(self) -> str:
        """Column by column (paths, names, signatures, sidecar sets by number, sizes): read back with a few
        whole-list steps, not one per file."""
        sidecars = sorted({file[3] for file in self.files})
        number = {combo: i for i, combo in enumerate(sidecars)}
        columns = [[file[i] for file in self.files] for i in (0, 1, 2)]
        return json.dumps([list(self.stamp), list(self.subfolders), *columns, [list(c) for c in sidecars],
                           [number[file[3]] for file in self.files], [file[4] for file in self.files],
                           LISTING_FORMAT])

    @classmethod
    def from_json(cls, text: str) -> Listing | None:
        """A saved listing, or None when it is not one (an older format, a damaged row)."""
        try:
            stamp, subfolders, paths, names, signatures, combos, numbers, sizes, form = json.loads(text)
            if form != LISTING_FORMAT:
                return None
            sidecars = [tuple(map(sys.intern, combo)) for combo in combos]
            files = tuple(zip(paths, names, signatures, map(sidecars.__getitem__, numbers), sizes, strict=True))
            listing = cls((int(stamp[0]), int(stamp[1]), int(stamp[2])), tuple(subfolders), files)
            # Our own rows: their shape is checked, and the types of one file's fields (a damaged row fails
            # to parse as JSON); converting 100,000 files' fields would cost a warm start a fifth more.
            if not all(isinstance(f, str) for f in listing.subfolders) or listing.files and not (
                    all(isinstance(v, str) for v in listing.files[0][:3]) and isinstance(listing.files[0][4], int)):
                return None
            return listing
        except (ValueError, TypeError, IndexError):
            return None


class FolderWatch:
    """Per-directory listings of model files, and a generation that moves whenever any of them changed."""

    def __init__(self, suffixes: tuple[str, ...], sidecar_suffixes: tuple[str, ...], version: int) -> None:
        self.suffixes, self.sidecar_suffixes, self.version = suffixes, sidecar_suffixes, version
        self.generation = 0
        self._listings: dict[tuple[str, str], Listing] = {}  # (root, directory) -> listing
        self._unsaved: set[tuple[str, str]] = set()  # listed since the last `unsaved`
        self._lock = threading.Lock()  # a background sweep and a queued prompt may walk at once

    def forget(self) -> None:
        """As a new process would start: nothing known."""
        with self._lock:
            self._listings.clear()
            self._unsaved.clear()
            self.generation += 1

    def remember(self, saved: dict[tuple[str, str], Listing]) -> None:
        """Listings an earlier process saved, used as this one's own where it has none: a directory whose stamp
        still matches is not listed again. Only for callers that `verify` the files they use."""
        with self._lock:
            for key, listing in saved.items():
                self._listings.setdefault(key, listing)

    def unsaved(self) -> dict[tuple[str, str], Listing]:
        """The listings made since the last call that are worth saving (not racy: those are listed again)."""
        with self._lock:
            keys, self._unsaved = self._unsaved, set()
            return {key: listing for key in keys if (listing := self._listings.get(key)) and not listing.racy}

    def files(self, root: str, full: bool = False) -> list[ModelFile]:
        """Every model file under `root`, sorted by name; `full` re-reads every directory (the sweep)."""
        found: list[ModelFile] = []
        for listing in self.walk(root, full):
            found.extend(listing.files)
        return sorted(found, key=lambda f: f[1])

    def walk(self, root: str, full: bool = False) -> list[Listing]:
        """The listings of `root` and its subfolders (links followed, a folder visited once)."""
        out: list[Listing] = []
        visited: set[tuple[int, int]] = set()
        stack = [root]
        while stack:
            current = stack.pop()
            try:
                st = os.stat(current)
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in visited:
                continue
            visited.add((st.st_dev, st.st_ino))
            stamp = (st.st_mtime_ns, st.st_ino, st.st_dev)
            key = (root, current)
            listing = self._listings.get(key)
            if full or listing is None or listing.stamp != stamp or listing.racy:
                fresh = self._list(root, current, stamp)
                if fresh is None:
                    continue
                with self._lock:
                    if listing is None or listing.files != fresh.files or listing.subfolders != fresh.subfolders:
                        self.generation += 1
                    if listing is None or listing.stamp != fresh.stamp or listing.files != fresh.files:
                        self._unsaved.add(key)  # a touched folder's new stamp too: else every start lists it again
                    self._listings[key] = fresh
                listing = fresh
            out.append(listing)
            stack.extend(listing.subfolders)
        return out

    def stamp(self, roots: list[str]) -> int:
        """The generation after a walk of `roots`: equal to the last one when no folder changed."""
        for root in roots:
            self.walk(root)
        return self.generation

    def sweep(self, roots: list[str]) -> int:
        """Every file's stat again, for the changes no directory shows (a file rewritten in place)."""
        for root in roots:
            self.walk(root, full=True)
        return self.generation

    def verify(self, paths: list[str]) -> list[str]:
        """The files among `paths` whose stat no longer matches their listing (rewritten in place); their
        directories are read again at the next walk, so the next scan describes them anew."""
        stale: list[str] = []
        for path in paths:
            folder = os.path.dirname(path)
            for key, listing in list(self._listings.items()):
                if key[1] != folder:
                    continue
                known = next((f for f in listing.files if f[0] == path), None)
                if known is None or known[2] == self._signature(path, known[3]):
                    continue
                stale.append(path)
                with self._lock:
                    self._listings.pop(key, None)
                    self.generation += 1
        return stale

    def _list(self, root: str, current: str, stamp: tuple[int, int, int]) -> Listing | None:
        try:
            with os.scandir(current) as it:
                items = {d.name: d for d in it}
        except OSError:
            return None
        subfolders: list[str] = []
        files: list[ModelFile] = []
        for item in items.values():
            try:
                if item.is_dir():
                    if not item.name.startswith("."):
                        subfolders.append(item.path)
                    continue
                if not item.name.lower().endswith(self.suffixes) or not item.is_file():
                    continue  # a FIFO or device named *.safetensors would block the reader
                st = item.stat()
            except OSError:
                continue
            stem = item.name.rsplit(".", 1)[0]
            sidecars = tuple(suffix for suffix in self.sidecar_suffixes if stem + suffix in items)
            name = item.path[len(root) + 1:].replace(os.sep, "/")
            signature = self._signed(st, [(stem + s, items[stem + s].stat) for s in sidecars])
            files.append((item.path, name, signature, sidecars, st.st_size))
        return Listing(stamp, tuple(sorted(subfolders)), tuple(sorted(files, key=lambda f: f[1])),
                        racy=time.time_ns() - stamp[0] < RACY_NS)

    def _signature(self, path: str, sidecars: tuple[str, ...]) -> str:
        """The signature `_list` would give the file now (its sidecars as listed: a new one shows in the
        directory's mtime)."""
        try:
            st = os.stat(path)
        except OSError:
            return ""
        return self._signed(st, [(name, partial(os.stat, os.path.join(os.path.dirname(path), name)))
                                 for name in sidecar_names(path, sidecars)])

    def _signed(self, st: os.stat_result, sidecars: list[tuple[str, Callable[[], os.stat_result]]]) -> str:
        """Changes when the file or one of its sidecars changes (size and mtime), or the entry format does."""
        parts = [f"v{self.version}|{st.st_size}:{st.st_mtime_ns}"]
        for name, stat in sorted(sidecars, key=lambda item: item[0]):
            try:
                parts.append(f"{name}:{stat().st_mtime_ns}")
            except OSError:
                pass
        return "|".join(parts)
