"""`python -m services download`."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .options import CACHE_DIR, online_options, online_settings
from .terminal import TerminalLine

if TYPE_CHECKING:
    from ..online.session import OnlineSettings

HELP = ("download one model (a CivitAI model version, or a Hugging Face repository file) into a models "
        "folder, SHA-256 verified and resumable; without --yes it only says what it would download. --search "
        "CONCEPT lists candidates instead")


class ProgressLine(TerminalLine):
    """The download's progress, redrawn when the percentage changes."""

    def __init__(self, stream: TextIO, name: str) -> None:
        super().__init__(stream)
        self.name = name
        self.started = time.monotonic()
        self.first: int | None = None

    def __call__(self, done: int, total: int | None) -> None:
        from ..online.download_target import human_size

        if self.first is None:
            self.first = done
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = human_size(int((done - self.first) / elapsed)) + "/s"
        if total:
            text = f"downloading {self.name}: {100 * done // total:3d}% ({human_size(done)} of {human_size(total)}, {rate})"
        else:
            text = f"downloading {self.name}: {human_size(done)} ({rate})"
        self.show(text, redraw_key=text.split(" (")[0])


def add_arguments(p: argparse.ArgumentParser) -> None:
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--civitai-version", type=int, metavar="ID", help="a CivitAI model version id")
    target.add_argument("--hf-repo", metavar="OWNER/NAME", help="a Hugging Face repository (with --hf-file)")
    target.add_argument("--search", metavar="CONCEPT", help="list online candidates for a concept of the pack's "
                        "vocabulary (e.g. 'pixel art') or a style; only that name is sent")
    p.add_argument("--hf-file", metavar="PATH", help="the file's path in the repository")
    p.add_argument("--file", help="which file of the CivitAI version (name or id; default the primary one)")
    p.add_argument("--kind", choices=["checkpoints", "loras", "vae"], required=True)
    p.add_argument("--models-root", help="a ComfyUI models folder: the file goes into its folder for the kind")
    p.add_argument("--folder", help="the exact folder to download into (instead of --models-root)")
    p.add_argument("--save-as", help="file name to save as (the published format's suffix is kept)")
    p.add_argument("--allow-pickle", action="store_true", help="also accept .ckpt/.pt/.bin files (they can run code)")
    p.add_argument("--yes", action="store_true", help="download; without it nothing is written")
    p.add_argument("--base-model", help="--search: the base model, e.g. 'SD 1.5' (default SD 1.5)")
    p.add_argument("--limit", type=int, default=5, help="--search: candidates to list")
    p.add_argument("--cache-dir", default=CACHE_DIR)
    online_options(p)


def run(args: argparse.Namespace) -> int:
    """`python -m services download`: plan (without --yes) or download one file; `--search CONCEPT` lists
    candidates instead. Progress on standard error, one JSON line on standard output. Exit status: 0 done
    (or planned), 1 the download or search failed, 2 unusable settings or target (nothing was sent)."""
    from ..library.scan import folders_under
    from ..online.download import download
    from ..online.download_target import DownloadError, DownloadRequest, read_api_key, resolve
    from ..online.session import HardenedSession, SettingsError

    try:
        settings = online_settings(args)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.search:
        return search(args, settings)
    try:
        request = DownloadRequest(kind=args.kind, civitai_version=args.civitai_version, hf_repo=args.hf_repo,
                                  hf_file=args.hf_file, civitai_file=args.file, save_as=args.save_as or "",
                                  allow_pickle=args.allow_pickle).checked()
        if args.folder:
            folder = Path(args.folder)
            if not folder.is_dir():  # a typo must not make folders (or write into /proc)
                raise DownloadError("folder", f"--folder {args.folder} is not an existing folder.")
        elif args.models_root:
            if not Path(args.models_root).is_dir():
                raise DownloadError("folder", f"--models-root {args.models_root} is not an existing folder; give "
                                    "ComfyUI's models folder.")
            folder = folders_under(args.models_root)[args.kind][0]
        else:
            raise DownloadError("folder", "give --models-root (a ComfyUI models folder) or --folder.")
    except DownloadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with HardenedSession(settings) as session:
        try:
            plan = resolve(request, session, folder)
        except DownloadError as exc:
            print(f"error: {exc}", file=sys.stderr)
            print(json.dumps({"status": "failed", "reason": exc.reason, "error": str(exc)}))
            return 1
        if not args.yes:
            print(plan.describe(str(folder)) + "\nNothing was downloaded: run again with --yes to download it.",
                  file=sys.stderr)
            print(json.dumps({"status": "planned", **plan.to_dict()}, ensure_ascii=False))
            return 0
        line = ProgressLine(sys.stderr, plan.file_name)
        try:
            result = download(plan, session, args.cache_dir, api_key=read_api_key(os.environ), progress=line)
        except DownloadError as exc:
            line.end()
            print(f"error: {exc}", file=sys.stderr)
            print(json.dumps({"status": "failed", "reason": exc.reason, "error": str(exc)}))
            return 1
        line.end()
    print(result.describe(str(folder)), file=sys.stderr)
    print(json.dumps(result.to_dict(), ensure_ascii=False))
    return 0


def search(args: argparse.Namespace, settings: OnlineSettings) -> int:
    """`python -m services download --search CONCEPT --kind K [--base-model B]`: one JSON line of candidates."""
    from ..library import base_model as bases
    from ..online.session import HardenedSession
    from ..online.suggest import search_candidates, searchable
    from ..text.vocabulary import CONCEPTS, STYLES, concepts_in, fold

    concept = " ".join(fold(args.search).split())
    if not searchable(concept) and len(named := concepts_in(args.search)) == 1:
        concept = next(iter(named))  # a synonym the vocabulary knows: its canonical name is what is sent
    if not searchable(concept):
        print(f"error: only the pack's concept names are searched for (e.g. {', '.join(list(CONCEPTS)[:4])}, or a "
              f"style: {', '.join(STYLES)}), not {args.search!r}", file=sys.stderr)
        return 2
    base = bases.canonical_base(args.base_model) if args.base_model else None
    family = bases.family_of(base) if base else "sd15"
    with HardenedSession(settings) as session:
        suggestion = search_candidates(concept, args.kind, family, base, session, limit=args.limit)
    print("\n".join(suggestion.explain()), file=sys.stderr)
    print(json.dumps(suggestion.to_dict(), ensure_ascii=False))
    return 1 if suggestion.errors and not suggestion.candidates else 0
