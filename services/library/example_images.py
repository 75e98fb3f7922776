"""What a model's example images say about using it: CivitAI's `images[].meta`, in an API answer or a sidecar.

The settings most examples were made with, and for a LoRA the weight its examples gave it. An example
image usually holds several LoRAs: a weight counts only when it is this LoRA's (its hash among the
file's hashes, or its name among the file's names), or when the image used this LoRA alone.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from ..text.lora_tags import lora_tags
from .model_records import clean_float, clean_int, clean_text, most_common

MAX_EXAMPLES = 50
MODEL_EXTENSIONS = ("safetensors", "ckpt", "pt", "pth", "bin")
LORA_TYPES = ("lora", "locon", "lycoris", "dora")
_SIZE = re.compile(r"^\s*(\d{2,5})\s*x\s*(\d{2,5})\s*$")


@dataclass(frozen=True)
class Identity:
    """How example metadata may name this file: any of its hashes (AutoV2 in resource lists, AutoV3 in
    `Lora hashes`), or the stem of one of its file names (`<lora:stem:w>` tags)."""
    hashes: frozenset[str]
    names: frozenset[str]

    @staticmethod
    def of(files: Any, *extra_hashes: str | None) -> Identity:
        hashes: set[str] = {h.lower() for h in extra_hashes if h}
        names: set[str] = set()
        for f in files if isinstance(files, list) else []:
            if not isinstance(f, dict):
                continue
            if isinstance(f.get("name"), str) and f["name"].strip():
                names.add(bare_name(f["name"]))
            found = f.get("hashes")
            for value in (found.values() if isinstance(found, dict) else []):
                if isinstance(value, str) and value.strip():
                    hashes.add(value.strip().lower())
        hashes |= {h[:10] for h in hashes if len(h) == 64}  # AutoV2 is the SHA-256's first ten
        return Identity(frozenset(hashes), frozenset(names))


def metas(images: Any) -> list[dict[str, Any]]:
    return [i["meta"] for i in (images if isinstance(images, list) else [])
            if isinstance(i, dict) and isinstance(i.get("meta"), dict)][:MAX_EXAMPLES]


def settings(examples: list[dict[str, Any]]) -> dict[str, Any]:
    """Steps, CFG, sampler, clip skip and size, each the value most examples share."""
    sizes = [_SIZE.match(m["Size"]) if isinstance(m.get("Size"), str) else None for m in examples]
    found = {
        "steps": most_common([clean_int(m.get("steps"), 1, 200) for m in examples]),
        "cfg": most_common([clean_float(m.get("cfgScale"), 0.0, 30.0) for m in examples]),
        "sampler": most_common([clean_text(m.get("sampler"), 40) or None for m in examples]),
        # CivitAI's own generator writes clipSkip; images from A1111 keep its "Clip skip".
        "clip_skip": most_common([clean_int(m.get("clipSkip", m.get("Clip skip")), 1, 12) for m in examples]),
        "size": most_common([(int(s.group(1)), int(s.group(2))) if s else None for s in sizes]),
    }
    out = {k: v for k, v in found.items() if v is not None and k != "size"}
    if found["size"]:
        out["width"], out["height"] = found["size"]
    return out


def lora_weight(examples: list[dict[str, Any]], me: Identity) -> float | None:
    """The median weight this LoRA had in its examples (one odd example does not decide)."""
    weights = [w for m in examples if (w := _weight_in(m, me)) is not None]
    return statistics.median_low(weights) if weights else None


def _weight_in(meta: dict[str, Any], me: Identity) -> float | None:
    resources = meta.get("resources")
    loras = [r for r in (resources if isinstance(resources, list) else [])
             if isinstance(r, dict) and str(r.get("type", "")).lower() in LORA_TYPES]
    mine = [r for r in loras if _is_me(r.get("hash"), r.get("name"), me)] or (loras if len(loras) == 1 else [])
    if mine:
        return clean_float(mine[0].get("weight"), -3.0, 3.0)
    tags = lora_tags(meta["prompt"]) if isinstance(meta.get("prompt"), str) else []
    named = _lora_hash_names(meta.get("Lora hashes"))
    mine_tags = [w for name, w in tags if _is_me(named.get(name.lower()), name, me)] or \
        ([tags[0][1]] if len(tags) == 1 else [])
    return clean_float(mine_tags[0], -3.0, 3.0) if mine_tags else None


def _is_me(hash_value: Any, name: Any, me: Identity) -> bool:
    if isinstance(hash_value, str) and hash_value.strip().lower() in me.hashes:
        return True
    return isinstance(name, str) and bare_name(name) in me.names


def bare_name(name: str) -> str:
    """A file or tag name without folders and model extension, folded: `sd15/Cat_Ears.safetensors` ->
    `cat_ears` (a tag's own dots stay: `add_detail_v1.5`)."""
    base = PurePath(name.strip().replace("\\", "/")).name
    stem, dot, ext = base.rpartition(".")
    return (stem if dot and ext.lower() in MODEL_EXTENSIONS else base).lower()


def _lora_hash_names(value: Any) -> dict[str, str]:
    """A1111's `Lora hashes: "name: autov3, name2: autov3"` as name -> hash."""
    pairs: Iterable[str] = value.split(",") if isinstance(value, str) else []
    out: dict[str, str] = {}
    for pair in pairs:
        name, _, h = pair.rpartition(":")
        if name.strip() and h.strip():
            out[name.strip().lower()] = h.strip()
    return out
