"""Generation info: what was chosen, with file hashes, handed from Metadata Fetcher to Save With Metadata."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from ..library.hashing import HashCache
from ..library.scan import Library


def collect_generation_info(
    selection: Mapping[str, Any],
    lora_plan: Mapping[str, Any] | None,
    library: Library,
    paths: dict[str, str],
    cache: HashCache,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, Any], str]:
    """Hash every file (cached), report progress over all bytes, and explain what is known locally."""
    total = sum(os.path.getsize(p) for p in paths.values()) or 1
    done_before = 0
    hashes = {}
    for name, path in paths.items():
        entry = library.find("checkpoints" if name == selection["checkpoint"] else "loras", name)
        size = os.path.getsize(path)

        def step(done: int, _total: int, base: int = done_before) -> None:
            if progress:
                progress(base + done, total)

        hashes[name] = cache.hashes(path, entry.embedded_hash if entry else None, progress=step)
        done_before += size
        if progress:
            progress(done_before, total)
    plan = lora_plan or {}
    ck = selection["checkpoint"]
    ck_entry = library.find("checkpoints", ck)
    info: dict[str, Any] = {
        "checkpoint": {
            "name": ck, "base_model": selection.get("base_model"),
            "sha256": hashes[ck].sha256, "autov2": hashes[ck].autov2,
        },
        "vae": selection.get("vae"),
        "loras": [
            {"name": lo["name"], "weight": lo["weight"], "sha256": hashes[lo["name"]].sha256,
             "autov3": hashes[lo["name"]].autov3}
            for lo in plan.get("loras", [])
        ],
        "parameters": selection.get("parameters", {}),
        "positive_prompt": plan.get("positive_prompt"),
        "negative_prompt": plan.get("negative_prompt"),
        "analysis": selection.get("analysis"),
        "reasons": [*selection.get("reasons", []), *plan.get("reasons", [])],
    }
    lines = [f"{ck}: SHA-256 {hashes[ck].sha256[:12]}..., AutoV2 {hashes[ck].autov2}"
             + (f", metadata from {', '.join(ck_entry.sources)}" if ck_entry and ck_entry.sources else "")]
    lines += [f"{lo['name']}: AutoV3 {lo['autov3']}" for lo in info["loras"]]
    return info, "\n".join(lines)
