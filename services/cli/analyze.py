"""`python -m services analyze`."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from typing import TYPE_CHECKING

from .options import ollama_options

if TYPE_CHECKING:
    from ..library.scan import Library
    from ..recommend.analysis import PromptAnalysis

HELP = "analyse a prompt (style, content, concepts)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("prompt")
    p.add_argument("--negative", default="")
    ollama_options(p)


def analysis_of(args: argparse.Namespace, prompt: str, negative: str, library: Library | None = None) -> PromptAnalysis:
    """As the Prompt Analyzer node analyses (services.recommend.pipeline.analyze_prompt): with the library, the LLM
    judges what its search found, and answers are cached in --cache-dir."""
    from ..recommend.analysis import analyze_keywords
    from ..recommend.pipeline import analyze_prompt

    if args.no_ollama:
        return analyze_keywords(prompt, negative)
    from ..recommend.llm import OllamaSettings, analyze

    settings = OllamaSettings.from_env()
    settings = replace(settings, host=args.ollama_url or settings.host, model=args.ollama_model or settings.model)
    if library is None:
        return analyze(prompt, negative, settings)
    return analyze_prompt(library, prompt, negative, settings, getattr(args, "cache_dir", None))


def run(args: argparse.Namespace) -> int:
    print(json.dumps(analysis_of(args, args.prompt, args.negative).to_dict(), indent=2, ensure_ascii=False))
    return 0
