"""The model library: what checkpoints, LoRAs and VAEs the user has, and what is known of each.

Sources are folders per kind (ComfyUI's folder_paths inside ComfyUI, or a
ComfyUI-style models root outside it). Only safetensors headers and sidecar
files are read: tensors are never loaded, pickle files never opened, whole
files never hashed. Metadata is merged with a fixed precedence: other tools'
sidecars (LoRA Manager, CivitAI Helper, Stability Matrix, A1111), then the
training metadata embedded in the file, then the file name.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..text.vocabulary import (
    concepts_in,
    split_camel,
)
from .describe import ENTRY_VERSION, with_records
from .entries import CATEGORY_WORDS, KIND_WORDS, MODEL_SUFFIXES, ModelEntry, file_stem
from .folder_watch import FolderWatch, ModelFile, sidecar_names
from .index import paused_gc
from .previews import PREVIEW_SUFFIXES
from .sidecars import READERS

if TYPE_CHECKING:
    from .index import IndexCache  # which imports this module

log = logging.getLogger(__name__)


SIDECAR_SUFFIXES = tuple(suffix for suffix, _reader in READERS)


@dataclass
class Library:
    entries: list[ModelEntry]
    # (kind, name) of each known copy of another file -> the name of the copy chosen in its place (library/duplicates.py):
    # the recommender treats copies as one model.
    copies: dict[tuple[str, str], str] = field(default_factory=dict)
    # lora_scoring's matches per prompt, before style and the per-family cap are judged: a recommendation
    # asks for them several times (the style's vote, the checkpoint, the plan).
    match_memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    # Where search documents made before are kept (index.IndexCache), and each LoRA entry's row in it by
    # identity: (index key, signature).
    stored: tuple[IndexCache, dict[int, tuple[str, str]]] | None = field(default=None, repr=False, compare=False)
    # The process state that scanned it (its folders' listings, the search documents to reuse), or PROCESS's.
    state: ScanState | None = field(default=None, repr=False, compare=False)
    # Facts read from the whole library once, by name (the characters' first names): never cleared.
    derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def of_kind(self, kind: str) -> list[ModelEntry]:
        return self._by_kind.get(kind, [])

    def choices(self, kind: str) -> list[ModelEntry]:
        """What may be chosen: one file per model, its copies left out."""
        if not self.copies:
            return self.of_kind(kind)
        return [e for e in self.of_kind(kind) if (kind, e.name) not in self.copies]

    @cached_property
    def _by_kind(self) -> dict[str, list[ModelEntry]]:
        grouped: dict[str, list[ModelEntry]] = {}
        for e in self.entries:
            grouped.setdefault(e.kind, []).append(e)
        return grouped

    def find(self, kind: str, name: str) -> ModelEntry | None:
        """By ComfyUI name, then by file stem (how `<lora:stem:w>` tags name files)."""
        candidates = self.of_kind(kind)
        for e in candidates:
            if e.name == name:
                return e
        lowered = name.lower()
        for e in candidates:
            if Path(e.name).stem.lower() == lowered:
                return e
        return None

    @cached_property
    def lora_search(self) -> tuple[Any, Any]:
        """The LoRAs as documents of their own metadata (search.Documents), and the search index over them
        (library/search.py), in `of_kind("loras")` order."""
        with paused_gc():  # postings that live as long as the library (see paused_gc)
            return self._lora_search()

    def _lora_search(self) -> tuple[Any, Any]:
        from .search import EMPTY_DOCUMENT, Documents, SearchIndex

        state = self.state or PROCESS
        loras = self.of_kind("loras")
        texts: list[str] = []
        lengths: list[tuple[int, ...] | None] = []
        missing: list[int] = []
        for i, e in enumerate(loras):
            hit = state.documents.get(id(e))
            if ("loras", e.name) in self.copies:  # found through the file it copies, never on its own
                texts.append(EMPTY_DOCUMENT)
                lengths.append(None)
            elif hit is not None and hit[0] is e:
                texts.append(hit[1])
                lengths.append(hit[2])
            else:
                texts.append("")
                lengths.append(None)
                missing.append(i)
        for i, text in zip(missing, self._stored_or_made([loras[i] for i in missing]), strict=True):
            texts[i] = text
        documents = Documents(texts, lambda i: _document(loras[i]), lengths)
        index = SearchIndex.build(documents)
        # Only this library's: the entries of older scans are let go.
        state.documents = {id(e): (e, text, known) for e, text, known in zip(loras, texts, documents.lengths, strict=True)
                           if ("loras", e.name) not in self.copies}
        return index, documents

    def _stored_or_made(self, entries: list[ModelEntry]) -> list[str]:
        """The entries' documents as text: as stored by an earlier process when their files did not change
        since, else made now (and stored)."""
        from .search import encoded_document

        if not entries or self.stored is None:
            return [encoded_document(_document(e)) for e in entries]
        cache, rows = self.stored
        version = _document_version()
        wanted = {row[0]: f"{row[1]}|{version}" for e in entries if (row := rows.get(id(e)))}
        found = cache.documents(wanted)
        out, fresh = [], []
        for e in entries:
            row = rows.get(id(e))
            text = found.pop(row[0], "") if row else ""
            if not text:
                text = encoded_document(_document(e))
                if row:
                    fresh.append((row[0], wanted[row[0]], text))
            out.append(text)
        cache.store_documents(fresh)
        return out

    @cached_property
    def lora_positions(self) -> dict[int, int]:
        """Each LoRA entry's position in `of_kind("loras")`, and so in `lora_search`'s documents, by identity."""
        return {id(e): i for i, e in enumerate(self.of_kind("loras"))}

    @cached_property
    def detailers(self) -> dict[str, list[ModelEntry]]:
        """General detail enhancers per family, best known first: a detail LoRA is general when it has no concept
        of its own and at least a third of the words it names itself by say it adds detail (a slider or a tool
        may change anything: "Age Slider" changes age). "Macro Focus Stack"
        tagged photography, macro, focus stacking, detail is a macro LoRA that happens to add detail."""
        pool: dict[str, list[ModelEntry]] = {}
        for e in self.choices("loras"):
            if e.category == "detail" and e.usable and not e.concepts and _mostly_detail(e):
                pool.setdefault(e.family, []).append(e)
        for entries in pool.values():
            entries.sort(key=lambda e: (not e.known, -e.popularity, e.name))
        return pool


# What a detail LoRA does, not what kind of file it is: "Age Slider" is a slider (a detail-category tool) that
# changes age, no detail enhancer; "Detail Slider" is one.
DETAIL_WORDS = next(marks for category, marks in CATEGORY_WORDS if category == "detail") - {"slider", "tool", "fix"}


MIN_DETAIL_SHARE = 1 / 3


def _mostly_detail(entry: ModelEntry) -> bool:
    from .search import content_words_of  # the search's own reading of words

    own = [w for text in [entry.title, *entry.tags, *([] if entry.trigger_guessed else entry.trigger_words)]
           for w in content_words_of(text)]
    own = own or content_words_of(split_camel(file_stem(entry.name)))
    return not own or sum(w in DETAIL_WORDS for w in own) >= MIN_DETAIL_SHARE * len(own)


@lru_cache(maxsize=1)
def _document_version() -> str:
    """Stored documents are used only by the code that made them: a change to how words are read (these modules,
    the stemmer) makes them anew."""
    import snowballstemmer

    from ..text import vocabulary
    from . import search as retrieval

    digest = hashlib.blake2b(str(getattr(snowballstemmer, "__version__", "")).encode(), digest_size=8)
    for module in (retrieval, vocabulary, sys.modules[__name__]):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()


def _document(e: ModelEntry) -> Any:
    from .search import Document

    # Concepts from what it names itself only: a caption's "dynamic pose" does not make a pose LoRA.
    return Document.of(e.title, [] if e.trigger_guessed else e.trigger_words, e.tags, e.name,
                       sorted(concepts_in(" , ".join([e.title, *e.tags, *e.trigger_words, split_camel(file_stem(e.name))]))),
                       [*e.training_tags, *(e.trigger_words if e.trigger_guessed else [])], e.description, KIND_WORDS)


def folders_under(models_root: str | Path) -> dict[str, list[Path]]:
    """A ComfyUI-style models root: checkpoints/, loras/, vae/, and diffusion_models/ (or unet/) whose files are
    listed but never chosen as checkpoints: without their text encoders and VAE the checkpoint loader cannot
    load them."""
    root = Path(models_root)
    return {
        "checkpoints": [root / "checkpoints"],
        "loras": [root / "loras"],
        "vae": [root / "vae"],
        "diffusion_models": [root / "diffusion_models", root / "unet"],
    }


class ScanState:
    """What a process knows of its model folders between scans (a ComfyUI server rescans at every queue): each
    folder's listing, to skip listing an unchanged one (folder_watch); the last scan per folders and cache, to
    skip reading the index again; the last search's documents by entry, so that after one file changed the
    search index is rebuilt from documents (a tenth of the cost); and the caches whose saved listings it started
    from. ComfyUI's server holds its own (nodes/comfy.py); the command line and the tests use PROCESS."""

    def __init__(self) -> None:
        self.watch = FolderWatch(MODEL_SUFFIXES, SIDECAR_SUFFIXES + PREVIEW_SUFFIXES, ENTRY_VERSION)
        self.last_scan: dict[str, tuple[str, dict[str, tuple[str, ModelEntry]], Library]] = {}
        self.documents: dict[int, tuple[ModelEntry, str, tuple[int, ...] | None]] = {}
        self.remembered: set[str] = set()
        self.parts: dict[str, dict[int, _Part]] = {}  # per folders and cache: each directory's share of the last scan

    def forget(self) -> None:
        """As a new process would start: nothing known."""
        self.last_scan.clear()
        self.documents.clear()
        self.remembered.clear()
        self.parts.clear()
        self.watch.forget()


PROCESS = ScanState()


def scan(folders: dict[str, list[Path]], cache_dir: str | Path | None = None, state: ScanState = PROCESS) -> Library:
    """Index the folders; with a cache folder, unchanged files are not read again (see library/index.py).

    Within one process, a rescan reuses the entries of the previous scan for unchanged files:
    it costs a stat of each file plus describing what changed.
    """
    with paused_gc():
        return _scan(folders, cache_dir, state)


def _scan(folders: dict[str, list[Path]], cache_dir: str | Path | None, state: ScanState) -> Library:
    from .index import IndexCache
    from .workers import describe_many

    memo_key = f"{cache_dir}|{sorted(folders.items())}"
    stamp = fingerprint(folders, cache_dir, state)  # a metadata fetch refreshes the library too (our records)
    previous = state.last_scan.get(memo_key) if cache_dir else None
    if previous and previous[0] == stamp:
        return previous[2]  # no folder changed: a stat per folder, whatever the number of files
    walked = [(kind, state.watch.walk(str(folder))) for kind, paths in folders.items() for folder in paths]
    cache = IndexCache(Path(cache_dir)) if cache_dir else None
    if cache:
        cache.store_listings({key: saved.to_json() for key, saved in state.watch.unsaved().items()})
    known = previous[1] if previous else cache.load() if cache else {}
    kept = state.parts.get(memo_key, {}) if cache_dir else {}
    parts: dict[int, _Part] = {}
    jobs: list[tuple[str, str, str, frozenset[str], int]] = []
    waiting: list[tuple[_Part, int]] = []  # where each job's entry goes
    for kind, listings in walked:
        for listing in listings:
            part = kept.get(id(listing))
            if part is None or part.listing is not listing:
                part = _Part.of(kind, listing, known)
                for i, (path, name, _signature, suffixes, size) in enumerate(listing.files):
                    if part.entries[i] is None:
                        jobs.append((kind, path, name, sidecar_names(path, suffixes), size))
                        waiting.append((part, i))
            parts[id(listing)] = part
    fresh: list[tuple[str, str, ModelEntry]] = []
    for (part, i), entry in zip(waiting, describe_many(jobs), strict=True):
        part.entries[i] = entry
        fresh.append((part.keys[i], part.listing.files[i][2], entry))
    for part in parts.values():
        if not part.rows and part.listing.files:
            part.finish()
    if cache_dir:
        state.parts[memo_key] = parts  # only this scan's: the parts of changed folders are let go
    entries, current, rows = _assembled(walked, parts)
    copies: dict[tuple[str, str], str] = {}
    if cache and cache_dir:
        from .duplicates import copy_names, known_copies
        from .hashing import read_cache

        cache.update([row for row in fresh if row[0] in current], list(known.keys() - current.keys()))
        hashed = read_cache(cache_dir)
        entries = with_records(entries, Path(cache_dir), hashed)
        copies = copy_names(known_copies(entries, hashed))
    library = Library(entries, copies, stored=(cache, rows) if cache else None, state=state)
    if cache_dir:
        state.last_scan[memo_key] = (stamp, current, library)
    return library


@dataclass
class _Part:
    """One directory's share of a scan, kept while its listing is the same object (folder_watch keeps an
    unchanged directory's listing): a rescan after one file changed reworks that directory alone, and the
    rest of the library is put together from whole lists (no step per model file)."""

    listing: Any  # folder_watch.Listing
    kind: str
    keys: list[str]
    entries: list[Any]  # ModelEntry, None until described
    rows: list[tuple[str, str, str, tuple[str, str], ModelEntry]] = field(default_factory=list)
    current: dict[str, tuple[str, ModelEntry]] = field(default_factory=dict)  # index key -> signature, entry
    loras: dict[int, tuple[str, str]] = field(default_factory=dict)  # LoRA entry by identity -> key, signature

    @classmethod
    def of(cls, kind: str, listing: Any, known: dict[str, tuple[str, ModelEntry]]) -> _Part:
        keys = [f"{kind}\0{path}" for path, *_rest in listing.files]
        entries: list[Any] = []
        for key, (_path, _name, signature, _suffixes, _size) in zip(keys, listing.files, strict=True):
            cached = known.get(key)
            entries.append(cached[1] if cached and cached[0] == signature else None)
        return cls(listing, kind, keys, entries)

    def finish(self) -> None:
        """Its rows (ComfyUI name, index key, signature, (kind, lower-case stem), entry), once described."""
        files = self.listing.files
        kind = self.kind
        self.rows = [(file[1], key, file[2], (kind, file_stem(file[1]).lower()), entry)
                     for file, key, entry in zip(files, self.keys, self.entries, strict=True)]
        self.current = {key: (signature, entry) for _name, key, signature, _stem, entry in self.rows}
        if self.kind == "loras":
            self.loras = {id(entry): (key, signature) for _name, key, signature, _stem, entry in self.rows}


def _assembled(walked: list[tuple[str, list[Any]]], parts: dict[int, _Part]
               ) -> tuple[list[ModelEntry], dict[str, tuple[str, ModelEntry]], dict[int, tuple[str, str]]]:
    """The library's entries (each folder's files sorted by name, folders in order), each index key's
    signature and entry, and each LoRA entry's index key and signature, by identity. ComfyUI resolves a
    name to the first folder of its kind that has it; a second file of one kind with the same file name
    is told that `<lora:name>` means the first."""
    folders = Counter(kind for kind, _listings in walked)
    rows: list[tuple[str, str, str, tuple[str, str], ModelEntry]] = []
    current: dict[str, tuple[str, ModelEntry]] = {}
    loras: dict[int, tuple[str, str]] = {}
    seen: set[tuple[str, str]] = set()
    for kind, listings in walked:
        found = [parts[id(listing)] for listing in listings]
        mine = sorted(chain.from_iterable(p.rows for p in found))  # by name: names are unique in a folder
        if folders[kind] > 1:  # one kind in several folders: the first folder's file of a name stands
            mine = [row for row in mine if (kind, row[0]) not in seen]
            seen.update((kind, row[0]) for row in mine)
            current.update((row[1], (row[2], row[4])) for row in mine)
            loras.update((id(row[4]), (row[1], row[2])) for row in mine if kind == "loras")
        else:
            for p in found:
                current.update(p.current)
                loras.update(p.loras)
        rows.extend(mine)
    entries = list(map(itemgetter(4), rows))
    stems = list(map(itemgetter(3), rows))
    if len(set(stems)) != len(stems):  # rare: the same file name in two subfolders
        first: dict[tuple[str, str], str] = {}
        for i, (stem, entry) in enumerate(zip(stems, entries, strict=True)):
            if first.setdefault(stem, entry.name) != entry.name:  # a fact of this scan: kept out of the index
                entries[i] = replace(entry, problems=[*entry.problems, f"same file name as {first[stem]}; "
                                                                       f"`<lora:{stem[1]}>` means the first"])
                if stem[0] == "loras":
                    loras[id(entries[i])] = loras.pop(id(entry))
    return entries, current, loras


def _cache_stamp(cache_dir: str | Path | None) -> str:
    """Our records and the hash cache (which says what is a copy of what): a stat each."""
    stamps = []
    for part in ("model_records", "hashes.sqlite", "hashes.sqlite-wal") if cache_dir else ():
        try:
            stamps.append(str(os.stat(Path(cache_dir, part)).st_mtime_ns))  # type: ignore[arg-type]
        except OSError:
            stamps.append("")
    return ".".join(stamps)


def model_files(folder: Path, full: bool = False, state: ScanState = PROCESS) -> list[ModelFile]:
    """(path, ComfyUI name, signature, sidecar file names, size) of every model file under folder.

    The signature changes when the file or one of its sidecars changes. Symbolic links are followed, but a
    folder already visited (a link loop) is skipped. Unchanged directories are not listed again (folder_watch);
    `full` stats every file, for changes made in place.
    """
    return state.watch.files(str(folder), full)


def remember_listings(cache_dir: str | Path, state: ScanState = PROCESS) -> None:
    """Start from the folder listings an earlier process saved in `cache_dir`: a new process then lists only
    the directories that changed since (not a stat of every file). For callers that check the files they are
    about to use (`stale`) and leave the rest to `sweep`: a file rewritten in place shows only so."""
    from .folder_watch import Listing
    from .index import IndexCache

    if str(cache_dir) in state.remembered:
        return
    state.remembered.add(str(cache_dir))
    saved = IndexCache(Path(cache_dir)).listings()
    state.watch.remember({key: listing for key, text in saved.items() if (listing := Listing.from_json(text))})


def forget_scans(state: ScanState = PROCESS) -> None:
    """As after a restart: the next scan reads the folders and the index on disk anew."""
    state.forget()


def sweep(folders: dict[str, list[Path]], state: ScanState = PROCESS) -> int:
    """Every file's stat again (a file rewritten in place shows only so); the generation after it."""
    return state.watch.sweep([str(folder) for paths in folders.values() for folder in paths])


def fingerprint(folders: dict[str, list[Path]], cache_dir: str | Path | None = None,
                state: ScanState = PROCESS) -> str:
    """Changes whenever a model folder's files change, or our records or the hash cache do; a stat per folder."""
    generation = state.watch.stamp([str(folder) for paths in folders.values() for folder in paths])
    return f"{generation}.{_cache_stamp(cache_dir)}"


def stale(library: Library, used: list[tuple[str, str]]) -> list[str]:
    """The names among `used` ((kind, name) the prompt is about to use) whose files changed in place since
    the library read them; the next scan reads them again."""
    paths = {entry.path: entry.name for kind, name in used if (entry := library.find(kind, name)) is not None}
    return [paths[p] for p in (library.state or PROCESS).watch.verify(list(paths))]
