"""`python -m services duplicates`."""

from __future__ import annotations

import argparse
import json
import sys

from .options import library_options

HELP = ("copies of one model in several places, with the bytes they waste (JSON); hashes only files of one "
        "size and fingerprint, deletes nothing")


def add_arguments(p: argparse.ArgumentParser) -> None:
    library_options(p)
    p.add_argument("--no-hash", action="store_true", help="hash nothing: list candidates as unconfirmed")


def run(args: argparse.Namespace) -> int:
    from ..library.duplicates import library_copies, summary
    from ..library.scan import folders_under, scan

    library = scan(folders_under(args.models_root), args.cache_dir)

    def progress(done: int, total: int) -> None:
        print(f"\rhashing candidates: {100 * done // max(total, 1)}%", end="", file=sys.stderr, flush=True)

    groups = library_copies(library, args.cache_dir, confirm=not args.no_hash, progress=progress)
    print(file=sys.stderr)
    print(json.dumps({**summary(groups), "duplicates": [g.to_dict() for g in groups]}, indent=2, ensure_ascii=False))
    return 0
