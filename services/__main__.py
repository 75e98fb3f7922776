"""Command line: the pack's logic for scripting and debugging (`python -m services --help`)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from . import __version__


def _analysis(args: argparse.Namespace, prompt: str, negative: str):  # type: ignore[no-untyped-def]
    from .analysis import analyze_keywords

    if getattr(args, "no_ollama", True):
        return analyze_keywords(prompt, negative)
    from .ollama_analyzer import analyze

    return analyze(prompt, negative)


def cmd_analyze(args: argparse.Namespace) -> int:
    print(json.dumps(_analysis(args, args.prompt, args.negative).to_dict(), indent=2, ensure_ascii=False))
    return 0


def cmd_scan(args: argparse.Namespace) -> int:
    from .library import folders_under, scan

    library = scan(folders_under(args.models_root))
    for entry in library.entries:
        problems = f"  ! {'; '.join(entry.problems)}" if entry.problems else ""
        print(f"{entry.kind:12} {entry.family:8} {entry.base_model or '-':12} {entry.name}{problems}")
    print(f"{len(library.entries)} models", file=sys.stderr)
    return 0


def cmd_recommend(args: argparse.Namespace) -> int:
    from .library import folders_under, scan
    from .recommend import recommend
    from .selection import SelectionError

    library = scan(folders_under(args.models_root))
    if args.prompts_file:
        lines = Path(args.prompts_file).read_text(encoding="utf-8").splitlines()
        requests = [json.loads(line) for line in lines if line.strip()]
    else:
        requests = [{"id": "1", "prompt": args.prompt or "", "negative_prompt": args.negative}]
    status = 0
    for request in requests:
        analysis = _analysis(args, request.get("prompt", ""), request.get("negative_prompt", ""))
        try:
            answer = {"id": request.get("id"), **recommend(library, analysis, args.max_loras).to_dict()}
        except SelectionError as exc:
            answer = {"id": request.get("id"), "error": str(exc)}
            status = 1
        print(json.dumps(answer, ensure_ascii=False))
    return status


def cmd_hash(args: argparse.Namespace) -> int:
    from .hashing import HashCache

    cache = HashCache(args.cache_dir)
    for name in args.files:
        def progress(done: int, total: int, name: str = name) -> None:
            print(f"\r{name}: {100 * done // max(total, 1)}%", end="", file=sys.stderr, flush=True)

        h = cache.hashes(name, progress=progress)
        print(file=sys.stderr)
        print(json.dumps({"file": Path(name).name, "sha256": h.sha256, "autov2": h.autov2, "autov3": h.autov3}))
    return 0


def cmd_read_image(args: argparse.Namespace) -> int:
    from .image_file import RECORD_KEY, read_png_text

    chunks = read_png_text(args.image)
    print("parameters:\n" + chunks.get("parameters", "(none)"))
    if RECORD_KEY in chunks:
        print(f"{RECORD_KEY}:\n" + json.dumps(json.loads(chunks[RECORD_KEY]), indent=2, ensure_ascii=False))
    print("ComfyUI chunks: " + ", ".join(k for k in ("prompt", "workflow") if k in chunks))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m services", description="Intelligent Generation " + __version__)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("analyze", help="analyse a prompt (style, content, concepts)")
    p.add_argument("prompt")
    p.add_argument("--negative", default="")
    p.add_argument("--no-ollama", action="store_true", default=True)
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("scan", help="list the models under a ComfyUI-style models folder")
    p.add_argument("--models-root", required=True)
    p.set_defaults(func=cmd_scan)

    p = sub.add_parser("recommend", help="recommend checkpoint, VAE, parameters and LoRAs (one JSON line per prompt)")
    p.add_argument("--models-root", required=True)
    p.add_argument("--prompt")
    p.add_argument("--negative", default="")
    p.add_argument("--prompts-file", help="JSON lines with id, prompt, negative_prompt")
    p.add_argument("--cache-dir", default=str(Path.home() / ".cache" / "intelligent-generation"))
    p.add_argument("--max-loras", type=int, default=3)
    p.add_argument("--no-ollama", action="store_true", default=True)
    p.set_defaults(func=cmd_recommend)

    p = sub.add_parser("hash", help="SHA-256, AutoV2 and AutoV3 of model files (cached)")
    p.add_argument("files", nargs="+")
    p.add_argument("--cache-dir", default=str(Path.home() / ".cache" / "intelligent-generation"))
    p.set_defaults(func=cmd_hash)

    p = sub.add_parser("read-image", help="print the metadata embedded in a saved image")
    p.add_argument("image")
    p.set_defaults(func=cmd_read_image)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
