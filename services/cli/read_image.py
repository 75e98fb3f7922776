"""`python -m services read-image`."""

from __future__ import annotations

import argparse
import json

HELP = "what a saved image says about its generation, as JSON (PNG, JPEG, WebP)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("image")
    p.add_argument("--all", action="store_true", help="add the embedded chunks themselves")


def run(args: argparse.Namespace) -> int:
    from ..records.image_file import RECORD_KEY, read_metadata
    from ..records.read_back import read_generation

    chunks = read_metadata(args.image)
    answer = read_generation(chunks).to_dict()
    if args.all:
        def parsed(key: str, value: str) -> object:
            try:
                return json.loads(value) if key in ("prompt", "workflow", RECORD_KEY) else value
            except ValueError:
                return value

        answer["embedded"] = {k: parsed(k, v) for k, v in chunks.items()}
    print(json.dumps(answer, indent=2, ensure_ascii=False))
    return 0 if chunks else 1
