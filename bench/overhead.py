"""Overhead of the pack's nodes against a hand-wired core graph doing the same work, in one real ComfyUI.

The pack's bundled workflow runs first and its saved record says what it chose
(checkpoint, LoRAs and weights, final prompt, steps, cfg, sampler, scheduler).
A core graph (CheckpointLoaderSimple, LoraLoader, CLIPTextEncode, KSampler,
VAEDecode, SaveImage) then repeats exactly that. Both must give identical
pixels. Times are ComfyUI's own (execution_start to execution_success).

cold: models unloaded and ComfyUI's node cache cleared (POST /free) before each run.
warm: models loaded and cached; only the seed changes, so sampling re-runs.

Usage: .venv/bin/python bench/overhead.py [--runs 5] [--size 128] [--models DIR]
Targets: identical pixels; median ratio pack/core <= 1.05 cold, <= 1.02 warm.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from comfy_server import ComfyServer, ensure_tiny_models, load_api_workflow  # noqa: E402

from services.records.image_file import RECORD_KEY, read_metadata  # noqa: E402


def core_graph(record: dict[str, Any], seed: int) -> dict[str, Any]:
    s = record["settings"]
    graph: dict[str, Any] = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": record["checkpoint"]["name"]}},
    }
    model, clip = ["1", 0], ["1", 1]
    for i, lora in enumerate(record["loras"]):
        node = str(10 + i)
        graph[node] = {"class_type": "LoraLoader", "inputs": {
            "model": model, "clip": clip, "lora_name": lora["name"],
            "strength_model": lora["weight"], "strength_clip": lora["weight"]}}
        model, clip = [node, 0], [node, 1]
    graph |= {
        "2": {"class_type": "CLIPTextEncode", "inputs": {"clip": clip, "text": record["prompt"]}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"clip": clip, "text": record["negative_prompt"]}},
        "4": {"class_type": "EmptyLatentImage", "inputs": {"width": s["width"], "height": s["height"], "batch_size": 1}},
        "5": {"class_type": "KSampler", "inputs": {
            "model": model, "positive": ["2", 0], "negative": ["3", 0], "latent_image": ["4", 0], "seed": seed,
            "steps": s["steps"], "cfg": s["cfg"], "sampler_name": s["sampler"], "scheduler": s["scheduler"],
            "denoise": 1.0}},
        "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}},
        "7": {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": "core"}},
    }
    return graph


def pack_graph(size: int | None, seed: int) -> dict[str, Any]:
    graph = copy.deepcopy(load_api_workflow())
    graph["6"]["inputs"]["seed"] = seed
    if size:
        graph["5"]["inputs"]["width"] = graph["5"]["inputs"]["height"] = size
    return graph


def execution_seconds(entry: dict[str, Any]) -> float:
    stamps = {m[0]: m[1]["timestamp"] for m in entry["status"]["messages"]}
    return (stamps["execution_success"] - stamps["execution_start"]) / 1000


def pixels(path: Path) -> bytes:
    from PIL import Image

    with Image.open(path) as im:
        return im.convert("RGB").tobytes()


def run(server: ComfyServer, graph: dict[str, Any], cold: bool) -> tuple[float, Path]:
    if cold:
        server.post_raw("/free", {"unload_models": True, "free_memory": True})
        time.sleep(1.0)  # the worker applies the flags between prompts
    entry = server.run_prompt(graph)
    (image,) = server.output_files(entry)
    return execution_seconds(entry), image


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", type=int, default=128, help="latent size in pixels; 0 keeps the recommendation")
    parser.add_argument("--models", type=Path, help="a ComfyUI models folder (default: the tiny test models)")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="ig-bench-"))
    server = (ComfyServer(base, extra_models_root=args.models) if args.models
              else ComfyServer(base, models=ensure_tiny_models()))
    results: dict[str, dict[str, list[float]]] = {"cold": {"pack": [], "core": []}, "warm": {"pack": [], "core": []}}
    identical = True
    with server:
        _, first = run(server, pack_graph(args.size, 1), cold=True)
        record = json.loads(read_metadata(first)[RECORD_KEY])
        print(f"pack chose {record['checkpoint']['name']} + {[lo['name'] for lo in record['loras']]}, "
              f"{record['settings']['steps']} steps at {record['settings']['width']}x{record['settings']['height']}")
        for mode in ("cold", "warm"):
            for i in range(args.runs):
                seed = 1000 + i
                order = ("pack", "core") if i % 2 == 0 else ("core", "pack")  # alternate to cancel drift
                images = {}
                for which in order:
                    graph = pack_graph(args.size, seed) if which == "pack" else core_graph(record, seed)
                    seconds, images[which] = run(server, graph, cold=(mode == "cold"))
                    results[mode][which].append(seconds)
                same = pixels(images["pack"]) == pixels(images["core"])
                identical &= same
                print(f"{mode} run {i + 1}: pack {results[mode]['pack'][-1]:.3f} s, core "
                      f"{results[mode]['core'][-1]:.3f} s, pixels {'identical' if same else 'DIFFER'}")
    print()
    targets = {"cold": 1.05, "warm": 1.02}
    ok = identical
    for mode, times in results.items():
        pack, core = statistics.median(times["pack"]), statistics.median(times["core"])
        ratio = pack / core
        ok &= ratio <= targets[mode]
        print(f"{mode}: median pack {pack:.3f} s, core {core:.3f} s, ratio {ratio:.3f} "
              f"(target <= {targets[mode]}: {'PASS' if ratio <= targets[mode] else 'FAIL'})")
    print(f"pixels identical in every pair: {'yes' if identical else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
