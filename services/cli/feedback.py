"""`python -m services feedback`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .options import CACHE_DIR

HELP = "your ratings: export, delete, or rate a saved image (all local)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["export", "delete", "rate"])
    p.add_argument("--cache-dir", default=CACHE_DIR)
    p.add_argument("--out", help="export: write JSON here instead of standard output")
    p.add_argument("--id", help="delete: one generation id")
    p.add_argument("--all", action="store_true", help="delete: every rating")
    p.add_argument("--image", help="rate: an image saved by Save With Metadata")
    p.add_argument("--rating", type=int, default=3, help="rate: 1 to 5 stars")
    p.add_argument("--comment", default="")


def run(args: argparse.Namespace) -> int:
    from ..recommend.feedback import FeedbackError, FeedbackStore, record_from_image

    store = FeedbackStore(args.cache_dir)
    if args.action == "export":
        text = json.dumps(store.export(), indent=2, ensure_ascii=False)
        if args.out:
            Path(args.out).write_text(text + "\n", encoding="utf-8")
            print(f"wrote {len(store.export())} ratings to {args.out}", file=sys.stderr)
        else:
            print(text)
        return 0
    if args.action == "delete":
        if not args.id and not args.all:
            print("delete needs --id GENERATION_ID or --all", file=sys.stderr)
            return 2
        print(json.dumps({"deleted": store.delete(None if args.all else args.id)}))
        return 0
    record = record_from_image(args.image) if args.image else None
    if record is None:
        print("rate needs --image with an image saved by Save With Metadata", file=sys.stderr)
        return 2
    try:
        row = store.rate(record, args.rating, args.comment)
    except FeedbackError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(json.dumps({"rated": row["generation_id"], "rating": row["rating"]}))
    return 0
