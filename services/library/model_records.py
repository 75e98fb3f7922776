"""Our own metadata record per model file, keyed by SHA-256, in the cache folder.

One JSON file per distinct file content: `<cache>/model_records/<sha256>.json`. The schema is
documented in the README ("Model records"); `schema_version` changes whenever a field changes
meaning. A record holds what selection needs (name, version, base model, type, tags, trigger
words, description as text, recommended weight and parameters, popularity), the hashes, and per
site what was asked and when, with an expiry: a hit is asked again after a day, a "not found"
after a week (both settings). A failed lookup never touches a record.

Everything from the network is data: HTML is reduced to text, lengths and list sizes are
bounded, numbers are range-checked. Nothing here knows local paths or file names.
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
import tempfile
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SCHEMA = "intelligent-generation/model-record"
SCHEMA_VERSION = 1
RECORDS_FOLDER = "model_records"
SIDECAR_SUFFIX = ".ig.json"
SITES = ("civitai", "huggingface")
SHA256 = re.compile(r"^[0-9a-f]{64}$")

MAX_NAME = 200
MAX_DESCRIPTION = 4000
MAX_TAGS = 50
MAX_TAG = 64
MAX_TRIGGERS = 30
MAX_TRIGGER = 300
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


# --- turning untrusted values into bounded plain data -------------------------------------------

def html_to_text(value: Any) -> str:
    text = re.sub(r"<[^<>]+>", " ", str(value or ""))  # [^<>]: a run of '<' is never rescanned
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def clean_text(value: Any, limit: int, html: bool = False) -> str:
    """Plain text of at most `limit` characters: no tags, no control or direction characters."""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        return ""
    text = html_to_text(value) if html else re.sub(r"\s+", " ", str(value)).strip()
    text = _CONTROL.sub("", text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def clean_list(value: Any, items: int, limit: int) -> list[str]:
    """Distinct non-empty texts from a list of strings (or of {"name": ...}), or a comma-separated string."""
    raw: list[Any] = value.split(",") if isinstance(value, str) else value if isinstance(value, list) else []
    out: list[str] = []
    for item in raw:
        if isinstance(item, dict):
            item = item.get("name")
        text = clean_text(item, limit)
        if text and text not in out:
            out.append(text)
        if len(out) >= items:
            break
    return out


def clean_int(value: Any, low: int, high: int) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = int(float(value))
    except (TypeError, ValueError, OverflowError):
        return None
    return number if low <= number <= high else None


def clean_float(value: Any, low: float, high: float) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return round(number, 4) if low <= number <= high else None


def most_common(values: list[Any]) -> Any:
    """The most frequent value (first seen wins ties), or None."""
    present = [v for v in values if v is not None]
    return Counter(present).most_common(1)[0][0] if present else None


# --- records -------------------------------------------------------------------------------------

def utc_iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None


def record_path(cache_dir: str | Path, sha256: str) -> Path:
    sha = sha256.lower()
    if not SHA256.match(sha):  # the key becomes a file name: nothing else may pass
        raise ValueError(f"not a SHA-256: {sha256!r}")
    return Path(cache_dir) / RECORDS_FOLDER / f"{sha}.json"


def _valid(record: Any, sha256: str | None = None) -> bool:
    return (isinstance(record, dict) and record.get("schema") == SCHEMA
            and record.get("schema_version") == SCHEMA_VERSION
            and isinstance(record.get("sha256"), str) and (sha256 is None or record["sha256"] == sha256.lower())
            and isinstance(record.get("lookups"), dict))


def load_record(cache_dir: str | Path, sha256: str) -> dict[str, Any] | None:
    """The stored record for a file's SHA-256; None when there is none or it is unreadable."""
    try:
        path = record_path(cache_dir, sha256)
    except ValueError:
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("Intelligent Generation: model record %s ignored: %s", path.name, exc)
        return None
    return record if _valid(record, sha256) else None


def save_record(cache_dir: str | Path, record: dict[str, Any]) -> Path:
    """Write atomically (temporary file, then rename): a crash never leaves half a record."""
    path = record_path(cache_dir, record["sha256"])
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(path, record)
    return path


def _write_atomic(path: Path, data: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def new_record(hashes: dict[str, str | None]) -> dict[str, Any]:
    sha = str(hashes["sha256"]).lower()
    record: dict[str, Any] = {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "sha256": sha, "lookups": {}}
    record["hashes"] = {k: hashes.get(k) for k in ("sha256", "autov2", "autov3", "blake3")}
    return {**record, **_merged({})}


def is_fresh(record: dict[str, Any] | None, site: str, now: float) -> bool:
    """True when the site was asked recently enough that asking again would be pointless."""
    if not record:
        return False
    lookup = record.get("lookups", {}).get(site)
    expires = parse_iso(lookup.get("expires_at")) if isinstance(lookup, dict) else None
    return expires is not None and now < expires


def apply_lookup(
    record: dict[str, Any],
    site: str,
    found: bool,
    fields: dict[str, Any] | None,
    now: float,
    ttl_s: float,
    ids: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A new record with one site's successful answer (found or not found) in it."""
    lookups = dict(record.get("lookups", {}))
    lookups[site] = {
        "status": "found" if found else "not_found",
        "fetched_at": utc_iso(now),
        "expires_at": utc_iso(now + ttl_s),
        **(ids or {}),
        "fields": fields if found and fields else {},
    }
    updated = {**record, "lookups": lookups}
    updated.update(_merged(lookups))
    return updated


def _merged(lookups: dict[str, Any]) -> dict[str, Any]:
    """The record's top-level view: CivitAI's answer first, Hugging Face fills what it lacks."""
    found = [site for site in SITES if isinstance(lookups.get(site), dict) and lookups[site].get("status") == "found"]
    parts = [lookups[site]["fields"] for site in found]

    def first(key: str, default: Any = None) -> Any:
        return next((p[key] for p in parts if p.get(key) not in (None, "", [], {})), default)

    tags: list[str] = []
    for part in parts:
        tags += [t for t in part.get("tags", []) if t not in tags]
    asked = [site for site in SITES if isinstance(lookups.get(site), dict)]
    return {
        "status": "found" if found else "not_found" if asked else "unknown",
        "source": found,
        "fetched_at": max((lookups[s]["fetched_at"] for s in asked), default=None),
        "name": first("name", ""),
        "version": first("version", ""),
        "type": first("type", ""),
        "base_model": first("base_model"),
        "tags": tags[:MAX_TAGS],
        "trigger_words": first("trigger_words", []),
        "description": first("description", ""),
        "nsfw": first("nsfw"),
        "recommended": {"weight": first("recommended_weight"), "parameters": first("recommended_parameters", {})},
        "popularity": first("popularity", {}),
        "links": {site: lookups[site]["fields"]["url"] for site in found if lookups[site]["fields"].get("url")},
    }


def public_view(record: dict[str, Any]) -> dict[str, Any]:
    """The record without the per-site raw fields (what the node and the web UI show)."""
    lookups = {site: {k: v for k, v in lookup.items() if k != "fields"}
               for site, lookup in record.get("lookups", {}).items() if isinstance(lookup, dict)}
    return {**record, "lookups": lookups}


def write_sidecar(model_path: str | Path, record: dict[str, Any]) -> Path | None:
    """Our record next to the model as `<stem>.ig.json`; a same-named file that is not ours is left alone."""
    path = Path(model_path)
    target = path.with_name(path.stem + SIDECAR_SUFFIX)
    if target.exists():
        try:
            existing = json.loads(target.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            existing = None
        if not (isinstance(existing, dict) and existing.get("schema") == SCHEMA):
            log.warning("Intelligent Generation: %s exists and is not ours; not overwritten", target.name)
            return None
    _write_atomic(target, record)
    return target
