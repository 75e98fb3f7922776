"""`python -m services scan`."""

from __future__ import annotations

import argparse
import sys

HELP = "list the models under a ComfyUI-style models folder"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--models-root", required=True)
    p.add_argument("--cache-dir", help="keep the index here, so a rescan only stats files")


def run(args: argparse.Namespace) -> int:
    from ..library.scan import folders_under, scan

    library = scan(folders_under(args.models_root), args.cache_dir)
    for entry in library.entries:
        problems = f"  ! {'; '.join(entry.problems)}" if entry.problems else ""
        print(f"{entry.kind:12} {entry.family:8} {entry.base_model or '-':12} {entry.name}{problems}")
    print(f"{len(library.entries)} models", file=sys.stderr)
    return 0
