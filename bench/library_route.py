"""The Model Library route under load: `/intelligent-generation/library` polled while prompts run.

A real ComfyUI with the tiny models and N extra LoRAs (each with a CivitAI Helper sidecar, through an
extra_model_paths.yaml): the bundled text-to-image workflow is queued again and again while the route is
polled. Prints the route's latency (p50, p95) and the prompts' wall time with and without polling.
Targets (issue: hostile input, item 9): p95 <= 100 ms at 5,000 models, and no slowdown of generation.

Usage: .venv/bin/python bench/library_route.py [--loras 5000] [--polls 60] [--prompts 4]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "scripts"), str(ROOT / "tests")]

from comfy_server import ComfyServer, ensure_tiny_models, load_api_workflow  # noqa: E402
from model_files import SD15_LORA, write_safetensors  # noqa: E402


def build(root: Path, count: int) -> None:
    for i in range(count):
        path = write_safetensors(root / "loras" / f"set{i // 500}" / f"lora_{i:05d}.safetensors", SD15_LORA)
        path.with_suffix(".civitai.info").write_text(json.dumps({
            "baseModel": "SD 1.5", "trainedWords": [f"trig{i}"],
            "model": {"name": f"Bench LoRA {i}", "tags": ["style", f"topic{i % 97}"]},
            "description": f"A bench LoRA about topic {i % 97}, for scale."}))


def run_prompts(server: ComfyServer, count: int) -> float:
    graph = load_api_workflow()
    graph["1"]["inputs"].update(use_ollama=False)
    graph["5"]["inputs"].update(width=64, height=64)
    started = time.monotonic()
    for seed in range(count):
        graph["6"]["inputs"]["seed"] = seed
        server.run_prompt(graph, timeout=300)
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loras", type=int, default=5_000)
    parser.add_argument("--polls", type=int, default=60)
    parser.add_argument("--prompts", type=int, default=4)
    parser.add_argument("--no-etag", action="store_true", help="fetch the whole listing every time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ig-route-") as tmp:
        work = Path(tmp)
        build(work / "user_models", args.loras)
        with ComfyServer(work / "comfy", models=ensure_tiny_models(), extra_models_root=work / "user_models") as server:
            first = time.monotonic()
            server.get("/intelligent-generation/library", timeout=300)
            print(f"{args.loras} extra LoRAs; first listing (scan included) {time.monotonic() - first:.2f} s")
            run_prompts(server, 1)  # warm: models loaded once
            alone = run_prompts(server, args.prompts)
            latencies: list[float] = []
            done = threading.Event()

            def poll() -> None:
                """As the tab fetches (cache "no-cache"): revalidating with the last ETag, unless --no-etag."""
                tag = None
                while not done.is_set() and len(latencies) < args.polls:
                    t0 = time.monotonic()
                    request = urllib.request.Request(server.url + "/intelligent-generation/library")
                    if tag and not args.no_etag:
                        request.add_header("If-None-Match", tag)
                    try:
                        with urllib.request.urlopen(request, timeout=60) as r:
                            r.read()
                            tag = r.headers.get("ETag")
                    except urllib.error.HTTPError as exc:  # 304: the listing the tab has is current
                        if exc.code != 304:
                            raise
                    latencies.append((time.monotonic() - t0) * 1000)

            poller = threading.Thread(target=poll)
            poller.start()
            polled = run_prompts(server, args.prompts)
            done.set()
            poller.join()
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan")
    print(f"/library while prompts run: {len(latencies)} calls, p50 {statistics.median(latencies):.1f} ms, "
          f"p95 {p95:.1f} ms (target <= 100 ms: {'PASS' if p95 <= 100 else 'FAIL'})")
    print(f"{args.prompts} prompts: {alone:.2f} s alone, {polled:.2f} s while polled "
          f"({polled / alone:.2f}x; target: no slowdown)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
