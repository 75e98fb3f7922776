"""A model file as the library knows it (ModelEntry), and the kinds and names shared by every library module."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from . import base_model as bases

if TYPE_CHECKING:
    pass  # which imports this module


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


def file_stem(name: str) -> str:
    """The file name without its last suffix, as Path.stem (without building a Path)."""
    base = name.rsplit("/", 1)[-1].rsplit(os.sep, 1)[-1]
    stem, dot, _suffix = base.rpartition(".")
    return stem if dot and stem else base
