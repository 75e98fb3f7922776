"""A model file as the library knows it (ModelEntry), and the kinds and names shared by every library module."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from typing import Any

from . import base_model as bases

KINDS = ("checkpoints", "loras", "vae")


MODEL_SUFFIXES = (".safetensors", ".sft", ".ckpt", ".pt", ".pth", ".bin", ".gguf")


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
    unreadable: bool = False  # its header cannot be read (the problem says why)

    @property
    def usable(self) -> bool:
        """A file whose header could not be read would fail to load: never pick it."""
        return not self.unreadable

    @property
    def known(self) -> bool:
        """Some metadata beyond the file name speaks for it."""
        return bool(self.sources)

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _FIELDS}  # JSON types only; asdict's deep copy is slow

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelEntry:
        """Rows of other ENTRY_VERSIONs never get here (their signatures differ), so the keys match."""
        return cls(**data)


_FIELDS = tuple(f.name for f in fields(ModelEntry))

# What a scan and a recommendation read of every LoRA at once (its kind, family, category, title...); the rest
# (tags, descriptions, captions, derived keys) only of the few a prompt's search finds.
LIGHT = ("kind", "name", "path", "size", "base_model", "family", "title", "category", "popularity",
         "trigger_guessed", "unreadable", "embedded_hash")
HEAVY = tuple(name for name in _FIELDS if name not in LIGHT)


def entry_values(entry: ModelEntry) -> list[Any]:
    """The entry's field values in declaration order: ModelEntry(*values) rebuilds it."""
    return [getattr(entry, name) for name in _FIELDS]


def light_values(entry: ModelEntry) -> list[Any]:
    return [getattr(entry, name) for name in LIGHT]


def heavy_text(entry: ModelEntry) -> str:
    return json.dumps([getattr(entry, name) for name in HEAVY])


class StoredEntry(ModelEntry):
    """An entry read back from the library index: its LIGHT fields at once, the rest decoded from its stored
    text when first read. A library of 100,000 LoRAs then starts without decoding 100,000 descriptions and
    holds one string per LoRA instead of some forty objects. A copy (dataclasses.replace) is a whole entry."""

    @classmethod
    def stored(cls, light: tuple[Any, ...], heavy: str) -> StoredEntry:
        entry = cls.__new__(cls)
        entry.__dict__.update(zip(LIGHT, light, strict=True))
        entry.__dict__["_heavy"] = heavy
        return entry

    def decode(self) -> None:
        values = self.__dict__
        text = values.pop("_heavy", None)
        if text is None:
            return
        try:
            decoded = json.loads(text)
            if not isinstance(decoded, list) or len(decoded) != len(HEAVY):
                raise ValueError("not an entry of this version")
        except ValueError:  # a damaged row: the file's name and kind still stand, its metadata is read again
            values.update((f.name, f.default_factory() if callable(f.default_factory) else f.default)
                          for f in fields(ModelEntry) if f.name in HEAVY)
            values["problems"] = ["its entry in the library index is damaged: Refresh reads the file again"]
            return
        values.update(zip(HEAVY, decoded, strict=True))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ModelEntry):
            return NotImplemented
        return entry_values(self) == entry_values(other)

    __hash__ = None  # type: ignore[assignment]  # as ModelEntry's: mutable, compared by value


class _Decoded:
    """A HEAVY field of a StoredEntry: read from the instance once decoded (an instance value shadows this
    descriptor, so a decoded entry reads its fields at plain attribute speed)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, entry: StoredEntry | None, owner: type | None = None) -> Any:
        if entry is None:
            return self
        entry.decode()
        return entry.__dict__[self.name]


for _name in HEAVY:
    setattr(StoredEntry, _name, _Decoded(_name))


def file_stem(name: str) -> str:
    """The file name without its last suffix, as Path.stem (without building a Path)."""
    base = name[name.rfind("/") + 1:]
    if os.sep != "/":
        base = base[base.rfind(os.sep) + 1:]
    return base.rpartition(".")[0] or base
