"""The pack's settings as the editor stores them, read on the Python side.

ComfyUI's frontend saves every setting of a user in `<user dir>/<user>/comfy.settings.json`;
the web extension registers ours under `IntelligentGeneration.*` (web/src/settings.ts). A key
the frontend never wrote is absent from that file (API-only users have no file at all), so the
defaults here must equal the frontend's: the browser test compares both.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ..records.naming import MODES

log = logging.getLogger(__name__)

PREFIX = "IntelligentGeneration."
SETTINGS_FILE = "comfy.settings.json"
DEFAULT_USER = "default"  # ComfyUI's user when it runs without --multi-user
LOOKUP_HOSTS = ("https://civitai.com", "https://civitai.red")
QUALITIES = ("fast", "balanced", "high", "ultra")
PICKLE_OVER_HTTP = ("refuse", "allow")
# Store a fetched model's first example image as its preview, up to this CivitAI rating ("off": never).
STORE_PREVIEWS = ("off", "PG", "PG-13", "R", "X", "XXX")


@dataclass(frozen=True)
class PackSettings:
    ollama_url: str = "http://127.0.0.1:11434"
    ollama_model: str = "auto"
    ollama_keep_alive: str = "0"  # Ollama's duration ("0", "5m"); 0 frees the GPU for diffusion at once
    lookup_host: str = LOOKUP_HOSTS[0]
    # Empty: direct; else e.g. socks5h://127.0.0.1:9050. Kept as typed even when unusable: services/online/session.py
    # then refuses to send anything, where falling back to "no proxy" would silently go out directly.
    lookup_proxy: str = ""
    naming_mode: str = "standard"
    quality: str = "balanced"
    # Whether the editor's download route may fetch pickle files (.ckpt, .pt, .bin: they can run code).
    download_pickle_over_http: str = PICKLE_OVER_HTTP[0]
    store_previews: str = STORE_PREVIEWS[0]

    def to_ids(self) -> dict[str, Any]:
        """Setting id -> value, as the frontend names them."""
        return {SETTING_IDS[f.name]: getattr(self, f.name) for f in fields(self)}


SETTING_IDS = {
    "ollama_url": "IntelligentGeneration.Ollama.URL",
    "ollama_model": "IntelligentGeneration.Ollama.Model",
    "ollama_keep_alive": "IntelligentGeneration.Ollama.KeepAlive",
    "lookup_host": "IntelligentGeneration.Lookup.Host",
    "lookup_proxy": "IntelligentGeneration.Lookup.Proxy",
    "naming_mode": "IntelligentGeneration.Save.NamingMode",
    "quality": "IntelligentGeneration.Generation.Quality",
    "download_pickle_over_http": "IntelligentGeneration.Download.PickleOverHttp",
    "store_previews": "IntelligentGeneration.Lookup.StorePreviews",
}

# A stored value outside these choices (an older version, a hand edit) falls back to the default.
_CHOICES: dict[str, tuple[str, ...]] = {
    "lookup_host": LOOKUP_HOSTS,
    "naming_mode": MODES,
    "quality": QUALITIES,
    "download_pickle_over_http": PICKLE_OVER_HTTP,
    "store_previews": STORE_PREVIEWS,
}


def settings_file(user_dir: str | Path, user: str = DEFAULT_USER) -> Path:
    return Path(user_dir) / user / SETTINGS_FILE


def read_settings(path: str | Path) -> PackSettings:
    """The pack's settings from one comfy.settings.json; defaults for anything absent or invalid."""
    stored = _load(Path(path))
    defaults = PackSettings()
    values: dict[str, str] = {}
    for f in fields(PackSettings):
        default = getattr(defaults, f.name)
        raw = stored.get(SETTING_IDS[f.name], default)
        value = _clean(f.name, raw)
        if value is None:
            log.warning("Intelligent Generation: setting %s=%r is not valid; using %r", SETTING_IDS[f.name], raw, default)
            value = default
        values[f.name] = value
    return PackSettings(**values)


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("Intelligent Generation: %s unreadable (%s); using default settings", path.name, exc)
        return {}
    return data if isinstance(data, dict) else {}


def _clean(name: str, raw: Any) -> str | None:
    """The value as a stripped string, or None when it cannot be used."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        return None
    value = str(raw).strip()
    if name in _CHOICES:
        return value if value in _CHOICES[name] else None
    if name == "ollama_url":
        if "://" not in value:
            value = "http://" + value  # OLLAMA_HOST style "127.0.0.1:11434"
        return value.rstrip("/") if value.startswith(("http://", "https://")) and len(value) > 8 else None
    if name == "lookup_proxy":
        return value
    return value or None
