"""Copies of one model in several places. Nothing here deletes or moves a file.

Same content is known without reading a byte when the hash cache holds the same SHA-256 for two unchanged files,
two files of one size carry the same AutoV3 (the SHA-256 of their tensors, which kohya stores in the file), or two
names are links to one file. Any other pair can only be the same when its sizes match; those are compared by a
fingerprint of their first and last bytes, and what still looks alike is a candidate until hashing confirms it
(only those files are hashed).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .entries import ModelEntry
from .hashing import CachedHash, HashCache, Progress, hash_many, read_cache, still_current

if TYPE_CHECKING:
    from .scan import Library

FINGERPRINT_BYTES = 64 * 1024


@dataclass(frozen=True)
class Copies:
    """One model's files: `files[0]` is the copy the recommender uses (the best described), the rest are copies."""

    files: tuple[ModelEntry, ...]
    confirmed: bool  # the same bytes (SHA-256) or tensors (AutoV3); else a candidate of one size and fingerprint
    how: str  # "sha256", "autov3", "link" (one file under several names) or "fingerprint"
    wasted: int  # bytes the copies take beyond the first (hard links and links to one file take none)

    def to_dict(self) -> dict[str, Any]:
        return {"files": [{"kind": e.kind, "name": e.name} for e in self.files], "size": self.files[0].size,
                "confirmed": self.confirmed, "how": self.how, "wasted_bytes": self.wasted}


def kept_first(entries: Iterable[ModelEntry]) -> tuple[ModelEntry, ...]:
    """The copy with the most metadata first (sidecars, tags), then by name: the same one whatever the scan order."""
    return tuple(sorted(entries, key=lambda e: (-len(e.sources), -len(e.tags), e.name)))


def known_copies(entries: list[ModelEntry], cached: dict[str, CachedHash]) -> list[Copies]:
    """Copies known for sure without hashing: one SHA-256 in the hash cache (files unchanged since), or one AutoV3
    at one size. Stats only the files that share a hash with another."""
    by_sha: dict[str, list[ModelEntry]] = defaultdict(list)
    for e in entries:
        if (row := cached.get(e.path)) is not None and row.size == e.size:
            by_sha[row.sha256].append(e)
    groups: list[Copies] = []
    placed: set[str] = set()
    for same in by_sha.values():
        current = [e for e in same if len(same) > 1 and still_current(e.path, cached[e.path])]
        if len(current) > 1:
            groups.append(_copies(current, "sha256"))
            placed.update(e.path for e in current)
    by_tensors: dict[tuple[int, str], list[ModelEntry]] = defaultdict(list)
    for e in entries:
        autov3 = (e.embedded_hash or "")[:12]
        if autov3 and e.path not in placed:
            by_tensors[(e.size, autov3)].append(e)
    groups.extend(_copies(same, "autov3") for same in by_tensors.values() if len(same) > 1)
    return groups


def copy_names(groups: list[Copies]) -> dict[tuple[str, str], str]:
    """(kind, name) of every confirmed copy -> the name of the copy kept in its place (same kind only)."""
    kept: dict[tuple[str, str], str] = {}
    for group in groups:
        if group.confirmed:
            first = group.files[0]
            kept.update({(e.kind, e.name): first.name for e in group.files[1:] if e.kind == first.kind})
    return kept


def find_copies(entries: list[ModelEntry], cached: dict[str, CachedHash], hashes: HashCache | None = None,
                progress: Progress | None = None) -> list[Copies]:
    """Every group of copies, most bytes wasted first. With `hashes`, candidates of one size and fingerprint are
    hashed (through the cache) and only those found equal are kept; without, they are listed unconfirmed."""
    groups = known_copies(entries, cached)
    placed = {e.path for g in groups for e in g.files}
    by_size: dict[int, list[ModelEntry]] = defaultdict(list)
    for e in entries:
        if e.size > 0:
            by_size[e.size].append(e)
    alike: list[list[ModelEntry]] = []
    for same_size in by_size.values():
        if len(same_size) < 2 or all(e.path in placed for e in same_size):
            continue
        by_file: dict[tuple[int, int], list[ModelEntry]] = defaultdict(list)
        for e in same_size:
            if (place := _place(e.path)) is not None:
                by_file[place].append(e)
        for same in by_file.values():  # links to one file: the same bytes, nothing to read
            if len(same) > 1 and not all(e.path in placed for e in same):
                groups.append(_copies(same, "link"))
                placed.update(e.path for e in same)
        by_print: dict[bytes, list[ModelEntry]] = defaultdict(list)
        for e in same_size:
            if e.path not in placed and (mark := fingerprint(e.path)) is not None:
                by_print[mark].append(e)
        alike.extend(same for same in by_print.values() if len(same) > 1)
    if hashes is None:
        groups.extend(_copies(same, "fingerprint", confirmed=False) for same in alike)
    else:
        groups.extend(_confirmed(alike, hashes, progress))
    return sorted(groups, key=lambda g: (-g.wasted, g.files[0].name))


def library_copies(library: Library, cache_dir: str | Path | None, confirm: bool = False,
                   progress: Progress | None = None) -> list[Copies]:
    """The library's copies (find_copies), with the hashes the cache folder holds; `confirm` hashes candidates."""
    hashes = HashCache(cache_dir) if confirm and cache_dir else None
    return find_copies(library.entries, read_cache(cache_dir), hashes, progress)


def summary(groups: list[Copies]) -> dict[str, int]:
    confirmed = [g for g in groups if g.confirmed]
    return {"groups": len(confirmed), "copies": sum(len(g.files) - 1 for g in confirmed),
            "wasted_bytes": sum(g.wasted for g in confirmed), "unconfirmed_groups": len(groups) - len(confirmed)}


def fingerprint(path: str) -> bytes | None:
    """The first and last FINGERPRINT_BYTES of the file (a safetensors header and the last tensors); None when the
    file cannot be read."""
    try:
        with open(path, "rb") as f:
            head = f.read(FINGERPRINT_BYTES)
            size = os.fstat(f.fileno()).st_size
            f.seek(max(len(head), size - FINGERPRINT_BYTES))
            return head + f.read(FINGERPRINT_BYTES)
    except OSError:
        return None


def _confirmed(alike: list[list[ModelEntry]], hashes: HashCache, progress: Progress | None) -> list[Copies]:
    members = [e for same in alike for e in same]
    outcomes = hash_many(hashes, [(e.path, e.embedded_hash) for e in members], progress=progress)
    sha = {e.path: o.hashes.sha256 for e, o in zip(members, outcomes, strict=True) if o.hashes is not None}
    groups: list[Copies] = []
    for same in alike:
        by_sha: dict[str, list[ModelEntry]] = defaultdict(list)
        for e in same:
            if e.path in sha:
                by_sha[sha[e.path]].append(e)
        groups.extend(_copies(equal, "sha256") for equal in by_sha.values() if len(equal) > 1)
    return groups


def _copies(entries: list[ModelEntry], how: str, confirmed: bool = True) -> Copies:
    files = kept_first(entries)
    seen: set[tuple[int, int]] = set()
    wasted = 0
    for e in files:
        place = _place(e.path) or (-1, id(e))
        if place not in seen and seen:
            wasted += e.size
        seen.add(place)
    return Copies(files, confirmed, how, wasted)


def _place(path: str) -> tuple[int, int] | None:
    """Where the bytes are (device, inode): links and hard links to one file share it."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino
