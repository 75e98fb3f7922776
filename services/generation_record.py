"""The record of one generation: gathered from the executed graph and from our nodes' decisions.

The graph is ComfyUI's API-format prompt (node id -> {class_type, inputs}); a
linked input is `[source_id, output_index]`. Literal widget values are read
from it, so the record is right downstream of core nodes too. Values that only
exist at run time (steps chosen by Auto Model Select) come from the
generation info our nodes pass along.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import PurePath
from typing import Any

from . import __version__
from .hashing import FileHashes
from .infotext import build_infotext

SAMPLER_CLASSES = {"KSampler": "seed", "KSamplerAdvanced": "noise_seed"}
SAMPLER_FIELDS = {"steps": "steps", "cfg": "cfg", "sampler_name": "sampler", "scheduler": "scheduler"}
RECORD_VERSION = 1


def _literal(graph: dict[str, Any], value: Any, depth: int = 0) -> Any:
    """A widget value, following links through primitive-style nodes (inputs with one `value`)."""
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[1], int)):
        return value
    node = graph.get(str(value[0]))
    if depth > 8 or not isinstance(node, dict):
        return None
    inputs = node.get("inputs", {})
    for key in ("value", "seed", "noise_seed", "int", "float", "string", "text"):
        if key in inputs and len(inputs) <= 2:
            return _literal(graph, inputs[key], depth + 1)
    return None


def _source(graph: dict[str, Any], value: Any) -> dict[str, Any] | None:
    if isinstance(value, list) and len(value) == 2:
        node = graph.get(str(value[0]))
        return node if isinstance(node, dict) else None
    return None


def _text_of(graph: dict[str, Any], link: Any) -> str | None:
    node = _source(graph, link)
    if node and node.get("class_type") == "CLIPTextEncode":
        text = _literal(graph, node.get("inputs", {}).get("text"))
        return text if isinstance(text, str) else None
    return None


def settings_from_graph(graph: dict[str, Any] | None) -> dict[str, Any]:
    """Sampling settings and core-node model choices found in the graph (first sampler wins)."""
    found: dict[str, Any] = {}
    if not isinstance(graph, dict):
        return found
    for node_id in sorted(graph, key=lambda k: (len(k), k)):
        node = graph[node_id]
        if not isinstance(node, dict):
            continue
        kind, inputs = node.get("class_type"), node.get("inputs", {})
        if kind in SAMPLER_CLASSES and "steps" not in found:
            for key, name in {SAMPLER_CLASSES[kind]: "seed", **SAMPLER_FIELDS}.items():
                value = _literal(graph, inputs.get(key))
                if value is not None:
                    found[name] = value
            for key, name in (("positive", "prompt"), ("negative", "negative_prompt")):
                text = _text_of(graph, inputs.get(key))
                if text is not None:
                    found[name] = text
            latent = _source(graph, inputs.get("latent_image"))
            if latent and latent.get("class_type") == "EmptyLatentImage":
                for dim in ("width", "height"):
                    value = _literal(graph, latent["inputs"].get(dim))
                    if value is not None:
                        found[dim] = value
        elif kind == "CheckpointLoaderSimple" and "checkpoint" not in found:
            name = _literal(graph, inputs.get("ckpt_name"))
            if isinstance(name, str):
                found["checkpoint"] = name
        elif kind in ("LoraLoader", "LoraLoaderModelOnly"):
            name = _literal(graph, inputs.get("lora_name"))
            if isinstance(name, str):
                found.setdefault("loras", []).append(
                    {"name": name, "weight": _literal(graph, inputs.get("strength_model"))}
                )
    return found


def public_name(name: str | None) -> str | None:
    """A model's name as ComfyUI lists it, never an absolute path (which would reveal user names)."""
    if not name:
        return None
    path = PurePath(name.replace("\\", "/"))
    return path.name if path.is_absolute() or ":" in name else name


def build_record(
    graph: dict[str, Any] | None,
    info: dict[str, Any] | None,
    width: int,
    height: int,
    include_prompts: bool = True,
) -> dict[str, Any]:
    """Our JSON record. `info` is the generation info from our nodes (may be None)."""
    info = info or {}
    from_graph = settings_from_graph(graph)
    planned = info.get("parameters", {})
    settings = {k: from_graph.get(k, planned.get(k)) for k in ("seed", "steps", "cfg", "sampler", "scheduler")}
    settings["width"], settings["height"] = width, height
    checkpoint = info.get("checkpoint") or {"name": from_graph.get("checkpoint")}
    loras = info.get("loras") or [{"name": x["name"], "weight": x["weight"]} for x in from_graph.get("loras", [])]
    record: dict[str, Any] = {
        "record_version": RECORD_VERSION,
        "generation_id": str(uuid.uuid4()),
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "settings": settings,
        "checkpoint": {**checkpoint, "name": public_name(checkpoint.get("name"))},
        "vae": public_name(info.get("vae")),
        "loras": [{**lora, "name": public_name(lora.get("name"))} for lora in loras],
        "analysis": info.get("analysis"),
        "reasons": info.get("reasons", []),
        "pack_version": __version__,
    }
    if include_prompts:
        record["prompt"] = info.get("positive_prompt") or from_graph.get("prompt", "")
        record["negative_prompt"] = info.get("negative_prompt") or from_graph.get("negative_prompt", "")
    else:
        record["analysis"] = None
    return record


HashLookup = Callable[[str, str], FileHashes | None]


def fill_hashes(record: dict[str, Any], hash_of: HashLookup) -> None:
    """Hashes for models named only in the graph (core loaders): from the cache, hashing on first use."""
    checkpoint = record["checkpoint"]
    if checkpoint.get("name") and not checkpoint.get("sha256"):
        found = hash_of("checkpoints", checkpoint["name"])
        if found:
            checkpoint.update(sha256=found.sha256, autov2=found.autov2)
    for lora in record["loras"]:
        if lora.get("name") and not lora.get("sha256"):
            found = hash_of("loras", lora["name"])
            if found:
                lora.update(sha256=found.sha256, autov3=found.autov3)


def infotext_for(record: dict[str, Any]) -> str:
    """A1111 `parameters` text of a record; names without folders or extensions, as A1111 shows them."""
    checkpoint = record["checkpoint"]
    model_name = PurePath(checkpoint["name"]).stem if checkpoint.get("name") else None
    loras = [(PurePath(lo["name"]).stem, lo.get("autov3")) for lo in record["loras"] if lo.get("name")]
    return build_infotext(
        record.get("prompt", ""),
        record.get("negative_prompt", ""),
        record["settings"],
        model_name=model_name,
        model_hash=checkpoint.get("autov2"),
        loras=loras,
        version=f"intelligent-generation {record['pack_version']}",
    )
