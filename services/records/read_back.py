"""What a saved image says about how it was made, for reproducing it.

Each value comes from the best source that has it: our record first, then
A1111's `parameters`, then ComfyUI's `prompt` graph. The sources are kept, so
the user sees where every value came from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from ..text.lora_tags import lora_tags, without_lora_tags
from .generation import settings_from_graph
from .image_file import RECORD_KEY
from .infotext import comfy_sampler, parse_infotext

FIELDS = ("prompt", "negative_prompt", "seed", "steps", "cfg", "sampler", "scheduler", "width", "height",
          "checkpoint", "loras")
NUMBERS: dict[str, Callable[[Any], Any]] = {"seed": int, "steps": int, "cfg": float, "width": int, "height": int}
SOURCE_NAMES = {"record": "our record", "parameters": "A1111 parameters", "graph": "ComfyUI's prompt"}


@dataclass
class SavedGeneration:
    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # field -> record | parameters | graph
    hashes: dict[str, str] = field(default_factory=dict)  # checkpoint -> AutoV2 or SHA-256, when written
    batch: tuple[int, int] | None = None  # (index, size) when the image came from a batch
    clip_skip: int | None = None
    vae: str | None = None  # a separate VAE file, when one was used instead of the checkpoint's own

    def to_dict(self) -> dict[str, Any]:
        out = {k: self.values.get(k) for k in FIELDS}
        out["loras"] = out["loras"] or []
        out["sources"] = dict(self.sources)
        if self.clip_skip:
            out["clip_skip"] = self.clip_skip
        if self.batch:
            out["batch_index"], out["batch_size"] = self.batch
        return out


def _from_record(record: dict[str, Any]) -> dict[str, Any]:
    settings = record.get("settings", {})
    found = {k: settings.get(k) for k in ("seed", "steps", "cfg", "sampler", "scheduler", "width", "height")}
    found["prompt"], found["negative_prompt"] = record.get("prompt"), record.get("negative_prompt")
    found["checkpoint"] = (record.get("checkpoint") or {}).get("name")
    loras = [{"name": lo["name"], "weight": lo["weight"] if isinstance(lo.get("weight"), (int, float)) else 1.0}
             for lo in record.get("loras", []) if isinstance(lo, dict) and lo.get("name")]
    found["loras"] = loras or None
    return found


def _from_parameters(text: str) -> dict[str, Any]:
    parsed = parse_infotext(text)
    s = parsed["settings"]
    sampler, scheduler = comfy_sampler(s.get("Sampler"), s.get("Schedule type"))
    found: dict[str, Any] = {"steps": s.get("Steps"), "cfg": s.get("CFG scale"), "seed": s.get("Seed"),
                             "sampler": sampler, "scheduler": scheduler, "checkpoint": s.get("Model")}
    size = re.fullmatch(r"(\d+)x(\d+)", str(s.get("Size", "")))
    if size:
        found["width"], found["height"] = int(size.group(1)), int(size.group(2))
    if s.get("Steps") is not None:  # a real settings line: the prompts are known, even when empty
        found["prompt"], found["negative_prompt"] = without_lora_tags(parsed["prompt"]).strip(), parsed["negative_prompt"]
    found["loras"] = [{"name": n, "weight": w} for n, w in lora_tags(parsed["prompt"])] or None
    return found


def read_generation(chunks: dict[str, str]) -> SavedGeneration:
    """Merge what the image's metadata says, field by field, best source first."""
    sources: list[tuple[str, dict[str, Any]]] = []
    record: dict[str, Any] = {}
    if RECORD_KEY in chunks:
        try:
            loaded = json.loads(chunks[RECORD_KEY])
            record = loaded if isinstance(loaded, dict) and isinstance(loaded.get("settings", {}), dict) else {}
            sources.append(("record", _from_record(record)))
        except (ValueError, AttributeError, TypeError):  # damaged: the other sources still count
            record = {}
    if chunks.get("parameters"):
        sources.append(("parameters", _from_parameters(chunks["parameters"])))
    if "prompt" in chunks:
        try:
            graph = json.loads(chunks["prompt"])
        except ValueError:
            graph = None
        if isinstance(graph, dict):
            sources.append(("graph", settings_from_graph(graph)))
    from_graph = sources[-1][1] if sources and sources[-1][0] == "graph" else {}
    saved = SavedGeneration()
    for name in FIELDS:
        for source, found in sources:
            value = found.get(name)
            if value is None:
                continue
            try:
                saved.values[name] = NUMBERS[name](value) if name in NUMBERS else value
            except (TypeError, ValueError):
                continue
            saved.sources[name] = source
            break
    checkpoint = record.get("checkpoint") or {}
    parameters = parse_infotext(chunks["parameters"])["settings"] if chunks.get("parameters") else {}
    model_hash = checkpoint.get("sha256") or checkpoint.get("autov2") or parameters.get("Model hash")
    if model_hash:
        saved.hashes["checkpoint"] = str(model_hash)
    settings = record.get("settings", {})
    size, index = settings.get("batch_size"), settings.get("batch_index")
    if isinstance(size, int) and isinstance(index, int) and size > 1:
        saved.batch = (index, size)
    clip_skip = settings.get("clip_skip") or parameters.get("Clip skip")
    if clip_skip and str(clip_skip).isdigit() and int(clip_skip) > 1:
        saved.clip_skip = int(clip_skip)
    vae = record.get("vae") or from_graph.get("vae")
    saved.vae = vae if isinstance(vae, str) and vae else None
    return saved


def match_model(name: str, available: Iterable[str], hash_of: Callable[[str], str | None] | None = None,
                wanted_hash: str | None = None) -> str | None:
    """The local file meant by `name`: the same name, else the same file name or stem, else the same hash.

    A1111 writes stems without folders ("realVision_v5"); ComfyUI names carry
    folders and extensions ("sd15/realVision_v5.safetensors").
    """
    names = list(available)
    if name in names:
        return name
    wanted = name.replace("\\", "/")
    for key in (lambda n: n.replace("\\", "/"), lambda n: PurePath(n.replace("\\", "/")).name.lower(),
                lambda n: PurePath(n.replace("\\", "/")).stem.lower()):
        matches = [n for n in names if key(n) == key(wanted)]
        if len(matches) == 1:
            return matches[0]
    if hash_of and wanted_hash:
        wanted_hash = wanted_hash.lower()
        for candidate in names:
            known = hash_of(candidate)
            if known and known.lower().startswith(wanted_hash):
                return candidate
    return None


def explain(saved: SavedGeneration) -> str:
    """What was read, and from where, in a few lines for the node."""
    v = saved.values
    if not v:
        return "No generation metadata found in this image."
    lines = []
    for name in FIELDS:
        if name in v and name not in ("prompt", "negative_prompt", "loras"):
            lines.append(f"{name}: {v[name]} ({SOURCE_NAMES[saved.sources[name]]})")
    for lora in v.get("loras") or []:
        lines.append(f"LoRA {lora['name']} at {lora['weight']} ({SOURCE_NAMES[saved.sources['loras']]})")
    if "prompt" not in v:
        lines.append("The prompts were not saved in this image.")
    if saved.clip_skip:
        lines.append(f"Clip skip {saved.clip_skip}: CLIP Set Last Layer at -{saved.clip_skip} reproduces it.")
    if saved.vae:
        lines.append(f"VAE {saved.vae} was used: decode with it (Load VAE) to reproduce the image exactly.")
    if saved.batch:
        index, size = saved.batch
        lines.append(f"Image {index + 1} of a batch of {size}: its noise depends on the batch; use batch size "
                     f"{size} and take image {index + 1} to reproduce it exactly.")
    return "\n".join(lines)


def resolve_lora_tags(text: str, available: Iterable[str]) -> tuple[list[tuple[str, float]], list[str]]:
    """The local LoRA files that `<lora:name:weight>` tags name, with their weights, and a line for each
    tag that names no local file (those are left out: the image then differs from the original)."""
    names = list(available)
    found: list[tuple[str, float]] = []
    notes: list[str] = []
    for name, weight in lora_tags(text):
        local = match_model(name, names)
        if local is None:
            notes.append(f"LoRA {name} is not in your loras folder: left out, so the image will differ.")
        else:
            found.append((local, weight))
    return found, notes


def reproduction_info(values: dict[str, Any], checkpoint: str, loras: list[dict[str, Any]], saved: SavedGeneration,
                      image_name: str) -> dict[str, Any]:
    """Generation info for Save With Metadata (the shape Metadata Fetcher hands it): the reproduction's record
    then names the same settings and models, which its graph alone cannot (they arrive through links)."""
    parameters = {k: values[k] for k in ("seed", "steps", "cfg", "sampler", "scheduler", "width", "height")}
    parameters["clip_skip"] = saved.clip_skip or 1
    return {
        "checkpoint": {"name": checkpoint},
        "vae": None,  # the graph's VAE Loader, if the user adds one, names it
        "loras": loras,
        "parameters": parameters,
        "positive_prompt": values.get("prompt", ""),
        "negative_prompt": values.get("negative_prompt", ""),
        "reasons": [f"Reproduces {image_name}."],
    }


def lora_tag_text(loras: list[dict[str, Any]], available: Iterable[str]) -> str:
    """`<lora:name:weight>` tags for local LoRAs: the stem, as A1111 writes it, unless another file has the
    same stem; then the whole name, so that the tag still means this file."""
    stems: dict[str, int] = {}
    for name in available:
        stem = PurePath(name).stem.lower()
        stems[stem] = stems.get(stem, 0) + 1
    tags = []
    for lora in loras:
        stem = PurePath(lora["name"]).stem
        tags.append(f"<lora:{stem if stems.get(stem.lower(), 0) <= 1 else lora['name']}:{lora['weight']:g}>")
    return " ".join(tags)
