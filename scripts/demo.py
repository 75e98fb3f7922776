"""`make demo`: run the bundled workflow in a real ComfyUI and show what the pack decided and saved.

With no arguments it uses the tiny generated test models (their images are
noise, and the size is reduced so the CPU run takes seconds). With
`--models /path/to/ComfyUI/models` it runs on a real library, as recommended.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from comfy_server import ROOT, ComfyServer, demo_prompt, ensure_tiny_models

sys.path.insert(0, str(ROOT))
from services.records.image_file import RECORD_KEY, read_metadata  # noqa: E402

TITLES = {"1": "Prompt Analyzer", "2": "Auto Model Select", "3": "LoRA Recommender", "4": "Metadata Fetcher"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=Path, help="a ComfyUI models folder (checkpoints/, loras/, vae/ ...)")
    parser.add_argument("--prompt", help="replace the workflow's prompt")
    args = parser.parse_args()

    base = ROOT / ".cache" / ("demo-user-models" if args.models else "demo")
    if args.models:
        server = ComfyServer(base, extra_models_root=args.models.expanduser().resolve())
        graph, workflow = demo_prompt(args.prompt)
    else:
        server = ComfyServer(base, models=ensure_tiny_models())
        # Tiny test models draw noise at any size; 128x128 keeps the CPU demo to seconds.
        graph, workflow = demo_prompt(args.prompt, size=128)
        print("Using the tiny generated test models (images are noise); size reduced to 128x128.")
    print(f"Starting ComfyUI at {server.url} (log: {server.log_path}) ...")
    started = time.monotonic()
    with server:
        print(f"ComfyUI ready in {time.monotonic() - started:.1f} s; queueing {len(graph)} nodes over POST /prompt")
        started = time.monotonic()
        try:
            entry = server.run_prompt(graph, timeout=1800, workflow=workflow)
        except RuntimeError as exc:
            print(f"\nThe workflow failed: {exc}", file=sys.stderr)
            return 1
        print(f"Workflow finished in {time.monotonic() - started:.1f} s\n")
        for node_id, title in TITLES.items():
            texts = entry["outputs"].get(node_id, {}).get("text", [])
            if texts:
                print(f"== {title}\n{texts[0]}\n")
        for image in server.output_files(entry):
            chunks = read_metadata(image)
            print(f"== Saved image\n{image.resolve()}\n")
            print("== Embedded A1111 `parameters`\n" + chunks.get("parameters", "(none)") + "\n")
            record = json.loads(chunks.get(RECORD_KEY, "{}"))
            print(f"== Embedded `{RECORD_KEY}` record (analysis omitted here)")
            print(json.dumps({k: v for k, v in record.items() if k != "analysis"}, indent=2, ensure_ascii=False))
            print("\nAlso embedded: ComfyUI's " + " and ".join(k for k in ("prompt", "workflow") if k in chunks)
                  + " chunks (drag the image into ComfyUI's editor: it opens the template's layout, as it ran).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
