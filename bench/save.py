"""Save time of Save With Metadata against core SaveImage for the same images, in one real ComfyUI.

A core graph (checkpoint, prompts, Empty Latent Image, KSampler, VAE Decode)
makes a batch once; ComfyUI caches it. Each run then changes only the saving
node's folder, so only that node executes: the time is ComfyUI's own, from the
prompt's execution_start to execution_success message. Both savers get the UI
workflow in extra_pnginfo, as prompts queued from the frontend do. Runs
alternate between the two to cancel drift; the first run of each is a warm-up
(ours hashes the checkpoint there, once, into its cache).

The tiny test models decode to noise, which PNG compresses worst: absolute
times are higher than for real pictures, for both savers alike.

Usage: .venv/bin/python bench/save.py [--runs 9] [--size 512] [--batch 4] [--format png]
Target: median ratio ours/core <= 1.10 (PNG; core SaveImage writes only PNG).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from comfy_server import ComfyServer, ensure_tiny_models  # noqa: E402

TARGET_RATIO = 1.10
WORKFLOW = json.loads((ROOT / "example_workflows" / "intelligent_text_to_image.json").read_text())


def source_graph(size: int, batch: int) -> dict[str, Any]:
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny_photoreal_v1.safetensors"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": "photo of a cat, window light"}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": "blurry"}},
        "4": {"class_type": "EmptyLatentImage", "inputs": {"width": size, "height": size, "batch_size": batch}},
        "5": {"class_type": "KSampler", "inputs": {"model": ["1", 0], "positive": ["2", 0], "negative": ["3", 0],
              "latent_image": ["4", 0], "seed": 1, "steps": 2, "cfg": 6.0, "sampler_name": "euler",
              "scheduler": "normal", "denoise": 1.0}},
        "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}},
    }


def saver(which: str, run: int, fmt: str) -> dict[str, Any]:
    if which == "core":
        return {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": f"core_{run}/img"}}
    return {"class_type": "IntelligentSaveWithMetadata", "inputs": {
        "images": ["6", 0], "filename_mode": "standard", "subfolder": f"ours_{run}", "include_workflow": True,
        "format": fmt}}


def execute(server: ComfyServer, graph: dict[str, Any]) -> tuple[float, list[str]]:
    """Queue as the frontend does; ComfyUI's own seconds from execution start to success, and what ran."""
    body = {"prompt": graph, "client_id": uuid.uuid4().hex, "extra_data": {"extra_pnginfo": {"workflow": WORKFLOW}}}
    prompt_id = server.post("/prompt", body)["prompt_id"]
    while True:
        entry = server.get(f"/history/{prompt_id}").get(prompt_id)
        if entry and entry.get("status", {}).get("completed") is not None:
            break
        time.sleep(0.05)
    messages = dict(entry["status"]["messages"])
    if "execution_success" not in messages:
        raise RuntimeError(f"the prompt failed: {entry['status']}")
    cached = set(messages.get("execution_cached", {}).get("nodes", []))
    ran = [node for node in graph if node not in cached]
    return (messages["execution_success"]["timestamp"] - messages["execution_start"]["timestamp"]) / 1000, ran


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--format", choices=("png", "jpeg", "webp"), default="png", help="our node's format")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="ig-bench-save-"))
    times: dict[str, list[float]] = {"ours": [], "core": []}
    with ComfyServer(base, models=ensure_tiny_models()) as server:
        source = source_graph(args.size, args.batch)
        for which in ("core", "ours"):  # warm-up: sampling, and our first-use hashing
            execute(server, source | {"9": saver(which, -1, args.format)})
        for run in range(args.runs):
            order = ("ours", "core") if run % 2 == 0 else ("core", "ours")
            for which in order:
                seconds, ran = execute(server, source | {"9": saver(which, run, args.format)})
                if ran != ["9"]:
                    raise RuntimeError(f"expected only the saver to run, ran {ran}")
                times[which].append(seconds)
            print(f"run {run + 1}: ours {times['ours'][-1]:.3f} s, core {times['core'][-1]:.3f} s")
    ours, core = statistics.median(times["ours"]), statistics.median(times["core"])
    ratio = ours / core
    print(f"\n{args.batch} images of {args.size}x{args.size}, ours as {args.format}, {args.runs} runs each")
    print(f"median: ours {ours:.3f} s, core SaveImage {core:.3f} s, ratio {ratio:.3f} "
          f"(target <= {TARGET_RATIO}: {'PASS' if ratio <= TARGET_RATIO else 'FAIL'})")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
