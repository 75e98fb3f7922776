"""`python -m services metadata`."""

from __future__ import annotations

import argparse
import json
import sys

from .options import library_options, online_options, online_settings
from .terminal import TerminalLine

HELP = ("hash a models folder and look the files up on CivitAI / Hugging Face (online: only hashes are sent);"
        " one JSON line of counts")


class ProgressLine(TerminalLine):
    """The metadata run's progress: hashing, then lookups."""

    def __call__(self, phase: str, done: int, total: int) -> None:
        if total == 0:
            return
        if phase == "hashing":
            text = f"hashing {100 * done // max(total, 1):3d}% ({done / 1e9:.2f} of {total / 1e9:.2f} GB)"
        else:
            text = f"looking up {done}/{total} files"
        self.show(text)


def add_arguments(p: argparse.ArgumentParser) -> None:
    library_options(p)
    online_options(p)
    p.add_argument("--write-sidecars", action="store_true", help="also write <model>.ig.json next to each found model")
    p.add_argument("--keep-previews", choices=["PG", "PG-13", "R", "X", "XXX"],
                   help="also keep each found model's first example image rated at most this, in the cache folder")


def run(args: argparse.Namespace) -> int:
    """`python -m services metadata`: progress on standard error, then one JSON line of counts.

    Exit status: 0 when every file was answered (found or not found), 1 when some lookups
    failed, 2 when the settings cannot be used (nothing was sent).
    """
    from ..library.previews import LEVELS
    from ..library.scan import folders_under, scan
    from ..online.lookups import FetchOptions, fetch_metadata, targets_from_library
    from ..online.session import SettingsError

    try:
        settings = online_settings(args)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    library = scan(folders_under(args.models_root))
    line = ProgressLine(sys.stderr)
    try:
        report = fetch_metadata(targets_from_library(library), args.cache_dir, settings,
                                FetchOptions(write_sidecars=args.write_sidecars,
                                             preview_max_nsfw=LEVELS.get(args.keep_previews or "", 0)), progress=line)
    finally:
        line.end()
    for result in report.results:
        for error in result.errors:
            print(f"{result.target.kind}/{result.target.name}: {error}", file=sys.stderr)
    print(json.dumps(report.counts.to_dict()))
    return 1 if report.counts.errors else 0
