"""Hugging Face's public model API, anonymously. There is no lookup by hash there, so a model is
asked about only when something local names its repository:

- the file lives in a Hugging Face cache folder (`.../models--owner--name/snapshots/...`,
  often symlinked into ComfyUI's folders), or
- its safetensors metadata has `huggingface_repo` or `repo_id` (owner/name or a huggingface.co URL).

Only the repository id goes into the URL.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ..library.model_records import (
    MAX_NAME,
    MAX_TAG,
    MAX_TAGS,
    MAX_TRIGGER,
    MAX_TRIGGERS,
    clean_int,
    clean_list,
    clean_text,
)
from .session import HardenedSession, OnlineError

REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
_CACHE_DIR = re.compile(r"^models--([A-Za-z0-9][A-Za-z0-9._-]*)--([A-Za-z0-9][A-Za-z0-9._-]*)$")
_URL = re.compile(r"^https://huggingface\.co/([^/?#]+/[^/?#]+)")
METADATA_KEYS = ("huggingface_repo", "repo_id")


def valid_repo_id(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    match = _URL.match(value)
    repo = match.group(1) if match else value
    return repo if REPO_ID.match(repo) and ".." not in repo else None


def repo_from_path(path: str | Path) -> str | None:
    """owner/name from a Hugging Face cache folder on the file's (resolved) path."""
    for candidate in (Path(path), Path(os.path.realpath(path))):
        for part in candidate.parts:
            match = _CACHE_DIR.match(part)
            if match:
                return valid_repo_id(f"{match.group(1)}/{match.group(2)}")
    return None


def repo_from_metadata(metadata: dict[str, str]) -> str | None:
    for key in METADATA_KEYS:
        repo = valid_repo_id(metadata.get(key))
        if repo:
            return repo
    return None


class HuggingFaceClient:
    def __init__(self, session: HardenedSession, base_url: str) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")

    def model_info(self, repo_id: str) -> dict[str, Any] | None:
        """The repository's public info; None when it does not exist (anonymously, 401 means that too)."""
        repo = valid_repo_id(repo_id)
        if repo is None:
            raise ValueError(f"not a Hugging Face repository id: {repo_id!r}")
        answer = self.session.get_json(f"{self.base_url}/api/models/{repo}", absent=(401, 404))
        if answer.data is None:
            return None
        if not isinstance(answer.data, dict):
            raise OnlineError("unexpected", "the answer is not a JSON object")
        return answer.data


def fields_from_model(info: dict[str, Any], base_url: str, repo_id: str) -> dict[str, Any]:
    card = info["cardData"] if isinstance(info.get("cardData"), dict) else {}
    base = card.get("base_model")
    if isinstance(base, list):
        base = base[0] if base else None
    tags = [t for t in clean_list(info.get("tags"), MAX_TAGS * 2, MAX_TAG) if ":" not in t]  # drop license:, region:
    popularity = {"downloads": clean_int(info.get("downloads"), 0, 2**53), "likes": clean_int(info.get("likes"), 0, 2**53)}
    return {
        "name": clean_text(info.get("id") or repo_id, MAX_NAME),
        "version": clean_text(info.get("sha"), 64),
        "type": clean_text(info.get("pipeline_tag") or info.get("library_name"), 40),
        "base_model": clean_text(base, 120) or None,
        "tags": tags[:MAX_TAGS],
        "trigger_words": clean_list(card.get("instance_prompt"), MAX_TRIGGERS, MAX_TRIGGER),
        "description": "",
        "nsfw": None,
        "recommended_weight": None,
        "recommended_parameters": {},
        "popularity": {k: v for k, v in popularity.items() if v is not None},
        "url": f"{base_url.rstrip('/')}/{repo_id}",
    }
