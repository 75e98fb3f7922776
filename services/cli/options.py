"""Arguments several commands share."""

from __future__ import annotations

import argparse
from pathlib import Path

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
