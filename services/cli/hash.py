"""`python -m services hash`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .options import CACHE_DIR

HELP = "SHA-256, AutoV2 and AutoV3 of model files (cached)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+")
    p.add_argument("--cache-dir", default=CACHE_DIR)


def run(args: argparse.Namespace) -> int:
    from ..library.hashing import HashCache

    cache = HashCache(args.cache_dir)
    for name in args.files:
        def progress(done: int, total: int, name: str = name) -> None:
            print(f"\r{name}: {100 * done // max(total, 1)}%", end="", file=sys.stderr, flush=True)

        h = cache.hashes(name, progress=progress)
        print(file=sys.stderr)
        print(json.dumps({"file": Path(name).name, "sha256": h.sha256, "autov2": h.autov2, "autov3": h.autov3}))
    return 0
