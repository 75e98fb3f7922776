"""What is known of one model file: its header, the sidecars beside it, its embedded training metadata and its name,
merged with a fixed precedence (other tools' sidecars, then the training metadata, then the file name); our own
fetched records outrank them all."""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..text.vocabulary import (
    GENERIC,
    concepts_in,
    concepts_in_words,
    content_words,
    fold,
    split_camel,
    style_scores_words,
)
from . import base_model as bases
from .previews import local_preview
from .safetensors_header import HeaderError, SafetensorsHeader, read_header
from .sidecars import problem_text, read_sidecars

if TYPE_CHECKING:
    pass  # which imports this module
from .entries import CATEGORY_WORDS, ModelEntry, file_stem

log = logging.getLogger(__name__)


_TITLE_SEPARATORS = re.compile(r"[_\-.]+")


ENTRY_VERSION = 24  # bump when describe() learns something new: cached entries are then re-read


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
            entry.unreadable = True
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
        named = concepts_in(split_camel(file_stem(entry.name)))
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
    stem = split_camel(file_stem(entry.name))
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


def _title_from_name(path: str) -> str:
    return _TITLE_SEPARATORS.sub(" ", split_camel(file_stem(path))).strip()


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def with_records(entries: list[ModelEntry], cache_dir: Path, known: dict[str, Any]) -> list[ModelEntry]:
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
            entry = ModelEntry.from_dict(dict(entry.to_dict(), sources=list(entry.sources),
                                              problems=list(entry.problems)))
            apply_info(entry, our_record(record))
            _settle_family(entry, entry.family)
            _derive(entry)
        out.append(entry)
    return out


def apply_info(entry: ModelEntry, info: Any) -> None:
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
