"""`python -m services recommend`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .analyze import analysis_of
from .options import CACHE_DIR, ollama_options

if TYPE_CHECKING:
    from ..library.scan import Library
    from ..recommend.analysis import PromptAnalysis
    from ..recommend.pipeline import Recommendation

HELP = "recommend checkpoint, VAE, parameters and LoRAs (one JSON line per prompt)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--models-root", required=True)
    p.add_argument("--prompt")
    p.add_argument("--negative", default="")
    p.add_argument("--prompts-file", help="JSON lines with id, prompt, negative_prompt")
    p.add_argument("--cache-dir", default=CACHE_DIR)
    p.add_argument("--max-loras", type=int, default=3)
    p.add_argument("--vram-gb", type=float, help="leave out checkpoints that need more memory than this "
                   "(default: the NVIDIA GPU's through pynvml, else the system's through psutil; 0: no limit)")
    p.add_argument("--quality", choices=["fast", "balanced", "high", "ultra"], default="balanced")
    ollama_options(p)


def run(args: argparse.Namespace) -> int:
    from ..library.scan import folders_under, remember_listings, scan
    from ..recommend.checkpoint import SelectionError

    folders = folders_under(args.models_root)
    remember_listings(args.cache_dir)  # each answer's files are checked before they are printed (_checked)
    library = scan(folders, args.cache_dir)
    vram_gb = args.vram_gb
    if vram_gb is None:
        from ..library.stats import model_memory_budget

        vram_gb, source = model_memory_budget()
        print(f"memory budget: {f'{vram_gb:.1f} GB' if vram_gb else 'none'} from {source}", file=sys.stderr)
    if args.prompts_file:
        lines = Path(args.prompts_file).read_text(encoding="utf-8").splitlines()
        requests = [json.loads(line) for line in lines if line.strip()]
    else:
        requests = [{"prompt": args.prompt or "", "negative_prompt": args.negative}]
    status = 0
    for request in requests:
        analysis = analysis_of(args, request.get("prompt", ""), request.get("negative_prompt", ""), library)
        answer = {"id": request["id"]} if request.get("id") is not None else {}
        try:
            library, found = _checked(library, folders, args, analysis, vram_gb)
            answer |= found.to_dict()
        except SelectionError as exc:
            answer["error"] = str(exc)
            status = 1
        print(json.dumps(answer, ensure_ascii=False))
    return status


def _checked(library: Library, folders: dict[str, list[Path]], args: argparse.Namespace, analysis: PromptAnalysis,
             vram_gb: float | None) -> tuple[Library, Recommendation]:
    """The recommendation, made again from a fresh scan when one of the files it uses was rewritten in place
    since the saved listings were made (their cached facts would be stale)."""
    from ..library.scan import scan, stale
    from ..recommend.pipeline import recommend

    found = recommend(library, analysis, args.max_loras, vram_gb=vram_gb, quality=args.quality)
    used = [("checkpoints", found.selection.checkpoint), *(("vae", v) for v in [found.selection.vae] if v),
            *(("loras", p.name) for p in found.plan.loras)]
    if stale(library, used):
        library = scan(folders, args.cache_dir)
        found = recommend(library, analysis, args.max_loras, vram_gb=vram_gb, quality=args.quality)
    return library, found
