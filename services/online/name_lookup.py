"""Name-based lookup, opt-in per model: for a file whose hash CivitAI does not know (renamed, converted, merged), a
search of CivitAI by the file's stem. What is sent is said before it is sent (`planned`), and only when the user
confirms does `search_by_name` send it: the stem, the model type and the base model, nothing else. The answers are
candidates to look at (with their pages and the confirmed download); nothing is stored as this file's metadata,
since a name is no proof of identity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..library import base_model as bases
from ..library.entries import ModelEntry
from .session import HardenedSession, OnlineSettings
from .suggest import CIVITAI_TYPES, Candidate, civitai_search

LIMIT = 5


@dataclass
class NameSearch:
    sent: dict[str, str]  # the query's parameters, as sent (or as they would be)
    site: str
    candidates: list[Candidate] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "site": self.site, "candidates": [c.to_dict() for c in self.candidates]}


def stem_of(entry: ModelEntry) -> str:
    """The file's name without folders and suffix, as it is: "pixelArt_v2" for loras/styles/pixelArt_v2.safetensors."""
    return entry.name.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]


def planned(entry: ModelEntry, settings: OnlineSettings) -> NameSearch:
    """What a search for this file would send, without sending anything."""
    if entry.kind not in CIVITAI_TYPES:
        raise ValueError(f"only {', '.join(CIVITAI_TYPES)} are searched by name")
    sent = {"query": stem_of(entry), "types": CIVITAI_TYPES[entry.kind]}
    base = entry.base_model or bases.DEFAULT_BASE_OF_FAMILY.get(entry.family)
    if base:
        sent["baseModels"] = base
    return NameSearch(sent, settings.civitai_url)


def search_by_name(entry: ModelEntry, settings: OnlineSettings, session: HardenedSession | None = None) -> NameSearch:
    """Send the planned search (the user confirmed it) and rank what CivitAI answers."""
    search = planned(entry, settings)
    own = session is None
    session = session or HardenedSession(settings)
    try:
        found = civitai_search(search.sent["query"], entry.kind, entry.family, search.sent.get("baseModels"), session)
    finally:
        if own:
            session.close()
    search.candidates = sorted(found, key=lambda c: (-c.score, c.name))[:LIMIT]
    return search
