"""The model library: what checkpoints, LoRAs and VAEs the user has, and what is known of each.

Sources are folders per kind (from ComfyUI's folder_paths inside ComfyUI, or a
ComfyUI-style models root outside it). Only safetensors headers and sidecar
files are read: tensors are never loaded and pickle files are never opened.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import base_model as bases
from .safetensors_header import HeaderError, read_header
from .sidecars import read_sidecars

log = logging.getLogger(__name__)

KINDS = ("checkpoints", "loras", "vae")
MODEL_SUFFIXES = (".safetensors", ".sft", ".ckpt", ".pt", ".pth", ".bin", ".gguf")
PICKLE_SUFFIXES = (".ckpt", ".pt", ".pth", ".bin")


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
    preferred_weight: float | None = None
    description: str = ""
    sources: list[str] = field(default_factory=list)
    embedded_hash: str | None = None  # kohya's sshs_model_hash (AutoV3 source)
    problems: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        """A file whose header could not be read would fail to load: never pick it."""
        return not any(p.startswith("unreadable") for p in self.problems)

    def words(self) -> set[str]:
        """Lower-case words of title, name, tags and trigger words, for matching against prompts."""
        text = " ".join([self.title, self.name, *self.tags, *self.trigger_words])
        return set(re.findall(r"[a-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", text).lower()))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Library:
    entries: list[ModelEntry]

    def of_kind(self, kind: str) -> list[ModelEntry]:
        return [e for e in self.entries if e.kind == kind]

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


def folders_under(models_root: str | Path) -> dict[str, list[Path]]:
    """A ComfyUI-style models root: checkpoints/, loras/, vae/ (unet/ and diffusion_models/ ignored here)."""
    root = Path(models_root)
    return {kind: [root / kind] for kind in KINDS}


def scan(folders: dict[str, list[Path]]) -> Library:
    entries: list[ModelEntry] = []
    for kind, paths in folders.items():
        seen: set[str] = set()
        for folder in paths:
            for path, name in _model_files(Path(folder)):
                if name in seen:  # ComfyUI resolves a name to the first folder that has it
                    continue
                seen.add(name)
                entries.append(describe(kind, path, name))
    return Library(entries)


def _model_files(folder: Path) -> list[tuple[Path, str]]:
    if not folder.is_dir():
        return []
    found: list[tuple[Path, str]] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for filename in sorted(filenames):
            if filename.lower().endswith(MODEL_SUFFIXES):
                path = Path(dirpath) / filename
                found.append((path, path.relative_to(folder).as_posix()))
    return found


def describe(kind: str, path: Path, name: str) -> ModelEntry:
    entry = ModelEntry(kind=kind, name=name, path=str(path), size=_size(path), title=_title_from_name(path))
    family = bases.UNKNOWN
    if path.suffix.lower() in (".safetensors", ".sft"):
        try:
            header = read_header(path)
        except HeaderError as exc:
            entry.problems.append(f"unreadable: {exc}")
            log.warning("Intelligent Generation: %s", exc)
        else:
            family = bases.family_from_tensors(header.tensors)
            _apply_embedded(entry, header.metadata)
    sidecars, problems = read_sidecars(path)
    entry.problems.extend(problems)
    for info in reversed(sidecars):  # lowest precedence first, so better sources overwrite
        entry.sources.append(info.source)
        entry.base_model = bases.canonical_base(info.base_model) or entry.base_model
        entry.title = info.title or entry.title
        entry.tags = _merge(info.tags, entry.tags)
        entry.trigger_words = info.trigger_words or entry.trigger_words
        entry.preferred_weight = info.preferred_weight or entry.preferred_weight
        entry.description = info.description or entry.description
    entry.sources.reverse()
    _settle_family(entry, family)
    return entry


def _apply_embedded(entry: ModelEntry, metadata: dict[str, str]) -> None:
    """Training metadata inside the file: kohya's ss_* keys and the modelspec standard."""
    if not metadata:
        return
    entry.sources.append("embedded")
    base = metadata.get("modelspec.architecture") or metadata.get("ss_base_model_version") or ""
    entry.base_model = bases.canonical_base(base.split("/")[0]) or entry.base_model
    if metadata.get("modelspec.title"):
        entry.title = metadata["modelspec.title"]
    if metadata.get("modelspec.tags"):
        entry.tags = _merge([t.strip() for t in metadata["modelspec.tags"].split(",")], entry.tags)
    if metadata.get("modelspec.trigger_phrase"):
        entry.trigger_words = [metadata["modelspec.trigger_phrase"]]
    if metadata.get("sshs_model_hash"):
        entry.embedded_hash = metadata["sshs_model_hash"].lower()


def _settle_family(entry: ModelEntry, detected: str) -> None:
    """Tensors decide the family; metadata only names the base within it (Pony is SDXL)."""
    claimed = bases.family_of(entry.base_model)
    if detected != bases.UNKNOWN and claimed not in (detected, bases.UNKNOWN):
        entry.problems.append(
            f"metadata says {entry.base_model} but the tensors are {detected}; trusting the tensors"
        )
        entry.base_model = bases.DEFAULT_BASE_OF_FAMILY.get(detected)
    entry.family = detected if detected != bases.UNKNOWN else claimed
    if entry.base_model is None:
        entry.base_model = bases.DEFAULT_BASE_OF_FAMILY.get(entry.family)


def _merge(first: list[str], second: list[str]) -> list[str]:
    return list(dict.fromkeys([*first, *second]))


def _title_from_name(path: Path) -> str:
    return re.sub(r"[_\-.]+", " ", path.stem).strip()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
