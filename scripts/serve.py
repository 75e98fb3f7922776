"""`make serve`: ComfyUI with this pack for interactive use, on 127.0.0.1, until Ctrl-C."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from comfy_server import ROOT, ComfyServer, ensure_tiny_models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=Path, help="a ComfyUI models folder; default: the tiny test models")
    parser.add_argument("--port", type=int, default=8188)
    args = parser.parse_args()
    base = ROOT / ".cache" / "serve"
    if args.models:
        server = ComfyServer(base, extra_models_root=args.models.expanduser().resolve(), port=args.port)
    else:
        server = ComfyServer(base, models=ensure_tiny_models(), port=args.port)
    with server:
        print(f"ComfyUI with Intelligent Generation: {server.url}  (log: {server.log_path}; Ctrl-C stops it)")
        print("Load the template: Workflow > Browse Templates > intelligent_generation > intelligent_text_to_image")
        try:
            while server.process and server.process.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
