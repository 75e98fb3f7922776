"""CivitAI's public API, anonymously: model versions by file hash, models by id.

Only SHA-256 hashes (checked to be 64 hex digits) and model ids that CivitAI itself returned go
into URLs and bodies. The answers are reduced to our record's fields (services.library.model_records).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..library import example_images
from ..library.model_records import (
    MAX_DESCRIPTION,
    MAX_NAME,
    MAX_TAG,
    MAX_TAGS,
    MAX_TRIGGER,
    MAX_TRIGGERS,
    SHA256,
    clean_float,
    clean_int,
    clean_list,
    clean_text,
)
from .session import Answer, HardenedSession, OnlineError

BULK_LIMIT = 100  # CivitAI's limit for POST /model-versions/by-hash


def _sha(value: str) -> str:
    sha = value.lower()
    if not SHA256.match(sha):
        raise ValueError(f"not a SHA-256: {value!r}")
    return sha


def _model_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"not a CivitAI model id: {value!r}")
    return value


class CivitaiClient:
    def __init__(self, session: HardenedSession, base_url: str) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")

    def version_by_hash(self, sha256: str) -> dict[str, Any] | None:
        """The model version that has a file with this SHA-256; None when CivitAI does not know it."""
        answer = self.session.get_json(f"{self.base_url}/api/v1/model-versions/by-hash/{_sha(sha256)}")
        return _object(answer)

    def versions_by_hashes(self, hashes: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Up to 100 hashes in one request: SHA-256 -> model version, for those CivitAI knows."""
        wanted = [_sha(h) for h in hashes]
        if len(wanted) > BULK_LIMIT:
            raise ValueError(f"at most {BULK_LIMIT} hashes per request")
        # No "absent" status here: a 404 for the whole batch says nothing about any one hash.
        answer = self.session.post_json(f"{self.base_url}/api/v1/model-versions/by-hash", wanted, absent=())
        if answer.data is None:
            return {}
        if not isinstance(answer.data, list):
            raise OnlineError("unexpected", "the by-hash answer is not a list")
        found: dict[str, dict[str, Any]] = {}
        for version in answer.data:
            if isinstance(version, dict):
                for sha in file_hashes(version) & set(wanted):
                    found[sha] = version
        return found

    def models_by_ids(self, model_ids: Iterable[int]) -> list[dict[str, Any]]:
        """Up to 100 models (with their versions) in one request, by the ids CivitAI gave us."""
        wanted = sorted({_model_id(i) for i in model_ids})
        if len(wanted) > BULK_LIMIT:
            raise ValueError(f"at most {BULK_LIMIT} model ids per request")
        ids = ",".join(str(i) for i in wanted)
        # nsfw=true: without it CivitAI leaves out the versions it rates mature, and an update would be missed.
        answer = self.session.get_json(f"{self.base_url}/api/v1/models?ids={ids}&limit={BULK_LIMIT}&nsfw=true",
                                       absent=())
        items = answer.data.get("items") if isinstance(answer.data, dict) else None
        if not isinstance(items, list):
            raise OnlineError("unexpected", "the models answer has no list of items")
        return [item for item in items if isinstance(item, dict)]

    def model(self, model_id: int) -> dict[str, Any] | None:
        return _object(self.session.get_json(f"{self.base_url}/api/v1/models/{_model_id(model_id)}"))


def _object(answer: Answer) -> dict[str, Any] | None:
    if answer.data is None:
        return None
    if not isinstance(answer.data, dict):
        raise OnlineError("unexpected", "the answer is not a JSON object")
    return answer.data


def file_hashes(version: dict[str, Any]) -> set[str]:
    """The SHA-256 of every file of a model version (pruned, full, fp16 ... are separate files)."""
    out: set[str] = set()
    files = version.get("files")
    for f in files if isinstance(files, list) else []:
        hashes = f.get("hashes") if isinstance(f, dict) else None
        value = hashes.get("SHA256") if isinstance(hashes, dict) else None
        if isinstance(value, str) and SHA256.match(value.lower()):
            out.add(value.lower())
    return out


def model_id_of(version: dict[str, Any]) -> int | None:
    return clean_int(version.get("modelId"), 1, 2**53)


def fields_from_version(
    version: dict[str, Any], model: dict[str, Any] | None, base_url: str, autov2: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Our record's fields and the ids (model, version) from a model version and, if fetched, its model."""
    model = model or {}
    part = version["model"] if isinstance(version.get("model"), dict) else {}
    model_id = model_id_of(version) or clean_int(model.get("id"), 1, 2**53)
    version_id = clean_int(version.get("id"), 1, 2**53)
    examples = example_images.metas(version.get("images"))
    description = clean_text(model.get("description"), MAX_DESCRIPTION, html=True) \
        or clean_text(version.get("description"), MAX_DESCRIPTION, html=True)
    fields: dict[str, Any] = {
        "name": clean_text(model.get("name") or part.get("name"), MAX_NAME, html=True),
        "version": clean_text(version.get("name"), MAX_NAME, html=True),
        "type": clean_text(model.get("type") or part.get("type"), 40, html=True),
        "base_model": clean_text(version.get("baseModel"), 60) or None,
        "tags": clean_list(model.get("tags"), MAX_TAGS, MAX_TAG),
        "trigger_words": clean_list(version.get("trainedWords"), MAX_TRIGGERS, MAX_TRIGGER),
        "description": description,
        "nsfw": _nsfw(version, model, part),
        "recommended_weight": None if is_checkpoint(model, part) else example_images.lora_weight(
            examples, example_images.Identity.of(version.get("files"), autov2)),
        "recommended_parameters": example_images.settings(examples),
        "popularity": _popularity(version, model),
        "url": f"{base_url.rstrip('/')}/models/{model_id}?modelVersionId={version_id}" if model_id else None,
        "images": _images(version.get("images")),
    }
    return fields, {"model_id": model_id, "version_id": version_id}


MAX_IMAGES = 5


def _images(images: Any) -> list[dict[str, Any]]:
    """The first example images' addresses and ratings (for a preview kept on request: online/previews.py)."""
    out: list[dict[str, Any]] = []
    for image in images if isinstance(images, list) else []:
        url = image.get("url") if isinstance(image, dict) else None
        if isinstance(url, str) and url.startswith(("https://", "http://")) and len(url) < 2000:
            out.append({"url": url, "nsfw_level": clean_int(image.get("nsfwLevel"), 0, 2**16),
                        "type": clean_text(image.get("type"), 20) or "image"})
        if len(out) >= MAX_IMAGES:
            break
    return out


def is_checkpoint(*parts: dict[str, Any]) -> bool:
    return any(str(p.get("type", "")).lower() == "checkpoint" for p in parts)


# nsfwLevel's bit flags: 1 PG, 2 PG-13, 4 R, 8 X, 16 XXX. CivitAI answers `nsfw: false` with level 31.
MATURE_LEVELS = 4 | 8 | 16


def _nsfw(*parts: dict[str, Any]) -> bool | None:
    """Mature when any part says so, by its flag or by its level; None when no part says anything."""
    said = [p for p in parts if "nsfw" in p or "nsfwLevel" in p]
    if not said:
        return None
    return any(p.get("nsfw") is True or (clean_int(p.get("nsfwLevel"), 0, 2**31) or 0) & MATURE_LEVELS
               for p in said)


def _popularity(version: dict[str, Any], model: dict[str, Any]) -> dict[str, Any]:
    stats = model.get("stats") if isinstance(model.get("stats"), dict) else \
        version.get("stats") if isinstance(version.get("stats"), dict) else {}
    assert isinstance(stats, dict)
    out = {
        "downloads": clean_int(stats.get("downloadCount"), 0, 2**53),
        "thumbs_up": clean_int(stats.get("thumbsUpCount"), 0, 2**53),
        "favorites": clean_int(stats.get("favoriteCount"), 0, 2**53),
        "rating": clean_float(stats.get("rating"), 0.0, 5.0),
    }
    return {k: v for k, v in out.items() if v is not None}
