"""Read the metadata files other tools leave next to a model, into one common shape.

Formats: LoRA Manager `<stem>.metadata.json`, CivitAI Helper `<stem>.civitai.info`
(a raw CivitAI model-version JSON), Stability Matrix `<stem>.cm-info.json`, and
A1111 `<stem>.json`. Every reader tolerates unknown fields and odd values: a
broken sidecar is reported and skipped, never fatal.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import example_images
from .model_records import html_to_text

log = logging.getLogger(__name__)

MAX_SIDECAR_BYTES = 4 * 1024 * 1024


@dataclass
class SidecarInfo:
    source: str
    base_model: str | None = None
    title: str | None = None
    tags: list[str] = field(default_factory=list)
    trigger_words: list[str] = field(default_factory=list)
    preferred_weight: float | None = None
    description: str = ""
    sha256: str | None = None
    popularity: float = 0.0  # downloads, only to break ties
    recommended: dict[str, Any] = field(default_factory=dict)  # from example images' generation settings
    example_weight: float | None = None  # the LoRA weight its example prompts use
    preview_nsfw: int | None = None  # CivitAI's nsfwLevel of the preview image the tool saved (1 PG ... 16 XXX)


def _strings(value: Any) -> list[str]:
    """A list of non-empty strings from a list, a comma-separated string, or nothing."""
    if isinstance(value, str):
        items: list[Any] = value.split(",")
    elif isinstance(value, list):
        items = value
    else:
        return []
    out: list[str] = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("name")
        if isinstance(item, str) and item.strip() and item.strip() not in out:
            out.append(item.strip())
    return out


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if -10.0 <= number <= 10.0 and number != 0 else None


def _sha256_of(hashes: Any) -> str | None:
    value = hashes.get("SHA256") if isinstance(hashes, dict) else None
    return value.lower() if isinstance(value, str) and len(value) == 64 else None


def _from_civitai_version(data: dict[str, Any], source: str) -> SidecarInfo:
    model: dict[str, Any] = data["model"] if isinstance(data.get("model"), dict) else {}
    files: list[Any] = data["files"] if isinstance(data.get("files"), list) else []
    sha = next((h for f in files if isinstance(f, dict) and (h := _sha256_of(f.get("hashes")))), None)
    title = " ".join(x for x in (model.get("name"), data.get("name")) if isinstance(x, str))
    stats: dict[str, Any] = data["stats"] if isinstance(data.get("stats"), dict) else {}
    examples = example_images.metas(data.get("images"))
    is_checkpoint = str(model.get("type", "")).lower() == "checkpoint"
    return SidecarInfo(
        source=source,
        base_model=data.get("baseModel") if isinstance(data.get("baseModel"), str) else None,
        title=title or None,
        tags=_strings(model.get("tags")) + _strings(data.get("tags")),
        trigger_words=_strings(data.get("trainedWords")),
        # The model's description says what it is; the version's is most often a changelog ("v2: retrained").
        description=html_to_text(model.get("description") or data.get("description")),
        sha256=sha,
        popularity=_number(stats.get("downloadCount")),
        recommended=example_images.settings(examples),
        example_weight=None if is_checkpoint else example_images.lora_weight(
            examples, example_images.Identity.of(files)),
        preview_nsfw=_first_image_nsfw(data.get("images")),
    )


# CivitAI's older `nsfw` words for an image, as nsfwLevel's flags (1 PG, 2 PG-13, 4 R, 8 X, 16 XXX).
_NSFW_WORDS = {"none": 1, "soft": 2, "mature": 4, "x": 8}


def _nsfw_level(value: Any) -> int | None:
    """An nsfwLevel (CivitAI's flags; the highest flag set counts), an `nsfw` word or boolean; None if unsaid."""
    if isinstance(value, bool):
        return 4 if value else 1
    if isinstance(value, int) and 0 < value < 2**16:
        return 1 << (value.bit_length() - 1)
    if isinstance(value, str):
        return _NSFW_WORDS.get(value.strip().lower())
    return None


def _first_image_nsfw(images: Any) -> int | None:
    """The first example image's level: the one CivitAI Helper saves as the preview."""
    first = images[0] if isinstance(images, list) and images and isinstance(images[0], dict) else {}
    level = _nsfw_level(first.get("nsfwLevel"))
    return level if level is not None else _nsfw_level(first.get("nsfw"))


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0




def _lora_manager(data: dict[str, Any]) -> SidecarInfo:
    civitai = data.get("civitai") if isinstance(data.get("civitai"), dict) else {}
    info = _from_civitai_version(civitai, "lora_manager") if civitai else SidecarInfo(source="lora_manager")
    info.base_model = data.get("base_model") or info.base_model
    info.title = data.get("model_name") or info.title
    info.tags = _strings(data.get("tags")) or info.tags
    info.description = html_to_text(data.get("modelDescription")) or info.description
    info.sha256 = _sha256_of({"SHA256": data.get("sha256")}) or info.sha256
    level = _nsfw_level(data.get("preview_nsfw_level"))
    info.preview_nsfw = level if level is not None else info.preview_nsfw
    usage = data.get("usage_tips")
    if isinstance(usage, str):
        try:
            tips = json.loads(usage)
            info.preferred_weight = _float(tips.get("strength")) if isinstance(tips, dict) else None
        except json.JSONDecodeError:
            pass
    return info


def _stability_matrix(data: dict[str, Any]) -> SidecarInfo:
    stats: dict[str, Any] = data["Stats"] if isinstance(data.get("Stats"), dict) else {}
    return SidecarInfo(
        source="stability_matrix",
        popularity=_number(stats.get("downloadCount")),
        base_model=data.get("BaseModel") if isinstance(data.get("BaseModel"), str) else None,
        # UserTitle is the name the user gave the model in Stability Matrix: theirs wins.
        title=_text(data.get("UserTitle"))
        or " ".join(x for x in (data.get("ModelName"), data.get("VersionName")) if isinstance(x, str)) or None,
        tags=_strings(data.get("Tags")),
        trigger_words=_strings(data.get("TrainedWords")),
        description=html_to_text(data.get("ModelDescription") or data.get("Description")),
        sha256=_sha256_of(data.get("Hashes")),
    )


def _a1111(data: dict[str, Any]) -> SidecarInfo:
    version = str(data.get("sd version") or "")
    base = {"SD1": "SD 1.5", "SD2": "SD 2.1", "SDXL": "SDXL 1.0", "SD3": "SD 3"}.get(version.upper())
    return SidecarInfo(
        source="a1111",
        base_model=base,
        # A1111 inserts the activation text whole, so it stays one trigger.
        trigger_words=[t] if isinstance(t := data.get("activation text"), str) and t.strip() else [],
        preferred_weight=_float(data.get("preferred weight")),
        description=html_to_text(data.get("description")),
        tags=_strings(data.get("notes")) if isinstance(data.get("notes"), list) else [],
    )


def our_record(data: dict[str, Any], source: str = "intelligent_generation") -> SidecarInfo:
    """The pack's own model record (services/library/model_records.py), as a sidecar `<stem>.ig.json` or from the cache."""
    recommended: dict[str, Any] = data["recommended"] if isinstance(data.get("recommended"), dict) else {}
    popularity: dict[str, Any] = data["popularity"] if isinstance(data.get("popularity"), dict) else {}
    parameters: dict[str, Any] = recommended["parameters"] if isinstance(recommended.get("parameters"), dict) else {}
    return SidecarInfo(
        source=source,
        base_model=data.get("base_model") if isinstance(data.get("base_model"), str) else None,
        title=" ".join(x for x in (data.get("name"), data.get("version")) if isinstance(x, str) and x) or None,
        tags=_strings(data.get("tags")),
        trigger_words=_strings(data.get("trigger_words")) if isinstance(data.get("trigger_words"), list) else [],
        preferred_weight=_float(recommended.get("weight")),
        description=html_to_text(data.get("description")),
        sha256=_sha256_of({"SHA256": data.get("sha256")}),
        popularity=_number(popularity.get("downloads") or popularity.get("downloadCount")),
        recommended=dict(parameters),
    )


# Suffix -> reader, in precedence order (earlier wins on conflicts): our own records first.
READERS = (
    (".ig.json", our_record),
    (".metadata.json", _lora_manager),
    (".civitai.info", lambda d: _from_civitai_version(d, "civitai_helper")),
    (".cm-info.json", _stability_matrix),
    (".json", _a1111),
)


def problem_text(exc: BaseException) -> str:
    """What went wrong, without the absolute path an OSError carries (problems are shown by the routes)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def _folders_of(model_path: str, hops: int = 8) -> set[str]:
    """The folders a model file lives in: its own, and each one its chain of links passes through."""
    folders = {os.path.realpath(os.path.dirname(os.path.abspath(model_path))),
               os.path.dirname(os.path.realpath(model_path))}
    current = model_path
    for _ in range(hops):
        if not os.path.islink(current):
            break
        current = os.path.join(os.path.dirname(current), os.readlink(current))
        folders.add(os.path.realpath(os.path.dirname(os.path.abspath(current))))
    return folders


def _read_regular(path: str, model_path: str) -> bytes:
    """A sidecar's bytes: a regular file only (a FIFO named x.json would block the scan forever, a device
    never ends), 4 MiB at most, and a link only to a file beside the model itself or beside the file the model
    links to (a shared model store): never one elsewhere, whose text would be served as metadata."""
    if os.path.islink(path) and os.path.dirname(os.path.realpath(path)) not in _folders_of(model_path):
        raise ValueError("a link to a file outside the model's folder")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("not a regular file")
        with os.fdopen(fd, "rb") as f:
            fd = -1
            raw = f.read(MAX_SIDECAR_BYTES + 1)  # one read: the cap shows as a longer read
    finally:
        if fd >= 0:
            os.close(fd)
    if len(raw) > MAX_SIDECAR_BYTES:
        raise ValueError("larger than 4 MiB")
    return raw


def read_sidecars(model_path: str | Path, present: frozenset[str] | None = None) -> tuple[list[SidecarInfo], list[str]]:
    """All sidecars found for a model, in precedence order, and the problems met.

    `present`: the sidecar file names a directory listing already found, to spare a stat per format.
    """
    folder, _, file_name = str(model_path).rpartition(os.sep)
    stem = file_name.rsplit(".", 1)[0]
    found: list[SidecarInfo] = []
    problems: list[str] = []
    for suffix, reader in READERS:
        name = stem + suffix
        if present is not None and name not in present:
            continue
        path = os.path.join(folder, name)
        if present is None and not os.path.isfile(path):
            continue
        try:
            data = json.loads(_read_regular(path, str(model_path)).decode("utf-8", errors="replace"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            found.append(reader(data))
        except Exception as exc:  # noqa: BLE001 (whatever a stranger's file holds, it is that file's problem)
            problems.append(f"{name}: ignored ({problem_text(exc)})")
            log.warning("Intelligent Generation: sidecar %s ignored: %s", name, exc)
    return found, problems
