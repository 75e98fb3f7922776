"""Arguments several commands share."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..online.session import OnlineSettings

CACHE_DIR = str(Path.home() / ".cache" / "intelligent-generation")


def library_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--models-root", required=True)
    p.add_argument("--cache-dir", default=CACHE_DIR)


def ollama_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-ollama", action="store_true", help="keyword analysis only, no LLM")
    p.add_argument("--ollama-url", help="Ollama server (default: $OLLAMA_HOST or http://127.0.0.1:11434)")
    p.add_argument("--ollama-model", help="an installed model name, or auto")


def online_options(p: argparse.ArgumentParser, hugging_face: bool = True) -> None:
    p.add_argument("--civitai-url", default="https://civitai.com", help="https://civitai.com or https://civitai.red")
    if hugging_face:
        p.add_argument("--hf-url", default="https://huggingface.co")
    p.add_argument("--rate", type=float, default=1.0, help="requests per second at most (default 1)")
    p.add_argument("--proxy", help="socks5h://host:port (e.g. Tor) or http://host:port; fails closed")


def online_settings(args: argparse.Namespace) -> OnlineSettings:
    """The settings `online_options` read, checked (SettingsError says what is wrong; nothing was sent)."""
    from ..online.session import DEFAULT_HF_URL, OnlineSettings

    return OnlineSettings(civitai_url=args.civitai_url, hf_url=getattr(args, "hf_url", DEFAULT_HF_URL),
                          proxy=args.proxy or None, rate_per_second=args.rate).checked()
