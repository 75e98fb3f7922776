"""Command line: the pack's logic for scripting and debugging (`python -m services --help`)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__

if TYPE_CHECKING:
    from .analysis import PromptAnalysis
    from .library import Library


def _analysis(args: argparse.Namespace, prompt: str, negative: str, library: Library | None = None) -> PromptAnalysis:
    """As the Prompt Analyzer node analyses (services.recommend.analyze_prompt): with the library, the LLM
    judges what its search found, and answers are cached in --cache-dir."""
    from .analysis import analyze_keywords
    from .recommend import analyze_prompt

    if args.no_ollama:
        return analyze_keywords(prompt, negative)
    from .ollama_analyzer import OllamaSettings, analyze

    settings = OllamaSettings.from_env()
    settings = replace(settings, host=args.ollama_url or settings.host, model=args.ollama_model or settings.model)
    if library is None:
        return analyze(prompt, negative, settings)
    return analyze_prompt(library, prompt, negative, settings, getattr(args, "cache_dir", None))


def cmd_analyze(args: argparse.Namespace) -> int:
    print(json.dumps(_analysis(args, args.prompt, args.negative).to_dict(), indent=2, ensure_ascii=False))
    return 0


def cmd_scan(args: argparse.Namespace) -> int:
    from .library import folders_under, scan

    library = scan(folders_under(args.models_root), args.cache_dir)
    for entry in library.entries:
        problems = f"  ! {'; '.join(entry.problems)}" if entry.problems else ""
        print(f"{entry.kind:12} {entry.family:8} {entry.base_model or '-':12} {entry.name}{problems}")
    print(f"{len(library.entries)} models", file=sys.stderr)
    return 0


def cmd_recommend(args: argparse.Namespace) -> int:
    from .library import folders_under, scan
    from .recommend import recommend
    from .selection import SelectionError

    library = scan(folders_under(args.models_root), args.cache_dir)
    vram_gb = args.vram_gb
    if vram_gb is None:
        from .stats import model_memory_budget

        vram_gb, source = model_memory_budget()
        print(f"memory budget: {f'{vram_gb:.1f} GB' if vram_gb else 'none'} from {source}", file=sys.stderr)
    if args.prompts_file:
        lines = Path(args.prompts_file).read_text(encoding="utf-8").splitlines()
        requests = [json.loads(line) for line in lines if line.strip()]
    else:
        requests = [{"prompt": args.prompt or "", "negative_prompt": args.negative}]
    status = 0
    for request in requests:
        analysis = _analysis(args, request.get("prompt", ""), request.get("negative_prompt", ""), library)
        answer = {"id": request["id"]} if request.get("id") is not None else {}
        try:
            answer |= recommend(library, analysis, args.max_loras, vram_gb=vram_gb, quality=args.quality).to_dict()
        except SelectionError as exc:
            answer["error"] = str(exc)
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
    from .image_file import RECORD_KEY, read_metadata
    from .saved_generation import read_generation

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


def cmd_feedback(args: argparse.Namespace) -> int:
    from .feedback import FeedbackError, FeedbackStore, record_from_image

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


def _ollama_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-ollama", action="store_true", help="keyword analysis only, no LLM")
    p.add_argument("--ollama-url", help="Ollama server (default: $OLLAMA_HOST or http://127.0.0.1:11434)")
    p.add_argument("--ollama-model", help="an installed model name, or auto")


def cmd_metadata(args: argparse.Namespace) -> int:
    from .metadata_fetch import run_command

    return run_command(args)


def cmd_download(args: argparse.Namespace) -> int:
    from .download import run_command

    return run_command(args)


def cmd_stats(args: argparse.Namespace) -> int:
    from .library import folders_under, scan
    from .stats import collect_stats

    cache = Path(args.cache_dir)
    print(json.dumps(collect_stats(scan(folders_under(args.models_root), cache), cache, not args.no_system),
                     indent=2, ensure_ascii=False))
    return 0


def cmd_duplicates(args: argparse.Namespace) -> int:
    from .duplicates import library_copies, summary
    from .library import folders_under, scan

    library = scan(folders_under(args.models_root), args.cache_dir)

    def progress(done: int, total: int) -> None:
        print(f"\rhashing candidates: {100 * done // max(total, 1)}%", end="", file=sys.stderr, flush=True)

    groups = library_copies(library, args.cache_dir, confirm=not args.no_hash, progress=progress)
    print(file=sys.stderr)
    print(json.dumps({**summary(groups), "duplicates": [g.to_dict() for g in groups]}, indent=2, ensure_ascii=False))
    return 0


def cmd_updates(args: argparse.Namespace) -> int:
    from .library import folders_under, scan
    from .online import OnlineSettings, SettingsError
    from .updates import check_updates, known_on_civitai

    try:
        settings = OnlineSettings(civitai_url=args.civitai_url, proxy=args.proxy or None,
                                  rate_per_second=args.rate).checked()
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


def _library_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--models-root", required=True)
    p.add_argument("--cache-dir", default=str(Path.home() / ".cache" / "intelligent-generation"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m services", description="Intelligent Generation " + __version__)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("analyze", help="analyse a prompt (style, content, concepts)")
    p.add_argument("prompt")
    p.add_argument("--negative", default="")
    _ollama_options(p)
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("scan", help="list the models under a ComfyUI-style models folder")
    p.add_argument("--models-root", required=True)
    p.add_argument("--cache-dir", help="keep the index here, so a rescan only stats files")
    p.set_defaults(func=cmd_scan)

    p = sub.add_parser("recommend", help="recommend checkpoint, VAE, parameters and LoRAs (one JSON line per prompt)")
    p.add_argument("--models-root", required=True)
    p.add_argument("--prompt")
    p.add_argument("--negative", default="")
    p.add_argument("--prompts-file", help="JSON lines with id, prompt, negative_prompt")
    p.add_argument("--cache-dir", default=str(Path.home() / ".cache" / "intelligent-generation"))
    p.add_argument("--max-loras", type=int, default=3)
    p.add_argument("--vram-gb", type=float, help="leave out checkpoints that need more memory than this "
                   "(default: the NVIDIA GPU's through pynvml, else the system's through psutil; 0: no limit)")
    p.add_argument("--quality", choices=["fast", "balanced", "high", "ultra"], default="balanced")
    _ollama_options(p)
    p.set_defaults(func=cmd_recommend)

    p = sub.add_parser("hash", help="SHA-256, AutoV2 and AutoV3 of model files (cached)")
    p.add_argument("files", nargs="+")
    p.add_argument("--cache-dir", default=str(Path.home() / ".cache" / "intelligent-generation"))
    p.set_defaults(func=cmd_hash)

    p = sub.add_parser("metadata", help="hash a models folder and look the files up on CivitAI / Hugging Face "
                       "(online: only hashes are sent); one JSON line of counts")
    _library_options(p)
    p.add_argument("--civitai-url", default="https://civitai.com", help="https://civitai.com or https://civitai.red")
    p.add_argument("--hf-url", default="https://huggingface.co")
    p.add_argument("--rate", type=float, default=1.0, help="requests per second at most (default 1)")
    p.add_argument("--proxy", help="socks5h://host:port (e.g. Tor) or http://host:port; fails closed")
    p.add_argument("--write-sidecars", action="store_true", help="also write <model>.ig.json next to each found model")
    p.add_argument("--keep-previews", choices=["PG", "PG-13", "R", "X", "XXX"],
                   help="also keep each found model's first example image rated at most this, in the cache folder")
    p.set_defaults(func=cmd_metadata)

    p = sub.add_parser("download", help="download one model (a CivitAI model version, or a Hugging Face repository "
                       "file) into a models folder, SHA-256 verified and resumable; without --yes it only says what it "
                       "would download. --search CONCEPT lists candidates instead")
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
    p.add_argument("--cache-dir", default=str(Path.home() / ".cache" / "intelligent-generation"))
    p.add_argument("--civitai-url", default="https://civitai.com", help="https://civitai.com or https://civitai.red")
    p.add_argument("--hf-url", default="https://huggingface.co")
    p.add_argument("--rate", type=float, default=1.0, help="requests per second at most (default 1)")
    p.add_argument("--proxy", help="socks5h://host:port (e.g. Tor) or http://host:port; fails closed")
    p.set_defaults(func=cmd_download)

    p = sub.add_parser("feedback", help="your ratings: export, delete, or rate a saved image (all local)")
    p.add_argument("action", choices=["export", "delete", "rate"])
    p.add_argument("--cache-dir", default=str(Path.home() / ".cache" / "intelligent-generation"))
    p.add_argument("--out", help="export: write JSON here instead of standard output")
    p.add_argument("--id", help="delete: one generation id")
    p.add_argument("--all", action="store_true", help="delete: every rating")
    p.add_argument("--image", help="rate: an image saved by Save With Metadata")
    p.add_argument("--rating", type=int, default=3, help="rate: 1 to 5 stars")
    p.add_argument("--comment", default="")
    p.set_defaults(func=cmd_feedback)

    p = sub.add_parser("read-image", help="what a saved image says about its generation, as JSON (PNG, JPEG, WebP)")
    p.add_argument("image")
    p.add_argument("--all", action="store_true", help="add the embedded chunks themselves")
    p.set_defaults(func=cmd_read_image)

    p = sub.add_parser("stats", help="library statistics: counts by kind and base model, metadata coverage, cache "
                       "size, CPU, RAM and GPU (JSON); read-only")
    p.add_argument("--models-root", required=True)
    p.add_argument("--cache-dir", default=str(Path.home() / ".cache" / "intelligent-generation"),
                   help="where scan and metadata keep the index, hashes and records")
    p.add_argument("--no-system", action="store_true", help="leave out CPU, RAM and GPU")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("duplicates", help="copies of one model in several places, with the bytes they waste (JSON); "
                       "hashes only files of one size and fingerprint, deletes nothing")
    _library_options(p)
    p.add_argument("--no-hash", action="store_true", help="hash nothing: list candidates as unconfirmed")
    p.set_defaults(func=cmd_duplicates)

    p = sub.add_parser("updates", help="newer CivitAI versions, for the same base model, of the models whose record "
                       "knows their CivitAI id (online: only those model ids are sent); one JSON line per model")
    _library_options(p)
    p.add_argument("--civitai-url", default="https://civitai.com", help="https://civitai.com or https://civitai.red")
    p.add_argument("--rate", type=float, default=1.0, help="requests per second at most (default 1)")
    p.add_argument("--proxy", help="socks5h://host:port (e.g. Tor) or http://host:port; fails closed")
    p.set_defaults(func=cmd_updates)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a hostile file or a bad path: one clear line, the traceback only when asked
        if args.verbose:
            raise
        print(f"{args.command}: {type(exc).__name__}: {exc} (run with --verbose for the details)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
