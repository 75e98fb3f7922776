"""The record of one generation: gathered from the executed graph and from our nodes' decisions.

The graph is ComfyUI's API-format prompt (node id -> {class_type, inputs}); a
linked input is `[source_id, output_index]`. Literal widget values are read
from it, so the record is right downstream of core nodes too. Values that only
exist at run time (steps chosen by Auto Model Select) come from the
generation info our nodes pass along.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import PurePath
from typing import Any

from .. import __version__
from ..library.hashing import FileHashes
from .infotext import build_infotext

SAMPLER_CLASSES = {"KSampler": "seed", "KSamplerAdvanced": "noise_seed"}
SAMPLER_FIELDS = {"steps": "steps", "cfg": "cfg", "sampler_name": "sampler", "scheduler": "scheduler",
                  "denoise": "denoise"}
LORA_CLASSES = ("LoraLoader", "LoraLoaderModelOnly")
CHECKPOINT_INPUTS = ("ckpt_name",)
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


def upstream(graph: dict[str, Any], node_id: str) -> list[str]:
    """Ids of the nodes `node_id` depends on, nearest first."""
    order: list[str] = []
    seen = {node_id}
    queue = deque([node_id])
    while queue:
        node = graph.get(queue.popleft())
        inputs = node.get("inputs", {}) if isinstance(node, dict) else {}
        for value in inputs.values():
            if isinstance(value, list) and len(value) == 2 and str(value[0]) in graph and str(value[0]) not in seen:
                seen.add(str(value[0]))
                order.append(str(value[0]))
                queue.append(str(value[0]))
    return order


def _chain(graph: dict[str, Any], link: Any, key: str, found: dict[str, Any]) -> None:
    """Walk a MODEL (or CLIP) chain back to its loader: LoRAs on the way, the checkpoint at the end."""
    loras: list[dict[str, Any]] = []
    for _ in range(32):
        node = _source(graph, link)
        if node is None:
            break
        kind, inputs = node.get("class_type"), node.get("inputs", {})
        if kind in LORA_CLASSES:
            name = _literal(graph, inputs.get("lora_name"))
            if isinstance(name, str):
                lora = {"name": name, "weight": _literal(graph, inputs.get("strength_model"))}
                if "strength_clip" in inputs:
                    lora["clip_weight"] = _literal(graph, inputs.get("strength_clip"))
                loras.insert(0, lora)
        elif kind == "CLIPSetLastLayer" and key == "clip":
            layer = _literal(graph, inputs.get("stop_at_clip_layer"))
            if isinstance(layer, int) and layer < -1:
                found.setdefault("clip_skip", -layer)
        name = next((_literal(graph, inputs[k]) for k in CHECKPOINT_INPUTS if k in inputs), None)
        if isinstance(name, str):
            found.setdefault("checkpoint", name)
            break
        link = inputs.get(key)
    if key == "model" and loras:
        found.setdefault("loras", loras)


def settings_from_graph(graph: dict[str, Any] | None, output_node: str | None = None) -> dict[str, Any]:
    """Sampling settings and core-node model choices found in the graph.

    With `output_node` (the saving node's id), only what feeds that node counts,
    and the first-pass sampler (the one fed by Empty Latent Image) wins; without
    it, the sampler with the lowest id.
    """
    found: dict[str, Any] = {}
    if not isinstance(graph, dict):
        return found
    if output_node is not None and str(output_node) in graph:
        ids = upstream(graph, str(output_node))
    else:
        ids = sorted(graph, key=lambda k: (len(k), k))
    samplers = [i for i in ids if isinstance(graph[i], dict) and graph[i].get("class_type") in SAMPLER_CLASSES]
    first_pass = [i for i in samplers if (_source(graph, graph[i]["inputs"].get("latent_image")) or {})
                  .get("class_type") == "EmptyLatentImage"]
    if samplers:
        node = graph[(first_pass or samplers)[0]]
        inputs = node.get("inputs", {})
        for key, name in {SAMPLER_CLASSES[node["class_type"]]: "seed", **SAMPLER_FIELDS}.items():
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
        _chain(graph, inputs.get("model"), "model", found)
        encoder = _source(graph, inputs.get("positive"))
        if encoder:
            _chain(graph, encoder.get("inputs", {}).get("clip"), "clip", found)
    for i in ids:
        node = graph[i]
        if not isinstance(node, dict):
            continue
        if node.get("class_type") == "VAELoader" and "vae" not in found:
            name = _literal(graph, node.get("inputs", {}).get("vae_name"))
            if isinstance(name, str):
                found["vae"] = name
        if "checkpoint" not in found and node.get("class_type") == "CheckpointLoaderSimple":
            name = _literal(graph, node.get("inputs", {}).get("ckpt_name"))
            if isinstance(name, str):
                found["checkpoint"] = name
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
    output_node: str | None = None,
    peak_vram_mb: int | None = None,
) -> dict[str, Any]:
    """Our JSON record for a batch (see `for_image`). `info` is the generation info from our nodes (may be None)."""
    info = info or {}
    from_graph = settings_from_graph(graph, output_node)
    planned = info.get("parameters", {})
    settings = {k: from_graph.get(k, planned.get(k)) for k in ("seed", "steps", "cfg", "sampler", "scheduler")}
    settings["width"], settings["height"] = width, height
    for key in ("denoise", "clip_skip"):
        if from_graph.get(key) is not None:
            settings[key] = from_graph[key]
    checkpoint = info.get("checkpoint") or {"name": from_graph.get("checkpoint")}
    loras = info.get("loras") or from_graph.get("loras", [])
    record: dict[str, Any] = {
        "record_version": RECORD_VERSION,
        "generation_id": str(uuid.uuid4()),
        "created_utc": _now(),
        "settings": settings,
        "checkpoint": {**checkpoint, "name": public_name(checkpoint.get("name"))},
        "vae": public_name(info.get("vae") or from_graph.get("vae")),
        "loras": [{**lora, "name": public_name(lora.get("name"))} for lora in loras],
        "analysis": info.get("analysis"),
        "reasons": info.get("reasons", []),
        "timing": info.get("timing"),
        "peak_vram_mb": peak_vram_mb,
        "pack_version": __version__,
    }
    if include_prompts:
        record["prompt"] = info.get("positive_prompt") or from_graph.get("prompt", "")
        record["negative_prompt"] = info.get("negative_prompt") or from_graph.get("negative_prompt", "")
    else:
        # The analysis and the reasons quote the prompt's words.
        record["analysis"], record["reasons"] = None, []
    return record


def _now(now: datetime | None = None) -> str:
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return now.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def for_image(record: dict[str, Any], index: int, count: int, now: datetime | None = None) -> dict[str, Any]:
    """The record of one image of a batch: its own id and time; the batch position reproduces its noise."""
    settings = {**record["settings"], "batch_index": index, "batch_size": count}
    return {**record, "generation_id": str(uuid.uuid4()), "created_utc": _now(now), "settings": settings}


HashLookup = Callable[[str, str], FileHashes | None]
BaseLookup = Callable[[str, str], str | None]


def fill_hashes(record: dict[str, Any], hash_of: HashLookup, base_of: BaseLookup | None = None) -> None:
    """Hashes (and base models) of models named only in the graph: from the cache, hashing on first use."""
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
    if base_of:
        for kind, model in [("checkpoints", checkpoint), *(("loras", lora) for lora in record["loras"])]:
            if model.get("name") and not model.get("base_model"):
                model["base_model"] = base_of(kind, model["name"])


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def infotext_for(record: dict[str, Any]) -> str:
    """A1111 `parameters` text of a record; names without folders or extensions, as A1111 shows them."""
    checkpoint = record["checkpoint"]
    model_name = PurePath(checkpoint["name"]).stem if checkpoint.get("name") else None
    loras = [(PurePath(lo["name"]).stem, lo.get("autov3"), _number(lo.get("weight")))
             for lo in record["loras"] if lo.get("name")]
    return build_infotext(
        record.get("prompt", ""),
        record.get("negative_prompt", ""),
        record["settings"],
        model_name=model_name,
        model_hash=checkpoint.get("autov2"),
        loras=loras,
        version=f"intelligent-generation {record['pack_version']}",
    )
