"""Output file names: UTC timestamp + random hex, a prompt slug, or a bare UUID4.

Names are ASCII, free of characters Windows, macOS or Linux reject, and carry
enough randomness that two saves never collide.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import datetime, timezone

MODES = ("standard", "descriptive", "guid")
SLUG_WORDS = 6
SLUG_CHARS = 40


def slugify(text: str) -> str:
    """ASCII words of the prompt, joined by '-', without weighting syntax or LoRA tags."""
    text = re.sub(r"<[^>]*>", " ", text)
    text = re.sub(r":[-+]?\d*\.?\d+", " ", text)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    slug = "-".join(words[:SLUG_WORDS])[:SLUG_CHARS].strip("-")
    return slug or "image"


def make_name(mode: str, prompt: str = "", now: datetime | None = None, guid: uuid.UUID | None = None) -> str:
    """A file stem (no extension)."""
    guid = guid or uuid.uuid4()
    if mode == "guid":
        return str(guid)
    stamp = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y%m%d_%H%M%S")
    if mode == "descriptive":
        return f"{stamp}_{slugify(prompt)}_{guid.hex[:8]}"
    if mode == "standard":
        return f"{stamp}_{guid.hex[:8]}"
    raise ValueError(f"Unknown naming mode '{mode}'; use one of {', '.join(MODES)}.")
