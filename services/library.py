"""The model library: what checkpoints, LoRAs and VAEs the user has, and what is known of each.

Sources are folders per kind (ComfyUI's folder_paths inside ComfyUI, or a
ComfyUI-style models root outside it). Only safetensors headers and sidecar
files are read: tensors are never loaded, pickle files never opened, whole
files never hashed. Metadata is merged with a fixed precedence: other tools'
sidecars (LoRA Manager, CivitAI Helper, Stability Matrix, A1111), then the
training metadata embedded in the file, then the file name.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

from . import base_model as bases
from .folder_watch import FolderWatch, ModelFile
from .previews import PREVIEW_SUFFIXES, local_preview
from .safetensors_header import HeaderError, SafetensorsHeader, read_header
from .sidecars import READERS, problem_text, read_sidecars
from .vocabulary import GENERIC, concepts_in, concepts_in_words, content_words, fold, split_camel, style_scores_words

if TYPE_CHECKING:
    from .index import IndexCache  # which imports this module

log = logging.getLogger(__name__)

KINDS = ("checkpoints", "loras", "vae")
MODEL_SUFFIXES = (".safetensors", ".sft", ".ckpt", ".pt", ".pth", ".bin", ".gguf")
SIDECAR_SUFFIXES = tuple(suffix for suffix, _reader in READERS)
_TITLE_SEPARATORS = re.compile(r"[_\-.]+")
ENTRY_VERSION = 22  # bump when describe() learns something new: cached entries are then re-read

# LoRA categories, from the words their metadata uses (first match wins).
CATEGORY_WORDS = (
    ("character", {"character", "original character", "oc", "characters"}),
    ("detail", {"detail", "enhancer", "slider", "tool", "quality", "fix", "detailer", "tweaker"}),
    ("lighting", {"lighting"}),
    ("background", {"background", "backgrounds"}),
    ("clothing", {"clothing", "outfit", "clothes"}),
    ("pose", {"pose", "poses"}),
    ("style", {"style", "styles", "artstyle"}),
    ("concept", {"concept", "effect", "concepts"}),
)
KIND_WORDS = frozenset({w for _category, marks in CATEGORY_WORDS for w in marks} | {"lora", "effects", "tools"})


@dataclass
class ModelEntry:
    kind: str
    name: str  # as ComfyUI names it: path relative to its folder, "/"-separated
    path: str  # absolute; for local use only, never written into image metadata
    size: int
    base_model: str | None = None
    family: str = bases.UNKNOWN
    title: str = ""
    tags: list[str] = field(default_factory=list)
    trigger_words: list[str] = field(default_factory=list)
    trigger_guessed: bool = False  # from training tags or the name, not from published metadata
    preferred_weight: float | None = None
    description: str = ""
    training_tags: list[str] = field(default_factory=list)
    popularity: float = 0.0
    recommended: dict[str, Any] = field(default_factory=dict)
    has_vae: bool | None = None
    sources: list[str] = field(default_factory=list)
    embedded_hash: str | None = None  # kohya's sshs_model_hash (AutoV3 source)
    problems: list[str] = field(default_factory=list)
    # Derived once when the file is read, so searching thousands of entries stays cheap.
    concepts: list[str] = field(default_factory=list)
    tag_keys: list[str] = field(default_factory=list)  # whole tags and trigger words: strong evidence when in a prompt
    name_keys: list[str] = field(default_factory=list)  # how a character is named: trigger words, title's first words
    primary_concepts: list[str] = field(default_factory=list)  # named by its title or trigger words
    styles: dict[str, float] = field(default_factory=dict)
    category: str = ""
    preview: str = ""  # the preview image another tool left next to the file (its file name), if any
    preview_nsfw: int | None = None  # that image's CivitAI nsfwLevel, when a sidecar says it

    @property
    def usable(self) -> bool:
        """A file whose header could not be read would fail to load: never pick it."""
        return not any(p.startswith("unreadable") for p in self.problems)

    @property
    def known(self) -> bool:
        """Some metadata beyond the file name speaks for it."""
        return bool(self.sources)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)  # fields hold only JSON types; asdict's deep copy is slow at 10,000 entries

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelEntry:
        """Rows of other ENTRY_VERSIONs never get here (their signatures differ), so the keys match."""
        return cls(**data)


_FIELDS = tuple(f.name for f in fields(ModelEntry))


def entry_values(entry: ModelEntry) -> list[Any]:
    """The entry's field values in declaration order: ModelEntry(*values) rebuilds it."""
    values = entry.__dict__
    return [values[name] for name in _FIELDS]


@dataclass
class Library:
    entries: list[ModelEntry]
    # (kind, name) of each known copy of another file -> the name of the copy chosen in its place (duplicates.py):
    # the recommender treats copies as one model.
    copies: dict[tuple[str, str], str] = field(default_factory=dict)
    # lora_scoring's matches per prompt, before style and the per-family cap are judged: a recommendation
    # asks for them several times (the style's vote, the checkpoint, the plan).
    match_memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    # Where search documents made before are kept (index.IndexCache), and each LoRA entry's row in it by
    # identity: (index key, signature).
    stored: tuple[IndexCache, dict[int, tuple[str, str]]] | None = field(default=None, repr=False, compare=False)

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
    def lora_search(self) -> tuple[Any, list[Any]]:
        """The LoRAs as documents of their own metadata, and the search index over them (retrieval.py),
        in `of_kind("loras")` order."""
        with paused_gc():  # a million small objects that live as long as the library (see paused_gc)
            return self._lora_search()

    def _lora_search(self) -> tuple[Any, list[Any]]:
        from .retrieval import Document, SearchIndex

        global _documents
        loras = self.of_kind("loras")
        docs: list[Any] = []
        missing: list[int] = []
        for i, e in enumerate(loras):
            hit = _documents.get(id(e))
            if ("loras", e.name) in self.copies:  # found through the file it copies, never on its own
                docs.append(Document({}))
            elif hit is not None and hit[0] is e:
                docs.append(hit[1])
            else:
                docs.append(None)
                missing.append(i)
        for i, doc in zip(missing, self._stored_or_made([loras[i] for i in missing]), strict=True):
            docs[i] = doc
        # Only this library's: the entries of older scans are let go.
        _documents = {id(e): (e, doc) for e, doc in zip(loras, docs, strict=True) if ("loras", e.name) not in self.copies}
        return SearchIndex.build(docs), docs

    def _stored_or_made(self, entries: list[ModelEntry]) -> list[Any]:
        """The entries' documents: as stored by an earlier process when their files did not change since,
        else made now (and stored)."""
        if not entries or self.stored is None:
            return [_document(e) for e in entries]
        from .retrieval import Document

        cache, rows = self.stored
        version = _document_version()
        wanted = {row[0]: f"{row[1]}|{version}" for e in entries if (row := rows.get(id(e)))}
        found = cache.documents(wanted)
        out, fresh = [], []
        for e in entries:
            row = rows.get(id(e))
            value = _decoded(found.pop(row[0], "")) if row else None
            if _document_shaped(value):
                # One string per word, as made documents share them (retrieval caches its terms): decoded JSON
                # would hold each occurrence apart, 80 MB more at 100,000 LoRAs.
                out.append(Document({name: [sys.intern(t) for t in words] for name, words in value[0].items()},
                                    set(value[1])))
                continue
            doc = _document(e)
            out.append(doc)
            if row:
                fresh.append((row[0], wanted[row[0]], [doc.fields, sorted(doc.whole)]))
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
    from .retrieval import content_words_of  # the search's own reading of words

    own = [w for text in [entry.title, *entry.tags, *([] if entry.trigger_guessed else entry.trigger_words)]
           for w in content_words_of(text)]
    own = own or content_words_of(split_camel(_stem(entry.name)))
    return not own or sum(w in DETAIL_WORDS for w in own) >= MIN_DETAIL_SHARE * len(own)


# The last search's documents by entry: a rescan reuses the entries of unchanged files, and with them their
# documents, so after one file changed the search index is rebuilt from documents (a tenth of the cost).
_documents: dict[int, tuple[ModelEntry, Any]] = {}


@lru_cache(maxsize=1)
def _document_version() -> str:
    """Stored documents are used only by the code that made them: a change to how words are read (these modules,
    the stemmer) makes them anew."""
    import snowballstemmer

    from . import retrieval, vocabulary

    digest = hashlib.blake2b(str(getattr(snowballstemmer, "__version__", "")).encode(), digest_size=8)
    for module in (retrieval, vocabulary, sys.modules[__name__]):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()


def _decoded(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:  # a damaged row: the document is made again
        return None


def _document_shaped(value: Any) -> TypeGuard[list[Any]]:
    from .retrieval import FIELDS

    # Our own rows: the shape is checked, not every word (a damaged row fails to parse as JSON).
    return (isinstance(value, list) and len(value) == 2 and isinstance(value[0], dict) and isinstance(value[1], list)
            and value[0].keys() <= FIELDS.keys())


def _document(e: ModelEntry) -> Any:
    from .retrieval import Document

    # Concepts from what it names itself only: a caption's "dynamic pose" does not make a pose LoRA.
    return Document.of(e.title, [] if e.trigger_guessed else e.trigger_words, e.tags, e.name,
                       sorted(concepts_in(" , ".join([e.title, *e.tags, *e.trigger_words, split_camel(_stem(e.name))]))),
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


# Per process (a ComfyUI server rescans at every queue): the last scan, to skip reading the index again, and
# each model directory's listing, to skip listing an unchanged one.
_last_scan: dict[str, tuple[str, dict[str, tuple[str, ModelEntry]], Library]] = {}
WATCH = FolderWatch(MODEL_SUFFIXES, SIDECAR_SUFFIXES + PREVIEW_SUFFIXES, ENTRY_VERSION)


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


def scan(folders: dict[str, list[Path]], cache_dir: str | Path | None = None) -> Library:
    """Index the folders; with a cache folder, unchanged files are not read again (see index.py).

    Within one process, a rescan reuses the entries of the previous scan for unchanged files:
    it costs a stat of each file plus describing what changed.
    """
    with paused_gc():
        return _scan(folders, cache_dir)


def _scan(folders: dict[str, list[Path]], cache_dir: str | Path | None) -> Library:
    from .index import IndexCache

    memo_key = f"{cache_dir}|{sorted(folders.items())}"
    stamp = fingerprint(folders, cache_dir)  # a metadata fetch refreshes the library too (our records)
    previous = _last_scan.get(memo_key) if cache_dir else None
    if previous and previous[0] == stamp:
        return previous[2]  # no folder changed: a stat per folder, whatever the number of files
    listing = [(kind, model_files(Path(folder))) for kind, paths in folders.items() for folder in paths]
    cache = IndexCache(Path(cache_dir)) if cache_dir else None
    known = previous[1] if previous else cache.load() if cache else {}
    from .describe_workers import describe_many

    entries: list[ModelEntry] = []
    fresh: list[tuple[str, str, ModelEntry]] = []
    current: dict[str, tuple[str, ModelEntry]] = {}
    names: set[tuple[str, str]] = set()
    stems: dict[tuple[str, str], str] = {}
    chosen: list[tuple[str, str, str, ModelEntry | None]] = []  # kind, key, signature, cached entry
    rows: dict[int, tuple[str, str]] = {}  # LoRA entry by identity -> its index key and signature
    jobs: list[tuple[str, str, str, frozenset[str], int]] = []
    for kind, files in listing:
        for path, name, signature, sidecars, size in files:
            if (kind, name) in names:  # ComfyUI resolves a name to the first folder that has it
                continue
            names.add((kind, name))
            key = f"{kind}\0{path}"
            cached = known.get(key)
            reuse = cached[1] if cached and cached[0] == signature else None
            if reuse is None:
                jobs.append((kind, path, name, sidecars, size))
            chosen.append((kind, key, signature, reuse))
    described = iter(describe_many(jobs))
    for kind, key, signature, reuse in chosen:
        entry = reuse if reuse is not None else next(described)
        if reuse is None:
            fresh.append((key, signature, entry))
        current[key] = (signature, entry)
        stem = (kind, _stem(entry.name).lower())
        first = stems.setdefault(stem, entry.name)
        if first != entry.name:  # a fact of this scan, not of the file: kept out of the index
            entry = replace(entry, problems=[*entry.problems, f"same file name as {first}; `<lora:{stem[1]}>` "
                                                              "means the first"])
        if kind == "loras":
            rows[id(entry)] = (key, signature)
        entries.append(entry)
    copies: dict[tuple[str, str], str] = {}
    if cache and cache_dir:
        from .duplicates import copy_names, known_copies
        from .hashing import read_cache

        cache.update(fresh, [k for k in known if k not in current])
        hashed = read_cache(cache_dir)
        entries = _with_records(entries, Path(cache_dir), hashed)
        copies = copy_names(known_copies(entries, hashed))
    library = Library(entries, copies, stored=(cache, rows) if cache else None)
    if cache_dir:
        _last_scan[memo_key] = (stamp, current, library)
    return library


def _cache_stamp(cache_dir: str | Path | None) -> str:
    """Our records and the hash cache (which says what is a copy of what): a stat each."""
    stamps = []
    for part in ("model_records", "hashes.sqlite", "hashes.sqlite-wal") if cache_dir else ():
        try:
            stamps.append(str(os.stat(Path(cache_dir, part)).st_mtime_ns))  # type: ignore[arg-type]
        except OSError:
            stamps.append("")
    return ".".join(stamps)


def _with_records(entries: list[ModelEntry], cache_dir: Path, known: dict[str, Any]) -> list[ModelEntry]:
    """Entries overlaid with our own fetched records (highest precedence after the user's choices).

    Records are keyed by SHA-256; the library never hashes, so only files the hash cache already
    knows (unchanged since hashed) are matched: one query, one folder listing.
    """
    from .hashing import still_current
    from .model_records import RECORDS_FOLDER, load_record
    from .sidecars import our_record

    try:
        stored = {name[:-5] for name in os.listdir(cache_dir / RECORDS_FOLDER) if name.endswith(".json")}
    except OSError:
        return entries
    if not stored:
        return entries
    out = []
    for entry in entries:
        cached = known.get(entry.path)
        record = None
        if cached and cached.sha256 in stored and "intelligent_generation" not in entry.sources:
            sha = still_current(entry.path, cached)
            record = load_record(cache_dir, sha) if sha else None
        if record and record.get("status") == "found":
            entry = ModelEntry.from_dict(dict(entry.__dict__, sources=list(entry.sources),
                                              problems=list(entry.problems)))
            _apply_info(entry, our_record(record))
            _settle_family(entry, entry.family)
            _derive(entry)
        out.append(entry)
    return out


def _apply_info(entry: ModelEntry, info: Any) -> None:
    """Overlay one metadata source that outranks everything already merged."""
    entry.sources.insert(0, info.source)
    entry.base_model = _finer_base(entry.base_model, bases.canonical_base(info.base_model))
    entry.title = info.title or entry.title
    entry.tags = _merge(info.tags, entry.tags)
    if info.trigger_words:
        entry.trigger_words, entry.trigger_guessed = info.trigger_words, False
    entry.preferred_weight = info.preferred_weight or entry.preferred_weight
    entry.description = info.description or entry.description
    entry.popularity = info.popularity or entry.popularity
    entry.recommended = info.recommended or entry.recommended


def model_files(folder: Path, full: bool = False) -> list[ModelFile]:
    """(path, ComfyUI name, signature, sidecar file names, size) of every model file under folder.

    The signature changes when the file or one of its sidecars changes. Symbolic links are followed, but a
    folder already visited (a link loop) is skipped. Unchanged directories are not listed again (folder_watch);
    `full` stats every file, for changes made in place.
    """
    return WATCH.files(str(folder), full)


def forget_scans() -> None:
    """As after a restart: the next scan reads the folders and the index on disk anew."""
    _last_scan.clear()
    _documents.clear()
    WATCH.forget()


def sweep(folders: dict[str, list[Path]]) -> int:
    """Every file's stat again (a file rewritten in place shows only so); the generation after it."""
    return WATCH.sweep([str(folder) for paths in folders.values() for folder in paths])


def fingerprint(folders: dict[str, list[Path]], cache_dir: str | Path | None = None) -> str:
    """Changes whenever a model folder's files change, or our records or the hash cache do; a stat per folder."""
    generation = WATCH.stamp([str(folder) for paths in folders.values() for folder in paths])
    return f"{generation}.{_cache_stamp(cache_dir)}"


def stale(library: Library, used: list[tuple[str, str]]) -> list[str]:
    """The names among `used` ((kind, name) the prompt is about to use) whose files changed in place since
    the library read them; the next scan reads them again."""
    paths = {entry.path: entry.name for kind, name in used if (entry := library.find(kind, name)) is not None}
    return [paths[p] for p in WATCH.verify(list(paths))]


def describe(
    kind: str, path: str | Path, name: str, sidecars: frozenset[str] | None = None, size: int | None = None
) -> ModelEntry:
    """What is known of one model file. One odd file never breaks the library: whatever its metadata does
    (nested 100,000 deep, wrong types), the file is listed by its name with the problem said."""
    try:
        return _describe(kind, path, name, sidecars, size)
    except Exception as exc:  # noqa: BLE001 (any parse error of one file's metadata is that file's problem)
        log.warning("Intelligent Generation: the metadata of %s was ignored: %s: %s", name, type(exc).__name__, exc)
        try:
            entry = _describe(kind, path, name, frozenset(), size, embedded=False)
        except Exception:  # noqa: BLE001
            entry = ModelEntry(kind=kind, name=name, path=str(path), size=size or 0, title=_title_from_name(str(path)))
        entry.problems.append(f"metadata ignored ({problem_text(exc)})")
        return entry


def _describe(kind: str, path: str | Path, name: str, sidecars: frozenset[str] | None = None,
              size: int | None = None, embedded: bool = True) -> ModelEntry:
    path = str(path)  # plain strings: describe runs for every file of a first scan
    entry = ModelEntry(kind=kind, name=name, path=path, size=_size(path) if size is None else size,
                       title=_title_from_name(path))
    family = bases.UNKNOWN
    if path.lower().endswith((".safetensors", ".sft")):
        try:
            header = read_header(path)
        except HeaderError as exc:
            entry.problems.append(f"unreadable: {exc}")
            log.warning("Intelligent Generation: %s", exc)
        else:
            family = bases.family_from_tensors(header.tensors)
            entry.has_vae = _has_vae(header) if kind == "checkpoints" else None
            if embedded:
                _apply_embedded(entry, header.metadata)
            if family == "flux" and not any("guidance_in" in k for k in header.tensors) and kind == "checkpoints":
                entry.base_model = entry.base_model or "Flux.1 S"
    infos, problems = read_sidecars(path, sidecars)
    entry.problems.extend(problems)
    entry.preview = local_preview(path, sidecars)
    entry.preview_nsfw = next((i.preview_nsfw for i in infos if i.preview_nsfw is not None), None)
    for info in reversed(infos):  # lowest precedence first, so better sources overwrite
        entry.sources.append(info.source)
        entry.base_model = _finer_base(entry.base_model, bases.canonical_base(info.base_model))
        entry.title = info.title or entry.title
        entry.tags = _merge(info.tags, entry.tags)
        if info.trigger_words:
            entry.trigger_words, entry.trigger_guessed = info.trigger_words, False
        entry.preferred_weight = info.preferred_weight or info.example_weight or entry.preferred_weight
        entry.description = info.description or entry.description
        entry.popularity = info.popularity or entry.popularity
        entry.recommended = info.recommended or entry.recommended
    entry.sources.reverse()
    _settle_family(entry, family)
    if kind == "loras" and not entry.trigger_words:
        _guess_trigger(entry)
    _derive(entry)
    return entry


def _has_vae(header: SafetensorsHeader) -> bool:
    return any(k.startswith(("first_stage_model.", "vae.")) for k in header.tensors)


def _apply_embedded(entry: ModelEntry, metadata: dict[str, str]) -> None:
    """Training metadata inside the file: kohya's ss_* keys and the modelspec standard."""
    if not metadata:
        return
    entry.sources.append("embedded")
    for key in ("ss_sd_model_name", "modelspec.architecture", "ss_base_model_version"):
        base = bases.canonical_base(metadata.get(key, "").split("/")[0])
        if base:
            entry.base_model = base
            break
    title = metadata.get("modelspec.title") or metadata.get("ss_output_name")
    if title:
        entry.title = split_camel(title).replace("_", " ")
    if metadata.get("modelspec.tags"):
        entry.tags = _merge([t.strip() for t in metadata["modelspec.tags"].split(",")], entry.tags)
    if metadata.get("modelspec.trigger_phrase"):
        entry.trigger_words = [metadata["modelspec.trigger_phrase"]]
    if metadata.get("sshs_model_hash"):
        entry.embedded_hash = metadata["sshs_model_hash"].lower()
    entry.training_tags = _training_tags(metadata.get("ss_tag_frequency", ""))


def _training_tags(raw: str, limit: int = 16) -> list[str]:
    """Caption tags in the order kohya recorded them; captions usually start with the trigger."""
    try:
        datasets = json.loads(raw) if raw else {}
    except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
        return []
    tags: list[str] = []
    if isinstance(datasets, dict):
        for counts in datasets.values():
            if isinstance(counts, dict):
                tags.extend(str(t).strip() for t in counts if str(t).strip() and str(t).strip() not in tags)
    return tags[:limit]


def _guess_trigger(entry: ModelEntry) -> None:
    """No published trigger word: kohya captions usually open with it, so the first training tag, or the
    opening pair when that tag is a broad caption word ("scenery, shrine"); counting tags ("1girl", "solo")
    are skipped. With no metadata at all, the concept its file name names ("ActionPoseXL")."""
    lead = [t for t in entry.training_tags[:4] if not _COUNTING_TAG.fullmatch(t.lower())]
    if lead and lead[0].lower() not in GENERIC:
        entry.trigger_words, entry.trigger_guessed = [lead[0]], True
    elif len(lead) >= 2:
        entry.trigger_words, entry.trigger_guessed = [f"{lead[0]}, {lead[1]}"], True
    if not entry.training_tags and not entry.sources:
        named = concepts_in(split_camel(_stem(entry.name)))
        if named:
            entry.trigger_words, entry.trigger_guessed = [next(iter(named.values()))], True


_COUNTING_TAG = re.compile(r"\d+(girl|boy|other)s?|solo|no humans|multiple (girls|boys)")


def _settle_family(entry: ModelEntry, detected: str) -> None:
    """Tensors decide the family; metadata only names the base within it (Pony is SDXL)."""
    claimed = bases.family_of(entry.base_model)
    if detected != bases.UNKNOWN and claimed not in (detected, bases.UNKNOWN):
        entry.problems.append(
            f"metadata says {entry.base_model} but the tensors are {detected}; trusting the tensors"
        )
        entry.base_model = bases.DEFAULT_BASE_OF_FAMILY.get(detected)
    entry.family = detected if detected != bases.UNKNOWN else claimed
    default = bases.DEFAULT_BASE_OF_FAMILY.get(entry.family)
    if entry.base_model in (None, default):
        entry.base_model = _base_from_name(entry.name, entry.family) or entry.base_model or default


def _finer_base(current: str | None, new: str | None) -> str | None:
    """A better source's base, unless it only names the family that another source already narrowed:
    A1111's "sd version" says SDXL for Pony and Illustrious models alike."""
    if new is None:
        return current
    family = bases.family_of(new)
    if current and new == bases.DEFAULT_BASE_OF_FAMILY.get(family) and bases.family_of(current) == family:
        return current
    return new


# Bases within a family that folder and file names spell ("pony/", "..._il", "noobai"): tensors cannot tell.
_NAMED_BASES = {"pony": "Pony", "illustrious": "Illustrious", "il": "Illustrious", "noobai": "NoobAI",
                "noob": "NoobAI", "schnell": "Flux.1 S"}


def _base_from_name(name: str, family: str) -> str | None:
    """No metadata names the base: the folder or file name may ("pony/ponyAnimeFusion_v6.safetensors")."""
    words = fold(split_camel(name)).split()
    return next((base for word in words if (base := _NAMED_BASES.get(word)) and bases.family_of(base) == family),
                None)


def _derive(entry: ModelEntry) -> None:
    """Concepts, style leaning, names and category, from everything known (each text folded once)."""
    stem = split_camel(_stem(entry.name))
    title_words = fold(split_camel(entry.title)).split()
    stem_words = fold(stem).split()
    tag_words = fold(split_camel(" , ".join([*entry.tags, *entry.trigger_words]))).split()
    named = tag_words + title_words + stem_words
    caption = fold(" , ".join(entry.training_tags[:8])).split()
    concepts = concepts_in_words(named).keys() | concepts_in_words(caption).keys()
    description = fold(entry.description[:400]).split()
    if not entry.tags:  # sparse metadata (A1111's sidecar has no tags): the description has to speak
        concepts |= concepts_in_words(description).keys()
    entry.concepts = sorted(concepts)
    triggers = {re.sub(r"[^a-z0-9]", "", t.lower()) for t in entry.trigger_words if t.strip()}
    phrases = [*entry.tags, *entry.trigger_words] or [entry.title]  # a bare file name is all some LoRAs have
    entry.tag_keys = sorted({f for t in phrases if (f := fold(t).strip()) not in GENERIC and len(f) > 2})
    # Training captions describe the dataset ("1boy"), not the style, so they count for concepts only.
    entry.styles = {k: v for k, v in style_scores_words(named + description).items() if v}
    title = content_words(title_words) or content_words(stem_words)
    names = set(triggers)
    if title:  # the whole name: "Kohaku" alone may be a koi, "Kohaku Amane" is her
        names.add("".join(title[:2]))
    entry.name_keys = sorted(names - GENERIC - {""})
    trigger_words = fold(" , ".join(entry.trigger_words)).split()
    entry.primary_concepts = sorted(concepts_in_words(title_words + stem_words).keys()
                                    | concepts_in_words(trigger_words).keys())
    # The tags say what kind of LoRA it is; a file name's word ("..._fix" for a bug-fix release) only without them.
    tagged = {t.lower() for t in entry.tags} | set(content_words(tag_words))
    # Without either, the folders the user sorted it into ("loras/sdxl/style/", "characters/").
    folders = fold(" ".join(entry.name.replace("\\", "/").split("/")[:-1])).split()
    entry.category = (_category(tagged) or _category(set(content_words(title_words + stem_words)))
                      or _category(set(folders)))


def _category(words: set[str]) -> str:
    return next((category for category, marks in CATEGORY_WORDS if words & marks), "")


def _merge(first: list[str], second: list[str]) -> list[str]:
    return list(dict.fromkeys([*first, *second]))


def _stem(name: str) -> str:
    """The file name without its last suffix, as Path.stem (without building a Path)."""
    base = name.rsplit("/", 1)[-1].rsplit(os.sep, 1)[-1]
    stem, dot, _suffix = base.rpartition(".")
    return stem if dot and stem else base


def _title_from_name(path: str) -> str:
    return _TITLE_SEPARATORS.sub(" ", split_camel(_stem(path))).strip()


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
