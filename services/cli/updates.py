"""`python -m services updates`."""

from __future__ import annotations

import argparse
import json
import sys

from .options import library_options, online_options, online_settings

HELP = ("newer CivitAI versions, for the same base model, of the models whose record knows their CivitAI id "
        "(online: only those model ids are sent); one JSON line per model")


def add_arguments(p: argparse.ArgumentParser) -> None:
    library_options(p)
    online_options(p, hugging_face=False)


def run(args: argparse.Namespace) -> int:
    from ..library.scan import folders_under, scan
    from ..online.session import SettingsError
    from ..online.updates import check_updates, known_on_civitai

    try:
        settings = online_settings(args)
    except SettingsError as exc:
        print(f"updates: {exc}; nothing was sent", file=sys.stderr)
        return 2
    library = scan(folders_under(args.models_root), args.cache_dir)
    known = known_on_civitai(library, args.cache_dir)
    if not known:
        print("no model has a CivitAI record yet: run `python -m services metadata` first", file=sys.stderr)
        return 0
    print(f"asking CivitAI about {len({k.model_id for k in known})} models (their ids only)", file=sys.stderr)
    for check in check_updates(known, settings):
        print(json.dumps({**check.to_dict(), "summary": check.describe()}, ensure_ascii=False))
    return 0
