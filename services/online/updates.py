"""Update checks, only when asked: for each model whose record knows its CivitAI model and version, is there a
newer version of that model for the same base model? Another base model (the SDXL version of an SD 1.5 LoRA)
is no update. Only model ids CivitAI itself gave us are sent, up to 100 in a request, through the hardened
session and its rate limit; nothing is downloaded (the Model Library offers the confirmed, verified download).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..library import base_model as bases
from ..library.entries import ModelEntry
from ..library.hashing import read_cache, still_current
from ..library.model_records import clean_int, clean_text, load_record
from ..library.scan import Library
from .civitai import BULK_LIMIT, CivitaiClient
from .session import HardenedSession, OnlineSettings

Progress = Callable[[int, int], None]  # (models asked, models to ask)


@dataclass(frozen=True)
class Known:
    """A model file and what our record says CivitAI calls it."""

    entry: ModelEntry
    model_id: int
    version_id: int
    base_model: str | None
    also: tuple[str, ...] = ()  # the names of its copies (the same SHA-256)


@dataclass(frozen=True)
class Newer:
    version_id: int
    name: str
    base_model: str | None
    published_at: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"version_id": self.version_id, "name": self.name, "base_model": self.base_model,
                "published_at": self.published_at}


@dataclass(frozen=True)
class UpdateCheck:
    known: Known
    newer: tuple[Newer, ...]  # newest first; empty: up to date
    found: bool = True  # False: CivitAI no longer lists the model

    def to_dict(self) -> dict[str, Any]:
        e = self.known.entry
        return {"kind": e.kind, "name": e.name, "copies": list(self.known.also), "model_id": self.known.model_id,
                "version_id": self.known.version_id, "base_model": self.known.base_model, "found": self.found,
                "newer": [n.to_dict() for n in self.newer]}

    def describe(self) -> str:
        e = self.known.entry
        name = f"{e.name} (also as {', '.join(self.known.also)})" if self.known.also else e.name
        if not self.found:
            return f"{name}: CivitAI no longer lists model {self.known.model_id}."
        if not self.newer:
            return f"{name}: up to date for {self.known.base_model or 'its base model'}."
        first = self.newer[0]
        return (f"{name}: newer version for the same base model ({first.base_model}): {first.name} "
                f"(version {first.version_id}).")


def counts(checks: list[UpdateCheck]) -> dict[str, int]:
    return {"checked": len(checks), "with_updates": sum(bool(c.newer) for c in checks),
            "not_listed": sum(not c.found for c in checks)}


def summary_lines(checks: list[UpdateCheck]) -> list[str]:
    """A head line with the counts, then one line per model with a newer version or no longer listed."""
    c = counts(checks)
    return [f"Updates: {c['checked']} model(s) checked, {c['with_updates']} with a newer version for the same base "
            "model.", *(check.describe() for check in checks if check.newer or not check.found)]


def known_on_civitai(library: Library, cache_dir: str | Path,
                     only: set[tuple[str, str]] | None = None) -> list[Known]:
    """The library's files (of `only`'s (kind, name), when given) whose record (found through the hash cache, files unchanged since hashed) holds a
    CivitAI model and version id. Copies (one SHA-256) count once, under the first name the library lists."""
    hashed = read_cache(cache_dir)
    known: dict[str, Known] = {}
    for entry in library.entries:
        if only is not None and (entry.kind, entry.name) not in only:
            continue
        sha = still_current(entry.path, hashed.get(entry.path))
        if sha is None:
            continue
        if sha in known:
            first = known[sha]
            known[sha] = replace(first, also=(*first.also, entry.name))
            continue
        civitai = (load_record(cache_dir, sha) or {}).get("lookups", {}).get("civitai")
        if not isinstance(civitai, dict) or civitai.get("status") != "found":
            continue
        model_id, version_id = clean_int(civitai.get("model_id"), 1, 2**53), clean_int(civitai.get("version_id"), 1, 2**53)
        fields: dict[str, Any] = civitai["fields"] if isinstance(civitai.get("fields"), dict) else {}
        if model_id and version_id:
            known[sha] = Known(entry, model_id, version_id, clean_text(fields.get("base_model"), 60) or None)
    return list(known.values())


def check_updates(known: list[Known], settings: OnlineSettings, session: HardenedSession | None = None,
                  progress: Progress | None = None) -> list[UpdateCheck]:
    """Ask CivitAI for the models' versions, 100 models a request, and judge each file."""
    owned = session is None
    session = session or HardenedSession(settings)
    try:
        client = CivitaiClient(session, settings.civitai_url)
        ids = sorted({k.model_id for k in known})
        models: dict[int, dict[str, Any]] = {}
        for start in range(0, len(ids), BULK_LIMIT):
            for model in client.models_by_ids(ids[start:start + BULK_LIMIT]):
                if (model_id := clean_int(model.get("id"), 1, 2**53)) is not None:
                    models[model_id] = model
            if progress:
                progress(min(start + BULK_LIMIT, len(ids)), len(ids))
    finally:
        if owned:
            session.close()
    return [judge(k, models.get(k.model_id)) for k in known]


def judge(known: Known, model: dict[str, Any] | None) -> UpdateCheck:
    """Newer versions of the model for the file's base model. CivitAI lists a model's versions newest first;
    where the file's own version is no longer listed, a higher version id is a later one."""
    if model is None:
        return UpdateCheck(known, (), found=False)
    listed: list[Any] = model["modelVersions"] if isinstance(model.get("modelVersions"), list) else []
    versions = [v for v in listed if isinstance(v, dict) and clean_int(v.get("id"), 1, 2**53)]
    ids = [clean_int(v.get("id"), 1, 2**53) for v in versions]
    own_base = bases.canonical_base(known.base_model) or known.base_model
    if known.version_id in ids:
        candidates = versions[:ids.index(known.version_id)]
    else:
        candidates = [v for v, i in zip(versions, ids, strict=True) if i and i > known.version_id]
    newer = []
    for v in candidates:
        base = clean_text(v.get("baseModel"), 60) or None
        if (bases.canonical_base(base) or base) == own_base:
            newer.append(Newer(int(v["id"]), clean_text(v.get("name"), 120) or f"version {v['id']}", base,
                               clean_text(v.get("publishedAt") or v.get("createdAt"), 40) or None))
    return UpdateCheck(known, tuple(newer))
