"""`python -m services stats`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .options import CACHE_DIR

HELP = ("library statistics: counts by kind and base model, metadata coverage, cache size, CPU, RAM and GPU "
        "(JSON); read-only")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--models-root", required=True)
    p.add_argument("--cache-dir", default=CACHE_DIR,
                   help="where scan and metadata keep the index, hashes and records")
    p.add_argument("--no-system", action="store_true", help="leave out CPU, RAM and GPU")


def run(args: argparse.Namespace) -> int:
    from ..library.scan import folders_under, scan
    from ..library.stats import collect_stats

    cache = Path(args.cache_dir)
    print(json.dumps(collect_stats(scan(folders_under(args.models_root), cache), cache, not args.no_system),
                     indent=2, ensure_ascii=False))
    return 0
